// Questions asked of the index: which sessions, in what order, a page at a time; and full-text
// search, by session (best first, with a snippet) or by message.
import { UsageError } from '../cli/errors.js';
import { KINDS, type Kind } from '../core/kinds.js';
import { sourceKindOf, sourceKinds } from '../core/record.js';
import type { Database } from './db.js';
import type { Row } from './scan.js';
import { badQuery, ftsMatch } from './fts.js';

export type SortKey = 'created' | 'updated' | 'size' | 'tokens' | 'turns';
const SORT_COLUMNS: Record<SortKey, string> = {
  created: 'created_at',
  updated: 'updated_at',
  size: 'size',
  tokens: 'tokens',
  turns: 'turns',
};

/** Every spelling `--sort` takes: each key, and `-key` for descending. */
export const SORT_SPECS: readonly string[] = Object.keys(SORT_COLUMNS).flatMap((k) => [k, `-${k}`]);

export interface Sort {
  key: SortKey | 'rank';
  descending: boolean;
}

/** `updated` (oldest first) or `-updated` (newest first), and so on. */
export function parseSort(spec: string): Sort {
  const descending = spec.startsWith('-');
  const key = (descending ? spec.slice(1) : spec) as SortKey;
  if (!(key in SORT_COLUMNS)) throw new UsageError(`--sort takes created, updated, size, tokens or turns (with - to reverse), not '${spec}'`);
  return { key, descending };
}

/**
 * The selection language (lib/select/ parses it from the command line): which sessions, with one
 * meaning in every binary that chooses sessions. Each filter narrows; none given, all sessions of
 * the roots are chosen.
 */
export interface Filters {
  /** Started in one of these folders or below one (each folder given as written and as its real path). */
  cwd?: string[];
  /** Which roots: `exclude` (active only, the default), `include` (both) or `only` archived. */
  archived?: 'exclude' | 'include' | 'only';
  /** Last activity at or after / before these instants (ms). */
  since?: number;
  until?: number;
  model?: string[];
  provider?: string[];
  /** Source kinds, as sourceKinds() names them: `exec`, `subagent` (any), `subagent:review`, ... */
  source?: string[];
  /** Leave out subagent threads (of any kind). */
  noSubagents?: boolean;
  name?: string[];
  /** Only sessions without a name. */
  unnamed?: boolean;
  forkedFrom?: string;
  /** All of the session's files together, on disk. */
  minSize?: number;
  /** Spare, per working directory, the N most recently active sessions of the roots. */
  keepLast?: number;
  /** Only sessions with a message matching this full-text query. */
  search?: string;
  /** Only these threads (sessions named one by one). */
  ids?: string[];
}

export interface Query extends Filters {
  sort: Sort;
  limit?: number;
  cursor?: string;
}

/** The row's fields that a listing shows as they are stored. */
type Kept =
  | 'id'
  | 'path'
  | 'root'
  | 'rollout_id'
  | 'history_mode'
  | 'size'
  | 'cwd'
  | 'title'
  | 'turns'
  | 'tokens'
  | 'bad_lines'
  | 'model'
  | 'effort'
  | 'model_provider'
  | 'originator'
  | 'cli_version'
  | 'git_branch'
  | 'git_sha'
  | 'git_origin_url'
  | 'forked_from_id'
  | 'parent_thread_id'
  | 'history_base';

/** A session as listed: the row's fields, with times as ISO strings and flags as booleans. */
export interface Listed extends Pick<Row, Kept> {
  archived: boolean;
  compressed: boolean;
  created_at: string | null;
  updated_at: string | null;
  name: string | null;
  source: unknown;
  generation: string | null;
  snippet?: string;
}

export interface Hit {
  id: string;
  path: string;
  line: number;
  ordinal: number | null;
  role: string;
  snippet: string;
}

export interface Page<T> {
  rows: T[];
  next?: string;
}

const iso = (ms: number): string | null => (ms > 0 ? new Date(ms).toISOString() : null);

function sourceValue(s: string | null): unknown {
  if (s === null || !s.startsWith('{')) return s;
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/**
 * The columns `listed` reads: a listing selects these, not s.*, whose state, usage and tail columns
 * were most of the time of listing ten thousand sessions.
 */
const LISTED_COLUMNS = `s.id, s.path, s.root, s.archived, s.compressed, s.created_at, s.updated_at, s.cwd, s.title, s.turns,
  s.tokens, s.size, s.model, s.effort, s.model_provider, s.source, s.originator, s.cli_version, s.git_branch, s.git_sha,
  s.git_origin_url, s.forked_from_id, s.parent_thread_id, s.history_base, s.history_mode, s.generation, s.rollout_id, s.bad_lines`;

function listed(r: any): Listed {
  const out: Listed = {
    id: r.id,
    path: r.path,
    root: r.root,
    archived: r.archived === 1,
    compressed: r.compressed === 1,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
    cwd: r.cwd,
    title: r.title,
    name: r.name ?? null,
    turns: r.turns,
    tokens: r.tokens,
    size: r.size,
    model: r.model,
    effort: r.effort,
    model_provider: r.model_provider,
    source: sourceValue(r.source),
    originator: r.originator,
    cli_version: r.cli_version,
    git_branch: r.git_branch,
    git_sha: r.git_sha,
    git_origin_url: r.git_origin_url,
    forked_from_id: r.forked_from_id,
    parent_thread_id: r.parent_thread_id,
    history_base: r.history_base,
    history_mode: r.history_mode,
    generation: r.generation,
    rollout_id: r.rollout_id,
    bad_lines: r.bad_lines,
  };
  return out;
}

// Cursors are opaque to users: the last row's sort value and id, so a page starts strictly after it
// and rows that share a sort value are neither skipped nor repeated.
interface Cursor {
  k: string;
  v: number;
  id: string;
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

function decodeCursor(s: string, key: string): Cursor {
  let c: Cursor;
  try {
    c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    throw new UsageError(`--cursor '${s}' is not a cursor printed by rollout-ls`);
  }
  if (typeof c?.v !== 'number' || typeof c.id !== 'string' || typeof c.k !== 'string')
    throw new UsageError(`--cursor '${s}' is not a cursor printed by rollout-ls`);
  if (c.k !== key) throw new UsageError(`--cursor was made for --sort ${c.k}, not ${key}`);
  return c;
}

const sortName = (s: Sort) => (s.descending ? '-' : '') + s.key;

const escapeLike = (s: string) => s.replace(/[%_\\]/g, (c) => '\\' + c);

/** The roots a filter set chooses from, over a row `alias`. */
function rootsClause(f: Filters, alias: string): string | null {
  if (f.archived === 'include') return null;
  return f.archived === 'only' ? `${alias}.archived = 1` : `${alias}.archived = 0`;
}

const withFunctions = new WeakSet<Database>();

/** SQL functions the filters use: `has_source(source, thread_source, kind)`, and `source_kind(source, thread_source)`. */
function ensureFunctions(db: Database): void {
  if (withFunctions.has(db)) return;
  withFunctions.add(db);
  db.function('source_kind', { deterministic: true }, (source: unknown, threadSource: unknown) =>
    sourceKindOf(typeof source === 'string' ? source : null, typeof threadSource === 'string' ? threadSource : null),
  );
  db.function('has_source', { deterministic: true }, (source: unknown, threadSource: unknown, kind: unknown) => {
    const parsed = typeof source === 'string' && source.startsWith('{') ? safeParse(source) : source;
    return sourceKinds({ source: parsed as never, thread_source: threadSource as never }).includes(String(kind)) ? 1 : 0;
  });
}

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** The WHERE clause for the filters, over `s` (sessions) and `n` (names). */
function where(db: Database, f: Filters, params: unknown[]): string[] {
  ensureFunctions(db);
  const w = ['s.current = 1'];
  const inList = (column: string, values: string[] | undefined) => {
    if (!values?.length) return;
    w.push(`${column} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
  };
  const roots = rootsClause(f, 's');
  if (roots) w.push(roots);
  if (f.cwd?.length) {
    // A folder, or any below it.
    const dirs = f.cwd.map((d) => (d.length > 1 ? d.replace(/\/+$/, '') : d));
    w.push(`(${dirs.map(() => "(s.cwd = ? OR s.cwd LIKE ? ESCAPE '\\')").join(' OR ')})`);
    for (const d of dirs) params.push(d, `${escapeLike(d === '/' ? '' : d)}/%`);
  }
  inList('s.model', f.model);
  inList('s.model_provider', f.provider);
  if (f.source?.length) {
    w.push(`(${f.source.map(() => 'has_source(s.source, s.thread_source, ?)').join(' OR ')})`);
    params.push(...f.source);
  }
  if (f.noSubagents) w.push("NOT has_source(s.source, s.thread_source, 'subagent')");
  inList('n.name', f.name);
  if (f.unnamed) w.push('n.name IS NULL');
  if (f.since !== undefined) {
    w.push('s.updated_at >= ?');
    params.push(f.since);
  }
  if (f.until !== undefined) {
    w.push('s.updated_at < ?');
    params.push(f.until);
  }
  if (f.forkedFrom) {
    w.push("(s.forked_from_id = ? OR s.forked_from_id LIKE ? ESCAPE '\\')");
    params.push(f.forkedFrom, `${escapeLike(f.forkedFrom)}%`);
  }
  if (f.minSize !== undefined) {
    w.push('(SELECT sum(x.size) FROM sessions x WHERE x.id = s.id) >= ?');
    params.push(f.minSize);
  }
  if (f.ids) {
    w.push('s.id IN (SELECT value FROM json_each(?))');
    params.push(JSON.stringify(f.ids));
  }
  if (f.keepLast !== undefined) {
    // The N most recently active of each directory survive, among all the sessions of the roots.
    const population = rootsClause(f, 'p');
    w.push(`s.id NOT IN (SELECT id FROM (SELECT p.id AS id, row_number() OVER (PARTITION BY coalesce(p.cwd, '') ORDER BY p.updated_at DESC, p.id DESC) AS rn
      FROM sessions p WHERE p.current = 1${population ? ` AND ${population}` : ''}) WHERE rn <= ?)`);
    params.push(f.keepLast);
  }
  if (f.search !== undefined) {
    // A session with a matching message in any of its files.
    w.push('s.id IN (SELECT f.id FROM docs d JOIN sessions f ON f.file = (d.rowid >> 32) WHERE docs MATCH ?)');
    params.push(ftsMatch(f.search));
  }
  return w;
}

/**
 * The thread ids the filters choose, in no particular order: what a binary that acts on sessions
 * (prune, and those to come) takes from the selection language.
 */
export function selectIds(db: Database, f: Filters): string[] {
  const params: unknown[] = [];
  const w = where(db, f, params);
  const run = () =>
    db
      .prepare(`SELECT s.id FROM sessions s LEFT JOIN names n ON n.id = s.id WHERE ${w.join(' AND ')}`)
      .pluck()
      .all(...params) as string[];
  return f.search === undefined ? run() : ftsQuery(db, f.search, run);
}

/**
 * The threads the filters choose, kept in the connection's own temporary table `chosen` rather than
 * in the heap: at 100,000 sessions a prune chooses most of them. Ordered by the name of each
 * thread's current file (oldest first, as discovery sorts), so that they can be taken a page at a
 * time; each carries what became of it (`done`: 0 not yet, 1 acted on, 2 left alone), which the
 * sessions that read it through `history_base` depend on.
 */
export class ChosenThreads {
  private readonly rankOf;
  private readonly doneOf;
  private readonly setDone;

  constructor(
    private readonly db: Database,
    f: Filters,
  ) {
    db.exec(
      'CREATE TEMP TABLE IF NOT EXISTS chosen (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, done INTEGER NOT NULL DEFAULT 0); DELETE FROM temp.chosen;',
    );
    const params: unknown[] = [];
    const w = where(db, f, params);
    const fill = () =>
      db
        .prepare(
          `INSERT INTO temp.chosen (id) SELECT s.id FROM sessions s LEFT JOIN names n ON n.id = s.id WHERE ${w.join(' AND ')} ORDER BY s.name_at, s.rollout_id, s.path`,
        )
        .run(...params);
    if (f.search === undefined) fill();
    else ftsQuery(db, f.search, fill);
    this.rankOf = db.prepare('SELECT seq FROM temp.chosen WHERE id = ?').pluck();
    this.doneOf = db.prepare('SELECT done FROM temp.chosen WHERE id = ?').pluck();
    this.setDone = db.prepare('UPDATE temp.chosen SET done = ? WHERE id = ?');
  }

  /** How many threads, and the bytes of their files in `roots` as the index has them (a progress bar's total). */
  totals(roots: Filters['archived']): { count: number; bytes: number } {
    const r = rootsClause({ archived: roots }, 's');
    return this.db
      .prepare(
        `SELECT count(DISTINCT c.id) AS count, coalesce(sum(s.size), 0) AS bytes FROM temp.chosen c JOIN sessions s ON s.id = c.id${r ? ` WHERE ${r}` : ''}`,
      )
      .get() as { count: number; bytes: number };
  }

  /**
   * The paths of the files in `roots` of the threads ranked after `after`, up to `limit` threads: for
   * each, its rank and thread id, oldest name first.
   */
  files(after: number, limit: number, roots: Filters['archived']): Array<{ seq: number; id: string; path: string }> {
    const r = rootsClause({ archived: roots }, 's');
    return this.db
      .prepare(
        `SELECT c.seq, c.id, s.path FROM (SELECT seq, id FROM temp.chosen WHERE seq > ? ORDER BY seq LIMIT ?) c
         JOIN sessions s ON s.id = c.id${r ? ` AND ${r}` : ''} ORDER BY c.seq, s.name_at, s.rollout_id, s.path`,
      )
      .all(after, limit) as Array<{ seq: number; id: string; path: string }>;
  }

  /** Where the thread stands in the choice (from 1), or 0 when it was not chosen. */
  rank(id: string): number {
    return (this.rankOf.get(id) as number | undefined) ?? 0;
  }

  /** Whether the thread was chosen and acted on; `done` records it. */
  acted(id: string): boolean {
    return this.doneOf.get(id) === 1;
  }

  /** Whether a decision was made about the thread (acted on or left alone). */
  decided(id: string): boolean {
    return ((this.doneOf.get(id) as number | undefined) ?? 0) !== 0;
  }

  done(id: string, acted: boolean): void {
    this.setDone.run(acted ? 1 : 2, id);
  }

  /**
   * Runs `work` (a page) in one transaction of the temporary table: a write of its own per thread
   * cost a journal of its own. The index itself is only read meanwhile.
   */
  async within<T>(work: () => Promise<T>): Promise<T> {
    this.db.exec('BEGIN');
    try {
      return await work();
    } finally {
      this.db.exec('COMMIT');
    }
  }
}

/** What rollout-du adds up by: a session, its folder, the month it began, its source kind. */
export type SizeGrouping = 'session' | 'dir' | 'month' | 'source';

/** The sums of a group of files (or of all of them), as rollout-du shows them. */
export interface SizeSums {
  key: string | null;
  sessions: number;
  files: number;
  on_disk: number;
  uncompressed: number;
  images: number;
  tool_output: number;
  reasoning: number;
  compaction: number;
  copied: number;
  other: number;
  /** For `session`: its current file, folder and what it is called. */
  path?: string;
  cwd?: string | null;
  label?: string | null;
}

/** A group's key, over `s` (the session's current row). */
const GROUP_KEYS: Record<SizeGrouping, string> = {
  session: 's.id',
  dir: 's.cwd',
  month: "CASE WHEN s.created_at > 0 THEN strftime('%Y-%m', s.created_at / 1000, 'unixepoch') END",
  source: 'source_kind(s.source, s.thread_source)',
};

/** The sums' columns; a group of one session's files counts it without a DISTINCT over 100,000 groups. */
const sums = (
  oneSession: boolean,
) => `${oneSession ? '1' : 'count(DISTINCT s.id)'} AS sessions, count(*) AS files, coalesce(sum(x.size), 0) AS on_disk, coalesce(sum(x.uncompressed), 0) AS uncompressed,
  ${KINDS.map((k) => `coalesce(sum(x.${k}), 0) AS ${k}`).join(', ')}`;

/** Every file of each chosen session (`x`), beside the session's current row (`s`). */
const SIZED = 'FROM sessions s LEFT JOIN names n ON n.id = s.id JOIN sessions x ON x.id = s.id';

/**
 * The chosen sessions' files added up by group, in SQL: at 100,000 sessions, a group per session
 * held in the heap (and the set of sessions seen) was most of rollout-du's memory. Ordered by
 * `order` (a column of SizeSums, or `key`), ties by key, an unknown key (null) last; the first
 * `limit` groups.
 */
export function sizeGroups(
  db: Database,
  f: Filters,
  by: SizeGrouping,
  order: { column: string; descending: boolean },
  limit?: number,
): IterableIterator<SizeSums> {
  const params: unknown[] = [];
  const w = where(db, f, params);
  const dir = order.descending ? 'DESC' : 'ASC';
  const byKey = order.column === 'key' ? `key IS NULL ${dir}, key ${dir}` : `${order.column} ${dir}, key IS NULL, key`;
  const about = by === 'session' ? ', s.path AS path, s.cwd AS cwd, coalesce(n.name, s.title) AS label' : '';
  const run = () =>
    db
      .prepare(
        `SELECT ${GROUP_KEYS[by]} AS key, ${sums(by === 'session')}${about} ${SIZED} WHERE ${w.join(' AND ')} GROUP BY key ORDER BY ${byKey}${limit === undefined ? '' : ' LIMIT ?'}`,
      )
      .iterate(...params, ...(limit === undefined ? [] : [limit])) as IterableIterator<SizeSums>;
  return f.search === undefined ? run() : ftsQuery(db, f.search, run);
}

/** The sums over every chosen file, and how many groups `by` makes of them. */
export function sizeTotal(db: Database, f: Filters, by: SizeGrouping | 'kind'): SizeSums & { groups: number } {
  const params: unknown[] = [];
  const w = where(db, f, params);
  const key = by === 'kind' ? null : GROUP_KEYS[by];
  // (A session's key is its id, never null: as many groups as sessions.)
  const groups = by === 'session' ? 'count(DISTINCT s.id)' : key ? `count(DISTINCT ${key}) + max(${key} IS NULL)` : KINDS.length;
  const run = () =>
    db.prepare(`SELECT NULL AS key, ${sums(false)}, coalesce(${groups}, 0) AS groups ${SIZED} WHERE ${w.join(' AND ')}`).get(...params) as SizeSums & {
      groups: number;
    };
  return f.search === undefined ? run() : ftsQuery(db, f.search, run);
}

/** For each kind of content: its bytes over every chosen file, and the sessions and files with any. */
export function kindSums(db: Database, f: Filters): Array<{ key: Kind; bytes: number; sessions: number; files: number }> {
  const params: unknown[] = [];
  const w = where(db, f, params);
  const cols = KINDS.map(
    (k) =>
      `coalesce(sum(x.${k}), 0) AS ${k}_bytes, count(DISTINCT CASE WHEN x.${k} > 0 THEN s.id END) AS ${k}_sessions, count(CASE WHEN x.${k} > 0 THEN 1 END) AS ${k}_files`,
  );
  const run = () => db.prepare(`SELECT ${cols.join(', ')} ${SIZED} WHERE ${w.join(' AND ')}`).get(...params) as Record<string, number>;
  const r = f.search === undefined ? run() : ftsQuery(db, f.search, run);
  return KINDS.map((key) => ({ key, bytes: r[`${key}_bytes`]!, sessions: r[`${key}_sessions`]!, files: r[`${key}_files`]! }));
}

/** Of a rollout in both roots (a copy), the file read furthest: `x`, over the session's files. */
const FURTHEST_COPY = 'x.file = (SELECT y.file FROM sessions y WHERE y.rollout_id = x.rollout_id AND y.id = x.id ORDER BY y.read_offset DESC, y.file LIMIT 1)';

export interface UsageFile {
  /** The session's thread id, and its current file's fields. */
  id: string;
  cwd: string | null;
  created_at: number;
  updated_at: number;
  source: string | null;
  thread_source: string | null;
  model: string | null;
  title: string | null;
  name: string | null;
  /** This file's (one of the session's files): its rollout, how far it was read, its own turns and usage. */
  rollout_id: string;
  read_offset: number;
  own_turns: number;
  usage: string | null;
}

/**
 * Every file of the sessions the filters choose, each with its session's current row, session by
 * session (by id): what `rollout-usage` adds up, one row at a time. A file in both roots (a copy)
 * comes once, as the copy read furthest.
 */
export function usageFiles(db: Database, f: Filters): IterableIterator<UsageFile> {
  const params: unknown[] = [];
  const w = where(db, f, params);
  const run = () =>
    db
      .prepare(
        `SELECT s.id, s.cwd, s.created_at, s.updated_at, s.source, s.thread_source, s.model, s.title, n.name AS name,
           x.rollout_id, x.read_offset, x.own_turns, x.usage
         FROM sessions s LEFT JOIN names n ON n.id = s.id JOIN sessions x ON x.id = s.id
         WHERE ${w.join(' AND ')}
           AND ${FURTHEST_COPY}
         ORDER BY s.id, x.rollout_id`,
      )
      .iterate(...params) as IterableIterator<UsageFile>;
  return f.search === undefined ? run() : ftsQuery(db, f.search, run);
}

/** A session's file as rollout-feed reads it: the file, the session's facts, and how far the feed has read the file. */
export interface FeedFile {
  /** The session's thread id, and its current file's fields. */
  id: string;
  title: string | null;
  name: string | null;
  cwd: string | null;
  created_at: number;
  updated_at: number;
  model: string | null;
  model_provider: string | null;
  cli_version: string | null;
  originator: string | null;
  source: string | null;
  thread_source: string | null;
  forked_from_id: string | null;
  parent_thread_id: string | null;
  git_branch: string | null;
  git_sha: string | null;
  git_origin_url: string | null;
  turns: number;
  tokens: number;
  archived: number;
  /** This file's (one of the session's files). */
  rollout_id: string;
  path: string;
  compressed: number;
  generation: string | null;
  history_mode: string | null;
  history_base: string | null;
  read_offset: number;
  /** The feed's progress through the file (see `progress`), or null when it has not read it. */
  sent: number | null;
  line: number | null;
  tail: string | null;
  carry: string | null;
}

/**
 * Every file of the sessions the filters choose that has lines a feed has not read: those not in
 * `progress` (a table of rollout_id, sent, line, tail, carry; null: every file) or read there to another
 * length than the index read them (they grew, or were rewritten). A file in both roots (a copy)
 * comes once, as the copy read furthest. In no particular order but by session.
 */
export function feedFiles(db: Database, f: Filters, progress: string | null): IterableIterator<FeedFile> {
  const params: unknown[] = [];
  const w = where(db, f, params);
  const join = progress ? `LEFT JOIN ${progress} p ON p.rollout_id = x.rollout_id` : '';
  const changed = progress ? 'AND (p.sent IS NULL OR p.sent != x.read_offset)' : '';
  const run = () =>
    db
      .prepare(
        `SELECT s.id, s.title, n.name AS name, s.cwd, s.created_at, s.updated_at, s.model, s.model_provider, s.cli_version, s.originator,
           s.source, s.thread_source, s.forked_from_id, s.parent_thread_id, s.git_branch, s.git_sha, s.git_origin_url, s.turns, s.tokens, s.archived,
           x.rollout_id, x.path, x.compressed, x.generation, x.history_mode, x.history_base, x.read_offset,
           ${progress ? 'p.sent, p.line, p.tail, p.carry' : 'NULL AS sent, NULL AS line, NULL AS tail, NULL AS carry'}
         FROM sessions s LEFT JOIN names n ON n.id = s.id JOIN sessions x ON x.id = s.id ${join}
         WHERE ${w.join(' AND ')}
           AND ${FURTHEST_COPY}
           ${changed}
         ORDER BY s.id, x.rollout_id`,
      )
      .iterate(...params) as IterableIterator<FeedFile>;
  return f.search === undefined ? run() : ftsQuery(db, f.search, run);
}

/** The threads whose files read one of these rollouts through `history_base`, by rollout id. */
export function readersOf(db: Database, rolloutIds: string[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const rows = db
    .prepare('SELECT history_base AS base, id FROM sessions WHERE history_base IN (SELECT value FROM json_each(?))')
    .all(JSON.stringify(rolloutIds)) as {
    base: string;
    id: string;
  }[];
  for (const r of rows) {
    let set = out.get(r.base);
    if (!set) out.set(r.base, (set = new Set()));
    set.add(r.id);
  }
  return out;
}

/**
 * The shortest prefix of each id that no other session's id starts with, at least `least` characters
 * (git abbreviates the same way), never ending at a hyphen. Every file of both roots counts.
 */
export function shortIds(db: Database, ids: Iterable<string>, least = 8): Map<string, string> {
  const before = db.prepare('SELECT id FROM sessions WHERE id < ? ORDER BY id DESC LIMIT 1').pluck();
  const after = db.prepare('SELECT id FROM sessions WHERE id > ? ORDER BY id LIMIT 1').pluck();
  const shared = (a: string, b: string | undefined) => {
    let n = 0;
    while (b !== undefined && n < a.length && a[n] === b[n]) n++;
    return n;
  };
  const out = new Map<string, string>();
  for (const id of ids) {
    let n = Math.max(least, shared(id, before.get(id) as string | undefined) + 1, shared(id, after.get(id) as string | undefined) + 1);
    if (id[n - 1] === '-') n++;
    out.set(id, id.slice(0, n));
  }
  return out;
}

/** Sessions matching the filters, one page of them. */
export function list(db: Database, q: Query): Page<Listed> {
  if (q.search !== undefined) return searchSessions(db, q);
  const params: unknown[] = [];
  const w = where(db, q, params);
  const column = `s.${SORT_COLUMNS[q.sort.key as SortKey]}`;
  const cmp = q.sort.descending ? '<' : '>';
  const dir = q.sort.descending ? 'DESC' : 'ASC';
  if (q.cursor) {
    const c = decodeCursor(q.cursor, sortName(q.sort));
    w.push(`(${column} ${cmp} ? OR (${column} = ? AND s.id ${cmp} ?))`);
    params.push(c.v, c.v, c.id);
  }
  const limit = q.limit === undefined ? -1 : q.limit + 1;
  const sql = `SELECT ${LISTED_COLUMNS}, n.name AS name, ${column} AS sort_value FROM sessions s LEFT JOIN names n ON n.id = s.id
    WHERE ${w.join(' AND ')} ORDER BY ${column} ${dir}, s.id ${dir} LIMIT ?`;
  const rows = db.prepare(sql).all(...params, limit) as any[];
  return page(rows, q.limit, (r) => ({ k: sortName(q.sort), v: r.sort_value, id: r.id }), listed);
}

function page<T>(rows: any[], limit: number | undefined, cursorOf: (r: any) => Cursor, map: (r: any) => T): Page<T> {
  if (limit === undefined || rows.length <= limit) return { rows: rows.map(map) };
  const kept = rows.slice(0, limit);
  return { rows: kept.map(map), next: encodeCursor(cursorOf(kept[kept.length - 1])) };
}

/** A document's rowid is its file's number times this, plus its own number (see db.ts). */
export const DOC_SHIFT = 2 ** 32;

export const SNIPPET_OPEN = '**';
export const SNIPPET_CLOSE = '**';
const SNIPPET = `snippet(docs, 0, '${SNIPPET_OPEN}', '${SNIPPET_CLOSE}', '…', 16)`;

/**
 * FTS5 reports a bad query as a SQLite error; to the user it is a usage error. The query is tried
 * on its own first: a plan that finds no candidate session would never parse it.
 */
function ftsQuery<T>(db: Database, search: string, fn: () => T): T {
  try {
    db.prepare('SELECT rowid FROM docs WHERE docs MATCH ? LIMIT 1').get(ftsMatch(search));
    return fn();
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'SQLITE_ERROR' && /fts5|syntax|no such column|unterminated|unknown special query/i.test(e.message ?? '')) throw badQuery(search);
    throw err;
  }
}

/**
 * Sessions with a matching message, best match first (bm25 over their best message), or in the
 * order asked for; each with a snippet of its best message.
 */
function searchSessions(db: Database, q: Query): Page<Listed> {
  const params: unknown[] = [ftsMatch(q.search!)];
  // The search itself is the CTE below, not a filter of it.
  const w = where(db, { ...q, search: undefined }, params);
  const byRank = q.sort.key === 'rank';
  const column = byRank ? 'h.rank' : `s.${SORT_COLUMNS[q.sort.key as SortKey]}`;
  const descending = !byRank && q.sort.descending;
  const cmp = descending ? '<' : '>';
  const dir = descending ? 'DESC' : 'ASC';
  if (q.cursor) {
    const c = decodeCursor(q.cursor, byRank ? 'rank' : sortName(q.sort));
    w.push(`(${column} ${cmp} ? OR (${column} = ? AND s.id ${cmp} ?))`);
    params.push(c.v, c.v, c.id);
  }
  const limit = q.limit === undefined ? -1 : q.limit + 1;
  // Every match is ranked once; a thread keeps its best message (min() carries the bare `doc` of its
  // row along), whichever of its files it is in. Snippets are made for the page's rows alone.
  const sql = `WITH m AS MATERIALIZED (SELECT rowid AS doc, bm25(docs) AS rank FROM docs WHERE docs MATCH ?),
    hits AS (SELECT f.id AS id, m.doc AS doc, min(m.rank) AS rank FROM m JOIN sessions f ON f.file = (m.doc >> 32) GROUP BY f.id)
    SELECT ${LISTED_COLUMNS}, n.name AS name, h.rank AS rank, h.doc AS best_doc, ${column} AS sort_value FROM hits h JOIN sessions s ON s.id = h.id
      LEFT JOIN names n ON n.id = s.id
    WHERE ${w.join(' AND ')} ORDER BY ${column} ${dir}, s.id ${dir} LIMIT ?`;
  return ftsQuery(db, q.search!, () => {
    const rows = db.prepare(sql).all(...params, limit) as any[];
    const snippet = snippetOf(db, ftsMatch(q.search!));
    const key = byRank ? 'rank' : sortName(q.sort);
    return page(
      rows,
      q.limit,
      (r) => ({ k: key, v: r.sort_value, id: r.id }),
      (r) => {
        const out = listed(r);
        out.snippet = snippet(r.best_doc);
        return out;
      },
    );
  });
}

/**
 * The snippet of one matching document (a lookup by rowid: making one costs a tokenization). The
 * rowid goes in as an integer: FTS5 ignores `rowid = ?` beside a MATCH when the value is a double,
 * which is how a JavaScript number is bound.
 */
function snippetOf(db: Database, search: string): (doc: number) => string {
  const get = db.prepare(`SELECT ${SNIPPET} FROM docs WHERE docs MATCH ? AND rowid = ?`).pluck();
  return (doc) => (get.get(search, BigInt(doc)) as string | undefined) ?? '';
}

/** Matching messages, best first: one per line, with where it is. */
export function searchHits(db: Database, q: Query): Page<Hit> {
  const params: unknown[] = [ftsMatch(q.search!)];
  // The search itself is the CTE below, not a filter of it.
  const w = where(db, { ...q, search: undefined }, params);
  if (q.cursor) {
    const c = decodeCursor(q.cursor, 'hits');
    w.push('(h.rank > ? OR (h.rank = ? AND h.doc > ?))');
    params.push(c.v, c.v, Number(c.id));
  }
  const limit = q.limit === undefined ? -1 : q.limit + 1;
  // Hits in any file of a thread count for it, listed under the thread's current file's filters.
  // Ranked and filtered by rowid alone; what a hit says about its message is read for the page only.
  const sql = `WITH m AS MATERIALIZED (SELECT rowid AS doc, bm25(docs) AS rank FROM docs WHERE docs MATCH ?),
    hits AS (SELECT m.doc AS doc, m.rank AS rank, f.id AS id, f.path AS hit_path FROM m JOIN sessions f ON f.file = (m.doc >> 32))
    SELECT h.*, s.path AS path FROM hits h JOIN sessions s ON s.id = h.id LEFT JOIN names n ON n.id = s.id
    WHERE ${w.join(' AND ')} ORDER BY h.rank, h.doc LIMIT ?`;
  return ftsQuery(db, q.search!, () => {
    const rows = db.prepare(sql).all(...params, limit) as any[];
    const snippet = snippetOf(db, ftsMatch(q.search!));
    const about = db.prepare('SELECT role, line, ordinal FROM docs WHERE rowid = ?');
    return page(
      rows,
      q.limit,
      (r) => ({ k: 'hits', v: r.rank, id: String(r.doc) }),
      (r) => {
        const d = about.get(r.doc) as { role: string; line: number; ordinal: number | null };
        return { id: r.id, path: r.hit_path, line: d.line, ordinal: d.ordinal, role: d.role, snippet: snippet(r.doc) };
      },
    );
  });
}

export { parseSize, parseWhen } from '../cli/units.js';

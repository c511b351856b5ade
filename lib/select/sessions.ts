// The choice of the binaries that change sessions in place (rollout-prune, rollout-slim): the
// selection language, answered by the index, over the sessions of the roots the action can take
// from (or over the sessions named on stdin); then each chosen thread's files as they are on disk
// now, and who still reads them.
import { isPerSession, UsageError } from '../cli/errors.js';
import type { Database } from '../core/sqlite.js';
import type { Filters } from '../index/query.js';
import { ChosenThreads, readersOf } from '../index/query.js';
import { sessionFileAt, type Home, type SessionFile } from '../home/paths.js';
import type { SessionFiles } from '../fs/safety.js';
import { namedSessions, openForChoice } from './choose.js';

export type Action = 'delete' | 'archive' | 'compress' | 'unarchive' | 'retag';
/** Prune's actions, and rollout-slim's rewriting (slimming or restoring), which chooses the same way. */
export type Choosing = Action | 'slim';
type Roots = NonNullable<Filters['archived']>;

/** What an action can take from: archiving takes active sessions, unarchiving archived ones. */
const ACTION_ROOTS: Record<Choosing, Roots> = {
  delete: 'include',
  compress: 'include',
  archive: 'exclude',
  unarchive: 'only',
  retag: 'include',
  slim: 'include',
};

/** The roots the selection asked for that the action can take from; none is a usage error. */
export function rootsFor(action: Choosing, asked: Roots): Roots {
  const can = ACTION_ROOTS[action];
  if (can === 'include') return asked;
  if (asked === 'include' || asked === can) return can;
  throw new UsageError(
    action === 'archive' ? '--archive moves active sessions; --archived selects none' : '--unarchive moves archived sessions; --active selects none',
  );
}

export interface Selection {
  action: Choosing;
  filters: Filters;
  /** Sessions named one by one (--stdin); the filters narrow them. */
  refs?: AsyncIterable<string>;
  index: string;
}

/** A chosen session, and the other threads whose files read one of its files through `history_base`. */
export interface Chosen extends SessionFiles {
  readers: string[];
  /** Not chosen, but reads a chosen session's files (--map-cwd: its offsets into them move with them). */
  carried?: true;
}

/**
 * The line and error callbacks of a run that acts on sessions, counting its skips and per-session
 * errors into `summary`; any other error is thrown (it ends the run).
 */
export function tallied<L extends { action: string }>(
  summary: { skipped: number; errors: number },
  sink: { line(row: L | SkipLine): void; error(err: unknown): void },
): { line: (row: L | SkipLine) => void; error: (err: unknown) => void } {
  return {
    line: (row) => {
      if (row.action === 'skip') summary.skipped++;
      sink.line(row);
    },
    error: (err) => {
      if (!isPerSession(err)) throw err;
      summary.errors++;
      sink.error(err);
    },
  };
}

/** A session left alone, and why: one NDJSON line of a binary that acts on sessions. */
export interface SkipLine {
  action: 'skip';
  id: string;
  path: string;
  reason: string;
}

/** Threads a page holds: enough that a page's queries pay for themselves, few enough to hold. */
const PAGE = 500;

/** A page of the choice: its sessions, and those of them named but left alone (and why). */
export interface ChoicePage {
  sessions: Chosen[];
  skipped: SkipLine[];
}

/**
 * What the selection chose, taken a page at a time so that no run holds every chosen session:
 * the threads stay in the index's temporary table (see ChosenThreads), each page's files are looked
 * at on disk as the page is reached. `close` when done.
 */
export interface Choice {
  /** Sessions named but left alone before any page (not in the roots the action takes from). */
  skipped: SkipLine[];
  /** How many sessions, and their bytes as the index has them: a progress bar's total. */
  count: number;
  bytes: number;
  pages(): AsyncGenerator<ChoicePage>;
  /** These chosen threads (readers of a page's sessions ranked in another page), as a page has them. */
  load(ids: string[]): Promise<Chosen[]>;
  /** Every file of these threads, chosen or not, in either root, as they are on disk now. */
  filesOf(ids: Iterable<string>): Map<string, SessionFile[]>;
  threads: ChosenThreads;
  close(): void;
}

export async function choose(home: Home, sel: Selection, onError: (err: unknown) => void): Promise<Choice> {
  const roots = rootsFor(sel.action, sel.filters.archived ?? 'exclude');
  const named = sel.refs ? await namedSessions(home, sel.refs, { insideRoots: true }, onError) : undefined;
  const db = await openForChoice(home, sel.index, sel.filters);
  try {
    const threads = new ChosenThreads(db, named ? { ...sel.filters, archived: roots, ids: [...named.keys()] } : { ...sel.filters, archived: roots });
    const inRoots = db.prepare(`SELECT 1 FROM sessions WHERE id = ?${roots === 'include' ? '' : ` AND archived = ${roots === 'only' ? 1 : 0}`}`).pluck();
    const skipped: SkipLine[] = [];
    for (const [id, { file }] of named ?? []) {
      if (!threads.rank(id) && !inRoots.get(id)) skipped.push({ action: 'skip', id, path: file.path, reason: elsewhere(sel.action, file) });
    }
    const readers = sel.action !== 'compress' && sel.action !== 'unarchive';
    // Chosen threads as a page has them: their files in the roots as they are on disk now (a file
    // gone since the index saw it is simply not there), each with its readers.
    const sessionsOf = async (rows: Array<{ id: string; path: string }>, out: ChoicePage): Promise<void> => {
      const byId = new Map<string, SessionFile[]>();
      for (const { id, path } of rows) {
        const f = sessionFileAt(home, path);
        if (!f || f.name.threadId !== id) continue;
        const list = byId.get(id);
        if (list) list.push(f);
        else byId.set(id, [f]);
      }
      for (const [id, group] of byId) {
        const why = sel.action === 'compress' ? uncompressible(group) : null;
        // Said only of sessions named one by one; a filter simply finds nothing to do there.
        if (why) {
          if (named?.has(id)) out.skipped.push({ action: 'skip', id, path: group[0]!.path, reason: why });
          continue;
        }
        out.sessions.push({ id, files: group, readers: [] });
      }
      if (readers) await addReaders(home, db, out.sessions, sel.action === 'retag' ? threads : null);
    };
    return {
      skipped,
      ...threads.totals(roots),
      threads,
      async *pages() {
        for (let after = 0; ;) {
          const rows = threads.files(after, PAGE, roots);
          if (!rows.length) return;
          after = rows[rows.length - 1]!.seq;
          const page: ChoicePage = { sessions: [], skipped: [] };
          await sessionsOf(rows, page);
          yield page;
        }
      },
      async load(ids) {
        const page: ChoicePage = { sessions: [], skipped: [] };
        await sessionsOf(
          ids.flatMap((id) => {
            const rank = threads.rank(id);
            return rank ? threads.files(rank - 1, 1, roots) : [];
          }),
          page,
        );
        return page.sessions;
      },
      filesOf: (ids) => threadFiles(home, db, ids),
      close: () => db.close(),
    };
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Every file of these threads (either root) as discovery would take it now, by thread, oldest name
 * first: the index says where they are, lstat whether they still are.
 */
function threadFiles(home: Home, db: Database, ids: Iterable<string>): Map<string, SessionFile[]> {
  const rows = db
    .prepare('SELECT id, path FROM sessions WHERE id IN (SELECT value FROM json_each(?)) ORDER BY name_at, rollout_id, path')
    .all(JSON.stringify([...ids])) as Array<{ id: string; path: string }>;
  const out = new Map<string, SessionFile[]>();
  for (const { id, path } of rows) {
    const f = sessionFileAt(home, path);
    if (f?.name.threadId !== id) continue;
    const list = out.get(id);
    if (list) list.push(f);
    else out.set(id, [f]);
  }
  return out;
}

/**
 * Each session's readers: the other threads whose files read one of its files. With `carry` (the
 * choice), the readers that were not chosen join the list (and theirs, down the forks), marked as
 * carried; chosen ones of other pages are the caller's to fetch.
 */
async function addReaders(home: Home, db: Database, sessions: Chosen[], carry: ChosenThreads | null): Promise<void> {
  const byId = new Map(sessions.map((s) => [s.id, s]));
  for (let fresh = sessions; fresh.length;) {
    const readers = readersOf(db, [...new Set(fresh.flatMap((s) => s.files.map((f) => f.name.rolloutId)))]);
    for (const s of fresh) {
      const ids = new Set(s.files.flatMap((f) => [...(readers.get(f.name.rolloutId) ?? [])]));
      ids.delete(s.id);
      s.readers = [...ids].sort();
    }
    const missing = new Set(fresh.flatMap((s) => s.readers).filter((id) => !byId.has(id) && !carry?.rank(id)));
    fresh = [];
    if (!carry || !missing.size) break;
    for (const [id, files] of threadFiles(home, db, missing)) {
      const s: Chosen = { id, files, readers: [], carried: true };
      byId.set(id, s);
      sessions.push(s);
      fresh.push(s);
    }
  }
}

function elsewhere(action: Choosing, file: SessionFile): string {
  if (action === 'archive' && file.root === 'archived_sessions') return 'already archived';
  if (action === 'unarchive' && file.root === 'sessions') return 'not archived';
  return 'not in the selected roots';
}

function uncompressible(files: SessionFile[]): string | null {
  if (files.every((f) => f.compressed)) return 'already compressed';
  if (files.some((f) => f.form === 'json')) return "a generation-0 .json session is left as it is: no reader (Codex's or ours) knows a compressed .json";
  return null;
}

// CODEX_HOME, its two roots, the file-name grammar of every generation, and discovery.
// Knows nothing of file contents: everything here comes from names and lstat.
import { lstatSync, readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { RolloutError } from '../cli/errors.js';
import type { NameForm } from '../core/record.js';

export type Root = 'sessions' | 'archived_sessions';
export const ROOTS: readonly Root[] = ['sessions', 'archived_sessions'];

export interface Home {
  dir: string;
  sessions: string;
  archived: string;
}

/** `--codex-home DIR`, else `$CODEX_HOME`, else `~/.codex` (as Codex does; it need not exist yet). */
export function codexHome(flag?: string, env: NodeJS.ProcessEnv = process.env): Home {
  const dir = resolve(flag || env.CODEX_HOME || join(homedir(), '.codex'));
  return { dir, sessions: join(dir, 'sessions'), archived: join(dir, 'archived_sessions') };
}

// Codex's own files beside the rollouts (read in lib/codex-state.ts); their paths live here so that
// a freshness check can stat them without loading the readers.
export const sessionIndexPath = (home: Home): string => join(home.dir, 'session_index.jsonl');

/** Where Codex keeps its SQLite files: `$CODEX_SQLITE_HOME` (relative to the cwd), else CODEX_HOME. */
export function sqliteHome(home: Home, env: NodeJS.ProcessEnv = process.env): string {
  return env.CODEX_SQLITE_HOME ? resolve(env.CODEX_SQLITE_HOME) : home.dir;
}

export const stateDbPath = (home: Home): string => join(sqliteHome(home), 'state_5.sqlite');

export const configPath = (home: Home): string => join(home.dir, 'config.toml');

/** Where a running Codex holds a lock for each thread it writes. */
export const writerLockPath = (home: Home, threadId: string): string => join(home.dir, 'thread-writer-locks', `${threadId}.lock`);

/** Where Codex puts a session it creates: the local day's folder, the name stamped with local time. */
export function newSessionPath(home: Home, id: string, stamp: string): string {
  return join(home.sessions, stamp.slice(0, 4), stamp.slice(5, 7), stamp.slice(8, 10), `rollout-${stamp}-${id}.jsonl`);
}

/** Where `codex archive` moves a file: flat in `archived_sessions/`, under the same name. */
export const archivedPath = (home: Home, path: string): string => join(home.archived, basename(path));

/**
 * Where an archived file goes back to: `sessions/YYYY/MM/DD/`, the date from its name, as Codex
 * does. A name of the flat generations of 2025 goes back to `sessions/` itself, where those were
 * written (Codex never lists them, and a dated folder would make them look like a later form).
 */
export function unarchivedPath(home: Home, path: string): string {
  const name = basename(path);
  const parsed = parseRolloutName(name);
  if (parsed && formOf(parsed, 'archived') !== 'nested') return join(home.sessions, name);
  const m = /^rollout-(\d{4})-(\d{2})-(\d{2})/.exec(name);
  if (!m) throw new RolloutError('no date in the file name; cannot tell where it goes', { file: name });
  return join(home.sessions, m[1]!, m[2]!, m[3]!, name);
}

/** What a compressed rollout's name adds to the plain one. */
export const ZST = '.zst';

/** A rollout file's plain name, whether given plain or compressed. */
export const plainPath = (path: string): string => (path.endsWith(ZST) ? path.slice(0, -ZST.length) : path);

/** A rollout file's compressed name, whether given plain or compressed. */
export const zstPath = (path: string): string => plainPath(path) + ZST;

export interface RolloutName {
  /** `YYYY-MM-DDThh-mm-ss` or `YYYY-MM-DD`: local wall-clock time, no zone. */
  stamp: string;
  threadId: string;
  /** Equals `threadId` except for reverted paginated threads (`<thread>_<rollout>`). */
  rolloutId: string;
  compressed: boolean;
  json: boolean;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const JSONL_NAME = new RegExp(`^rollout-(\\d{4}-\\d{2}-\\d{2}(?:T\\d{2}-\\d{2}-\\d{2})?)-(${UUID})(?:_(${UUID}))?\\.jsonl(\\.zst)?$`, 'i');
const JSON_NAME = new RegExp(`^rollout-(\\d{4}-\\d{2}-\\d{2})-(${UUID})\\.json$`, 'i');
export const UUID_RE = new RegExp(`^${UUID}$`, 'i');

export function parseRolloutName(name: string): RolloutName | null {
  const m = JSONL_NAME.exec(name);
  if (m) {
    const threadId = m[2]!.toLowerCase();
    return {
      stamp: m[1]!,
      threadId,
      // (The same string when they are equal: a home holds one per file.)
      rolloutId: m[3] ? m[3].toLowerCase() : threadId,
      compressed: m[4] !== undefined,
      json: false,
    };
  }
  const j = JSON_NAME.exec(name);
  if (j) return { stamp: j[1]!, threadId: j[2]!.toLowerCase(), rolloutId: j[2]!.toLowerCase(), compressed: false, json: true };
  return null;
}

/** Codex began nesting sessions in `YYYY/MM/DD/` folders on this day; flat names with a time are older. */
const NESTED_SINCE = Date.parse('2025-07-17T00:00:00Z');

/**
 * A name's form, from the name and where it lies. An archived file is flat whatever it was, so
 * there its date tells a mid-2025 flat name from a nested one.
 */
export function formOf(name: RolloutName, where: 'dated' | 'flat' | 'archived'): NameForm {
  if (name.json) return 'json';
  if (!name.stamp.includes('T')) return 'flat-date';
  if (where === 'dated') return 'nested';
  if (where === 'flat') return 'flat';
  return stampTime(name.stamp) < NESTED_SINCE ? 'flat' : 'nested';
}

/** The stamp as an instant, read as if it were UTC (as Codex's lister does; the true zone is unknown). */
export function stampTime(stamp: string): number {
  const [date, time = '00-00-00'] = stamp.split('T');
  return Date.parse(`${date}T${time.replace(/-/g, ':')}Z`);
}

/** One logical session file: `X.jsonl` and `X.jsonl.zst` are one, and the plain file wins. */
export interface SessionFile {
  /** The file to read. */
  path: string;
  /** Every file of this logical file (the one read first); they move and delete together. */
  files: string[];
  root: Root;
  name: RolloutName;
  compressed: boolean;
  form: NameForm;
  size: number;
  mtimeMs: number;
  ino: number;
}

export interface DiscoverOptions {
  roots?: readonly Root[];
  /** Keep only names that pass this test (checked before any lstat). */
  where?: (name: RolloutName) => boolean;
}

interface Candidate {
  path: string;
  root: Root;
  name: RolloutName;
  form: NameForm;
}

const NUMERIC = /^\d+$/;

/** One directory as the walk of a home found it. */
export interface WalkedDir {
  dir: string;
  /** As lstat saw the directory before its listing (null: not a directory, or not there); only with `entries`. */
  stat: Stats | null;
  /** Every rollout-named entry but subdirectories, as lstat saw it (null: gone); only with `entries`. */
  entries: Array<[name: string, stat: Stats | null]>;
  /** Its session files (a file and its `.zst` are one); none where discovery takes none. */
  files: SessionFile[];
}

export interface WalkOptions extends DiscoverOptions {
  /** Also lstat each directory and every rollout-named entry, for the index's snapshot (index/fresh.ts). */
  entries?: boolean;
}

const STAT = { throwIfNoEntry: false } as const;

/**
 * The directories of the home that may hold rollouts (each root, and YYYY/MM/DD below sessions/),
 * each listed once, in ascending order, with the session files discovery takes from it: the flat
 * files of sessions/ (2025's first form), the dated ones of each day, the archived ones. Empty files
 * and symlinks are left out. Nothing is held beyond the directory at hand: a home of 100,000 files
 * is walked in the memory of one day.
 */
export function* walkHome(home: Home, opts: WalkOptions = {}): Generator<WalkedDir> {
  assertHome(home);
  const roots = opts.roots ?? ROOTS;
  if (roots.includes('sessions')) yield* walkDir(home.sessions, 3, 'sessions', 'flat', opts);
  if (roots.includes('archived_sessions')) yield* walkDir(home.archived, 0, 'archived_sessions', 'archived', opts);
}

// The walk is synchronous on purpose: a home holds thousands of small directories and files, and
// a promise per readdir and lstat costs several times the system calls themselves.
function* walkDir(dir: string, depth: number, root: Root, at: Parameters<typeof formOf>[1] | null, opts: WalkOptions): Generator<WalkedDir> {
  const stat = opts.entries ? (lstatSync(dir, STAT) ?? null) : null;
  const out: WalkedDir = { dir, stat: stat?.isDirectory() ? stat : null, entries: [], files: [] };
  const byPath = new Map<string, SessionFile>();
  const compressed: SessionFile[] = [];
  const below: string[] = [];
  for (const e of entries(dir)) {
    if (depth > 0 && e.isDirectory() && NUMERIC.test(e.name)) {
      below.push(e.name);
      continue;
    }
    const name = parseRolloutName(e.name);
    if (!name) continue;
    const take = at !== null && e.isFile() && (!opts.where || opts.where(name));
    if (!take && !opts.entries) continue;
    const path = join(dir, e.name);
    const st = lstatSync(path, STAT) ?? null;
    if (opts.entries) out.entries.push([e.name, st]);
    if (!take || !st?.isFile() || st.size === 0) continue;
    const file = fileOf({ path, root, name, form: formOf(name, at) }, st, [path]);
    if (name.compressed) compressed.push(file);
    else byPath.set(path, file);
  }
  for (const z of compressed) {
    const plain = byPath.get(z.path.slice(0, -ZST.length));
    if (plain) plain.files.push(z.path);
    else byPath.set(z.path, z);
  }
  out.files = [...byPath.values()];
  yield out;
  below.sort((a, b) => Number(a) - Number(b));
  for (const sub of below) yield* walkDir(join(dir, sub), depth - 1, root, depth === 1 ? 'dated' : null, opts);
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

/**
 * A home that is not there is an error that names it (a mistyped CODEX_HOME would otherwise answer
 * "nothing", and an index would be made in a folder chain nobody asked for).
 */
export function assertHome(home: Home): void {
  const st = statSync(home.dir, { throwIfNoEntry: false });
  if (!st?.isDirectory())
    throw new RolloutError(`${st ? 'not a folder' : 'no such folder'}: no Codex home here (set CODEX_HOME, or give --codex-home)`, { file: home.dir });
}

/** What a binary says (as a notice) when the home it was given holds no session: an answer, not a silence. */
export const noSessionsIn = (home: Home): string => `no sessions in ${home.dir}: sessions/ and archived_sessions/ hold no rollout files`;

/** Every session file of the home, oldest name first; empty files and symlinks are left out. */
export async function discover(home: Home, opts: DiscoverOptions = {}): Promise<SessionFile[]> {
  const files: SessionFile[] = [];
  for (const d of walkHome(home, opts)) files.push(...d.files);
  return files.sort(byName);
}

function fileOf(c: Candidate, st: { size: number; mtimeMs: number; ino: number }, files: string[]): SessionFile {
  return {
    path: c.path,
    files,
    root: c.root,
    name: c.name,
    compressed: c.name.compressed,
    form: c.form,
    size: st.size,
    mtimeMs: Math.trunc(st.mtimeMs),
    ino: st.ino,
  };
}

/** What decides which of a thread's files stands for it. */
export interface CurrentKey {
  /** The name's stamp, as stampTime reads it. */
  stampMs: number;
  archived: boolean;
  mtimeMs: number;
}

/**
 * Of two files of one thread (a reverted thread has one per revision; a copy may sit in both
 * roots), negative when `a` stands for the thread rather than `b`: the newest revision, then an
 * active file before an archived copy (the one Codex lists), then the one written last. Every
 * binary and the index choose by this.
 */
export function compareCurrent(a: CurrentKey, b: CurrentKey): number {
  return b.stampMs - a.stampMs || Number(a.archived) - Number(b.archived) || b.mtimeMs - a.mtimeMs;
}

const keyOf = (f: SessionFile): CurrentKey => ({ stampMs: stampTime(f.name.stamp), archived: f.root === 'archived_sessions', mtimeMs: f.mtimeMs });

/** The file that stands for its thread, of several (see compareCurrent). */
export function currentFile(files: SessionFile[]): SessionFile {
  return files.reduce((best, f) => (compareCurrent(keyOf(f), keyOf(best)) < 0 ? f : best));
}

/** Chronological by the name's stamp, then by id: sorted names are sorted sessions. */
export function byName(a: SessionFile, b: SessionFile): number {
  return stampTime(a.name.stamp) - stampTime(b.name.stamp) || cmp(a.name.rolloutId, b.name.rolloutId) || cmp(a.path, b.path);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Where a path lies in the home, or null when it is outside both roots. */
export function rootOf(home: Home, path: string): Root | null {
  const abs = resolve(path);
  if (dirname(abs) === home.archived) return 'archived_sessions';
  if (abs.startsWith(home.sessions + '/')) return 'sessions';
  return null;
}

/**
 * The session file at `path` (a path of the index) as discovery would take it now: a regular,
 * non-empty rollout file inside a root, reached by lstat, with its `.zst` beside it when there is
 * one; null when there is no such file any more.
 */
export function sessionFileAt(home: Home, path: string): SessionFile | null {
  const root = rootOf(home, path);
  const name = parseRolloutName(basename(path));
  const st = lstatSync(path, STAT);
  if (!root || !name || !st?.isFile() || st.size === 0) return null;
  const at = root === 'archived_sessions' ? 'archived' : DATED.test(dirname(path)) ? 'dated' : 'flat';
  const files = [path];
  if (!name.compressed && lstatSync(`${path}${ZST}`, STAT)?.isFile()) files.push(`${path}${ZST}`);
  return fileOf({ path, root, name, form: formOf(name, at) }, st, files);
}

const DATED = /\/\d{4}\/\d{2}\/\d{2}$/;

/**
 * A path given by the user, described as discovery would describe it. A file whose name is not a
 * rollout name is still readable; its ids are then empty and come from its `session_meta` alone.
 */
export async function fileAt(home: Home, path: string): Promise<SessionFile> {
  const abs = resolve(path);
  const base = basename(abs);
  const name = parseRolloutName(base) ?? {
    stamp: '',
    threadId: '',
    rolloutId: '',
    compressed: base.endsWith('.zst'),
    json: base.endsWith('.json'),
  };
  // Reading follows a link the user named; commands that change files check links themselves.
  const st = await stat(abs);
  const root = rootOf(home, abs) ?? 'sessions';
  const dated = DATED.test(dirname(abs));
  const form = formOf(name, dated ? 'dated' : root === 'archived_sessions' ? 'archived' : 'flat');
  const files = [abs];
  if (!name.compressed) {
    const zst = `${abs}.zst`;
    if (lstatSync(zst, { throwIfNoEntry: false })?.isFile()) files.push(zst);
  }
  return fileOf({ path: abs, root, name, form }, st, files);
}

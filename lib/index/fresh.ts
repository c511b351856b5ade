// Whether the index still matches the home, answered without walking it. A full run records a
// snapshot of the home as it found it: every directory discovery looks into, with its times, and
// every rollout-named entry in them, with size, times and inode. While no directory changed, no file
// was added, removed or renamed; while no entry changed, none grew. So when all of them still match,
// the rows are what a full run would produce, and a listing can be answered at the cost of a few
// thousand lstat calls. Anything else (or any doubt) sends the caller to the full comparison.
import { existsSync, lstatSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { sessionIndexPath, stateDbPath } from '../codex-state.js';
import { parseRolloutName, type Home } from '../home.js';
import { openIndex, type Database } from './db.js';

/** `[name, size, mtimeMs, ctimeMs, ino]` of one entry, as lstat saw it. */
type Entry = [string, number, number, number, number];
/**
 * `[path, mtimeMs, ctimeMs, entries]` of one directory; times are -1 when it did not exist, and the
 * mtime null when the directory cannot be vouched for (see RACY_MS).
 */
type Dir = [string, number | null, number, Entry[]];

export interface Snapshot {
  /** The home it describes (an index file may be pointed at another home). */
  home: string;
  /** Logical session files the run found: the `scanned` of a run that has nothing to do. */
  files: number;
  names: string;
  dirs: Dir[];
}

/**
 * A directory changed this recently may change again within the same tick of the file-system clock
 * without its time moving: until it is older than this, it is not trusted (as git treats "racily
 * clean" files).
 */
const RACY_MS = 2000;
const NUMERIC = /^\d+$/;

/** Where discovery looks, and what is there now. Taken before discovery, so later changes show. */
export function takeSnapshot(home: Home): Snapshot {
  const dirs: Dir[] = [];
  const now = Date.now();
  walk(home.sessions, 3, now, dirs);
  walk(home.archived, 0, now, dirs);
  return { home: home.dir, files: 0, names: namesSignature(home), dirs };
}

/** A directory and, `depth` levels down, its numeric subdirectories (YYYY/MM/DD). */
function walk(dir: string, depth: number, now: number, out: Dir[]): void {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st?.isDirectory()) {
    out.push([dir, -1, -1, []]);
    return;
  }
  // (An entry change sets both times at once; the ctime is compared too, for mtimes put back.)
  const racy = now - st.mtimeMs < RACY_MS;
  const entries: Entry[] = [];
  // A racy directory fails every check anyway; its listing would be wasted.
  out.push([dir, racy ? null : st.mtimeMs, st.ctimeMs, entries]);
  if (racy) return;
  let list: Dirent[];
  try {
    list = readdirSync(dir, { withFileTypes: true });
  } catch {
    out[out.length - 1][1] = null;
    return;
  }
  for (const e of list) {
    if (depth > 0 && e.isDirectory() && NUMERIC.test(e.name)) walk(`${dir}/${e.name}`, depth - 1, now, out);
    else if (parseRolloutName(e.name)) {
      const s = lstatSync(`${dir}/${e.name}`, { throwIfNoEntry: false });
      entries.push(s ? [e.name, s.size, s.mtimeMs, s.ctimeMs, s.ino] : [e.name, -1, -1, -1, -1]);
    }
  }
}

/** Whether the home is still exactly as the snapshot saw it. */
export function unchanged(snap: Snapshot, home: Home): boolean {
  if (snap.home !== home.dir || snap.names !== namesSignature(home)) return false;
  for (const [dir, mtime, ctime, entries] of snap.dirs) {
    if (mtime === null) return false;
    const st = lstatSync(dir, { throwIfNoEntry: false });
    if (!st) {
      if (mtime !== -1) return false;
      continue;
    }
    if (st.mtimeMs !== mtime || st.ctimeMs !== ctime) return false;
    for (const [name, size, m, c, ino] of entries) {
      const s = lstatSync(`${dir}/${name}`, { throwIfNoEntry: false });
      if (!s || s.size !== size || s.mtimeMs !== m || s.ctimeMs !== c || s.ino !== ino) return false;
    }
  }
  return true;
}

const KEY = 'snapshot';

/** The snapshot of the last complete full run, if nothing else has written rows since. */
export function readSnapshot(db: Database): Snapshot | null {
  const text = db.prepare(`SELECT value FROM meta WHERE key = '${KEY}'`).pluck().get() as string | undefined;
  if (!text) return null;
  try {
    return JSON.parse(text) as Snapshot;
  } catch {
    return null;
  }
}

/** Stored in the transaction that completes a full run. */
export function saveSnapshot(db: Database, snap: Snapshot): void {
  db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('${KEY}', ?)`).run(JSON.stringify(snap));
}

/** Any other write to the rows makes the snapshot meaningless: it goes in the same transaction. */
export function dropSnapshot(db: Database): void {
  db.prepare(`DELETE FROM meta WHERE key = '${KEY}'`).run();
}

/** The index is fresh for this home: the snapshot of its last full run still holds. */
export function isFresh(db: Database, home: Home): Snapshot | null {
  const snap = readSnapshot(db);
  return snap && unchanged(snap, home) ? snap : null;
}

/**
 * Names live outside the rollouts, in Codex's session_index.jsonl and its state DB: when none of
 * these files changed, the names in the index are current.
 */
export function namesSignature(home: Home): string {
  const db = stateDbPath(home);
  return [sessionIndexPath(home), db, `${db}-wal`]
    .map((p) => {
      try {
        const st = statSync(p);
        return `${st.size}:${Math.trunc(st.mtimeMs)}:${st.ino}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}

/**
 * The index opened for reading, brought up to date first when `update` is set: when the home still
 * matches the snapshot, at the cost of the check alone; otherwise by a run that does not wait for
 * another writer (whose index is then read as it stands). The writing side loads only then.
 */
export async function openFresh(home: Home, index: string, update: boolean): Promise<Database> {
  if (existsSync(index)) {
    const db = openIndex(index, { readonly: true });
    if (!update || isFresh(db, home)) return db;
    db.close();
  }
  if (update) await (await import('./update.js')).update(home, { index, waitMs: 0 });
  return openIndex(index, { readonly: true });
}

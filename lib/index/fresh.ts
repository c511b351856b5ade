// Whether the index still matches the home, answered without walking it. A full run records a
// snapshot of the home as it found it: every directory discovery looks into, with its times, and
// every rollout-named entry in them, with size, times and inode. While no directory changed, no file
// was added, removed or renamed; while no entry changed, none grew. So when all of them still match,
// the rows are what a full run would produce, and a listing can be answered at the cost of a few
// thousand lstat calls. Anything else (or any doubt) sends the caller to the full comparison.
// The snapshot is stored a directory per row, and checked a row at a time: at 100,000 sessions it is
// 10 MB, which as one value was a third of a listing's peak memory.
import { lstatSync, readdirSync, statSync, type Dirent } from 'node:fs';

import { parseRolloutName, sessionIndexPath, stateDbPath, type Home } from '../home/paths.js';
import type { Database } from './db.js';

/**
 * One directory discovery looks into: its times (-1 when it did not exist; the mtime is null when it
 * cannot be vouched for, see RACY_MS) and its rollout-named entries with their stats. One row of the
 * `snapshot` table each, so that a check holds one directory at a time, never the whole home.
 */
export interface DirSnapshot {
  dir: string;
  mtime: number | null;
  ctime: number;
  /** Its rollout-named entries, joined by newlines. */
  names: string;
  /** `size, mtimeMs, ctimeMs, ino` of each entry as lstat saw them (all -1: it was gone), as float64s. */
  stats: Buffer;
}

/** What the index says about the home as a whole; stored as one small JSON value in `meta`. */
export interface SnapshotHead {
  /** The home it describes (an index file may be pointed at another home). */
  home: string;
  /** Logical session files the run found: the `scanned` of a run that has nothing to do. */
  files: number;
  names: string;
}

/** Its directories come in walk order: from memory as taken, or row by row from the index. */
export interface Snapshot extends SnapshotHead {
  dirs: Iterable<DirSnapshot>;
}

/**
 * A directory changed this recently may change again within the same tick of the file-system clock
 * without its time moving: until it is older than this, it is not trusted (as git treats "racily
 * clean" files).
 */
const RACY_MS = 2000;
const NUMERIC = /^\d+$/;
/** One options object for the thousands of lstat calls of a check. */
const STAT = { throwIfNoEntry: false } as const;

/** Where discovery looks, and what is there now. Taken before discovery, so later changes show. */
export function takeSnapshot(home: Home): Snapshot & { dirs: DirSnapshot[] } {
  const out: Walk = { now: Date.now(), dirs: [] };
  walk(home.sessions, 3, out);
  walk(home.archived, 0, out);
  return { home: home.dir, files: 0, names: namesSignature(home), dirs: out.dirs };
}

interface Walk {
  now: number;
  dirs: DirSnapshot[];
}

/** A directory and, `depth` levels down, its numeric subdirectories (YYYY/MM/DD). */
function walk(dir: string, depth: number, out: Walk): void {
  const st = lstatSync(dir, STAT);
  if (!st?.isDirectory()) {
    out.dirs.push({ dir, mtime: -1, ctime: -1, names: '', stats: EMPTY });
    return;
  }
  // (An entry change sets both times at once; the ctime is compared too, for mtimes put back.)
  const racy = out.now - st.mtimeMs < RACY_MS;
  const entry: DirSnapshot = { dir, mtime: racy ? null : st.mtimeMs, ctime: st.ctimeMs, names: '', stats: EMPTY };
  out.dirs.push(entry);
  // A racy directory fails every check anyway; its listing would be wasted.
  if (racy) return;
  let list: Dirent[];
  try {
    list = readdirSync(dir, { withFileTypes: true });
  } catch {
    entry.mtime = null;
    return;
  }
  const names: string[] = [];
  const stats: number[] = [];
  const below: string[] = [];
  for (const e of list) {
    if (depth > 0 && e.isDirectory() && NUMERIC.test(e.name)) below.push(`${dir}/${e.name}`);
    else if (parseRolloutName(e.name)) {
      const s = lstatSync(`${dir}/${e.name}`, STAT);
      names.push(e.name);
      stats.push(...(s ? [s.size, s.mtimeMs, s.ctimeMs, s.ino] : GONE));
    }
  }
  entry.names = names.join('\n');
  entry.stats = Buffer.from(Float64Array.from(stats).buffer);
  for (const sub of below) walk(sub, depth - 1, out);
}

const GONE = [-1, -1, -1, -1];
const EMPTY = Buffer.alloc(0);

/** Whether the home is still exactly as the snapshot saw it: one directory at a time. */
export function unchanged(snap: Snapshot, home: Home): boolean {
  if (snap.home !== home.dir || snap.names !== namesSignature(home)) return false;
  for (const d of snap.dirs) if (!dirUnchanged(d)) return false;
  return true;
}

function dirUnchanged({ dir, mtime, ctime, names, stats: bytes }: DirSnapshot): boolean {
  if (mtime === null) return false;
  const st = lstatSync(dir, STAT);
  if (!st) return mtime === -1;
  if (st.mtimeMs !== mtime || st.ctimeMs !== ctime) return false;
  if (names === '') return bytes.length === 0;
  const entries = names.split('\n');
  const stats = float64s(bytes);
  // Stats that do not cover exactly the names are a damaged row, not a match.
  if (stats.length !== entries.length * 4) return false;
  for (let k = 0; k < entries.length; k++) {
    const s = lstatSync(`${dir}/${entries[k]}`, STAT);
    const i = k << 2;
    if (!s || s.size !== stats[i] || s.mtimeMs !== stats[i + 1] || s.ctimeMs !== stats[i + 2] || s.ino !== stats[i + 3]) return false;
  }
  return true;
}

/** A Buffer may sit in a shared pool at an offset no Float64Array can start from. */
function float64s(bytes: Buffer): Float64Array {
  if (bytes.byteOffset % 8 !== 0) return new Float64Array(new Uint8Array(bytes).buffer, 0, bytes.length >> 3);
  return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length >> 3);
}

const KEY = 'snapshot';

/**
 * The snapshot of the last complete full run, if nothing else has written rows since. Its
 * directories are read from the index as the check reaches them, so the caller must finish with
 * them before it uses `db` for anything else.
 */
export function readSnapshot(db: Database): Snapshot | null {
  const text = db.prepare(`SELECT value FROM meta WHERE key = '${KEY}'`).pluck().get() as string | undefined;
  if (!text) return null;
  let head: SnapshotHead;
  try {
    head = JSON.parse(text) as SnapshotHead;
  } catch {
    return null;
  }
  // (An index written by an earlier version holds another shape: it is simply not vouched for.)
  if (typeof head.home !== 'string' || typeof head.files !== 'number' || typeof head.names !== 'string') return null;
  const rows = db.prepare('SELECT dir, mtime, ctime, names, stats FROM snapshot ORDER BY seq');
  return { home: head.home, files: head.files, names: head.names, dirs: { [Symbol.iterator]: () => rows.iterate() as Iterator<DirSnapshot> } };
}

/** Stored in the transaction that completes a full run. */
export function saveSnapshot(db: Database, snap: Snapshot): void {
  dropSnapshot(db);
  const head: SnapshotHead = { home: snap.home, files: snap.files, names: snap.names };
  db.prepare(`INSERT INTO meta (key, value) VALUES ('${KEY}', ?)`).run(JSON.stringify(head));
  const insert = db.prepare('INSERT INTO snapshot (dir, mtime, ctime, names, stats) VALUES (?, ?, ?, ?, ?)');
  for (const d of snap.dirs) insert.run(d.dir, d.mtime, d.ctime, d.names, d.stats);
}

/** Any other write to the rows makes the snapshot meaningless: it goes in the same transaction. */
export function dropSnapshot(db: Database): void {
  db.prepare(`DELETE FROM meta WHERE key = '${KEY}'`).run();
  db.prepare('DELETE FROM snapshot').run();
}

/** The index is fresh for this home: the snapshot of its last full run still holds. */
export function isFresh(db: Database, home: Home): SnapshotHead | null {
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

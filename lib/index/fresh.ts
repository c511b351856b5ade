// Whether the index still matches the home, answered without walking it. A full run records a
// snapshot of the home as it found it: every directory discovery looks into, with its times, and
// every rollout-named entry in them, with size, times and inode. While no directory changed, no file
// was added, removed or renamed; while no entry changed, none grew. So when all of them still match,
// the rows are what a full run would produce, and a listing can be answered at the cost of a few
// thousand lstat calls. Anything else (or any doubt) sends the caller to the full comparison.
// The snapshot is stored a directory per row, and checked a row at a time: at 100,000 sessions it is
// 10 MB, which as one value was a third of a listing's peak memory.
import { lstatSync, statSync } from 'node:fs';

import { sessionIndexPath, stateDbPath, walkHome, type Home, type WalkedDir } from '../home/paths.js';
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
/** One options object for the thousands of lstat calls of a check. */
const STAT = { throwIfNoEntry: false } as const;

/** Where discovery looks, and what is there now (as tests and a listing see it). */
export function takeSnapshot(home: Home): Snapshot & { dirs: DirSnapshot[] } {
  const snap = newSnapshot(home);
  const now = Date.now();
  for (const d of walkHome(home, { entries: true })) snap.dirs.push(dirSnapshot(d, now));
  return snap;
}

/** A snapshot with no directory yet: a full run adds each as its walk reaches it. */
export function newSnapshot(home: Home): Snapshot & { dirs: DirSnapshot[] } {
  return { home: home.dir, files: 0, names: namesSignature(home), dirs: [] };
}

/**
 * One directory of the walk, as a snapshot records it. The walk took the directory's times before
 * listing it, and each entry's stats once: the same stats discovery used, so the rows that a run
 * writes from them are never newer than the snapshot stored with them.
 */
export function dirSnapshot(d: WalkedDir, now: number): DirSnapshot {
  const st = d.stat;
  if (!st) return { dir: d.dir, mtime: -1, ctime: -1, names: '', stats: EMPTY };
  // A directory changed this recently is not vouched for (RACY_MS); nor is one whose listing failed.
  // (An entry change sets both times at once; the ctime is compared too, for mtimes put back.)
  const racy = now - st.mtimeMs < RACY_MS;
  const stats = new Float64Array(d.entries.length * 4);
  d.entries.forEach(([, s], k) => stats.set(s ? [s.size, s.mtimeMs, s.ctimeMs, s.ino] : GONE, k * 4));
  return {
    dir: d.dir,
    mtime: racy ? null : st.mtimeMs,
    ctime: st.ctimeMs,
    names: d.entries.map(([name]) => name).join('\n'),
    stats: Buffer.from(stats.buffer),
  };
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

/**
 * The stored snapshot's directories, looked up one at a time as a full run walks: a directory whose
 * row still holds (times, names and stats alike) has files whose rows are as the last full run
 * wrote them, so the run need not look at those rows. None when there is no snapshot of this home.
 */
export function storedDirs(db: Database, home: Home): ((now: DirSnapshot) => boolean) | null {
  const snap = readSnapshot(db);
  if (!snap || snap.home !== home.dir) return null;
  const row = db.prepare('SELECT dir, mtime, ctime, names, stats FROM snapshot WHERE dir = ?');
  return (now) => {
    if (now.mtime === null) return false;
    const was = row.get(now.dir) as DirSnapshot | undefined;
    return was !== undefined && was.mtime === now.mtime && was.ctime === now.ctime && was.names === now.names && was.stats.equals(now.stats);
  };
}

/**
 * Rows of these directories were written by a run that did not walk the home: their snapshot rows
 * no longer vouch for them (nor, until the next full run, for the home), while every other
 * directory's still does.
 */
export function distrust(db: Database, dirs: Iterable<string>): void {
  const mark = db.prepare('UPDATE snapshot SET mtime = NULL WHERE dir = ?');
  for (const dir of new Set(dirs)) mark.run(dir);
}

/**
 * Stored in the transaction that completes a full run. `kept`: directories whose stored rows held
 * when the run walked them (see storedDirs), and stay as they are; `snap.dirs` holds the others.
 * Every other row goes.
 */
export function saveSnapshot(db: Database, snap: Snapshot, kept: string[] = []): void {
  withdrawSnapshot(db);
  db.prepare('DELETE FROM snapshot WHERE dir NOT IN (SELECT value FROM json_each(?))').run(JSON.stringify(kept));
  const insert = db.prepare('INSERT INTO snapshot (dir, mtime, ctime, names, stats) VALUES (?, ?, ?, ?, ?)');
  for (const d of snap.dirs) insert.run(d.dir, d.mtime, d.ctime, d.names, d.stats);
  const head: SnapshotHead = { home: snap.home, files: snap.files, names: snap.names };
  db.prepare(`INSERT INTO meta (key, value) VALUES ('${KEY}', ?)`).run(JSON.stringify(head));
}

/**
 * Without its head, the snapshot vouches for nothing: a full run withdraws it as it starts writing
 * (its directory rows stay, for the same run to keep those that still hold).
 */
export function withdrawSnapshot(db: Database): void {
  db.prepare(`DELETE FROM meta WHERE key = '${KEY}'`).run();
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

// Whether the index still matches the home, answered without walking it. A full run records a
// snapshot of the home as it found it: every directory discovery looks into, with its times, and
// every rollout-named entry in them, with size, times and inode. While no directory changed, no file
// was added, removed or renamed; while no entry changed, none grew. So when all of them still match,
// the rows are what a full run would produce, and a listing can be answered at the cost of a few
// thousand lstat calls. Anything else (or any doubt) sends the caller to the full comparison.
import { lstatSync, readdirSync, statSync, type Dirent } from 'node:fs';

import { parseRolloutName, sessionIndexPath, stateDbPath, type Home } from '../home/paths.js';
import type { Database } from './db.js';

/**
 * `[path, mtimeMs, ctimeMs, entries]` of one directory: times are -1 when it did not exist, and the
 * mtime is null when the directory cannot be vouched for (see RACY_MS); `entries` counts its rollout
 * entries, which follow those of the directories before it in `Snapshot.entries`.
 */
type Dir = [string, number | null, number, number];

/**
 * Stored as JSON in the index; ten thousand sessions make a third of a megabyte. The entries are
 * packed (one string of names, one array of numbers) because a listing parses this on every run, and
 * ten thousand small arrays cost it more than the check itself.
 */
export interface Snapshot {
  /** The home it describes (an index file may be pointed at another home). */
  home: string;
  /** Logical session files the run found: the `scanned` of a run that has nothing to do. */
  files: number;
  names: string;
  dirs: Dir[];
  /** Every rollout-named entry of every directory, in order, joined by newlines. */
  entries: string;
  /** `size, mtimeMs, ctimeMs, ino` of each entry as lstat saw them (all -1: it was gone), as base64 float64s. */
  stats: string;
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
export function takeSnapshot(home: Home): Snapshot {
  const out: Walk = { now: Date.now(), dirs: [], names: [], stats: [] };
  walk(home.sessions, 3, out);
  walk(home.archived, 0, out);
  return {
    home: home.dir,
    files: 0,
    names: namesSignature(home),
    dirs: out.dirs,
    entries: out.names.join('\n'),
    stats: Buffer.from(Float64Array.from(out.stats).buffer).toString('base64'),
  };
}

interface Walk {
  now: number;
  dirs: Dir[];
  names: string[];
  stats: number[];
}

/** A directory and, `depth` levels down, its numeric subdirectories (YYYY/MM/DD). */
function walk(dir: string, depth: number, out: Walk): void {
  const st = lstatSync(dir, STAT);
  if (!st?.isDirectory()) {
    out.dirs.push([dir, -1, -1, 0]);
    return;
  }
  // (An entry change sets both times at once; the ctime is compared too, for mtimes put back.)
  const racy = out.now - st.mtimeMs < RACY_MS;
  const entry: Dir = [dir, racy ? null : st.mtimeMs, st.ctimeMs, 0];
  out.dirs.push(entry);
  // A racy directory fails every check anyway; its listing would be wasted.
  if (racy) return;
  let list: Dirent[];
  try {
    list = readdirSync(dir, { withFileTypes: true });
  } catch {
    entry[1] = null;
    return;
  }
  // A directory's own entries come before its subdirectories', so that they stay together.
  const below: string[] = [];
  for (const e of list) {
    if (depth > 0 && e.isDirectory() && NUMERIC.test(e.name)) below.push(`${dir}/${e.name}`);
    else if (parseRolloutName(e.name)) {
      const s = lstatSync(`${dir}/${e.name}`, STAT);
      out.names.push(e.name);
      out.stats.push(...(s ? [s.size, s.mtimeMs, s.ctimeMs, s.ino] : GONE));
      entry[3]++;
    }
  }
  for (const sub of below) walk(sub, depth - 1, out);
}

const GONE = [-1, -1, -1, -1];

/** Whether the home is still exactly as the snapshot saw it. */
export function unchanged(snap: Snapshot, home: Home): boolean {
  if (snap.home !== home.dir || snap.names !== namesSignature(home)) return false;
  const stats = float64s(Buffer.from(snap.stats, 'base64'));
  // The names are read one at a time from the joined string: split, 100,000 of them were tens of
  // megabytes at the peak of every listing.
  const { entries } = snap;
  let at = 0;
  let k = 0;
  for (const [dir, mtime, ctime, count] of snap.dirs) {
    if (mtime === null) return false;
    const st = lstatSync(dir, STAT);
    if (!st) {
      if (mtime !== -1) return false;
      continue;
    }
    if (st.mtimeMs !== mtime || st.ctimeMs !== ctime) return false;
    for (const end = k + count; k < end; k++) {
      if (at > entries.length || (k + 1) * 4 > stats.length) return false;
      let next = entries.indexOf('\n', at);
      if (next === -1) next = entries.length;
      const s = lstatSync(`${dir}/${entries.slice(at, next)}`, STAT);
      at = next + 1;
      const i = k << 2;
      if (!s || s.size !== stats[i] || s.mtimeMs !== stats[i + 1] || s.ctimeMs !== stats[i + 2] || s.ino !== stats[i + 3]) return false;
    }
  }
  // Every name and every stat was accounted for: none left over.
  return at >= entries.length && k * 4 === stats.length;
}

/** A small Buffer may sit in the shared pool at an offset no Float64Array can start from. */
function float64s(bytes: Buffer): Float64Array {
  if (bytes.byteOffset % 8 !== 0) return new Float64Array(new Uint8Array(bytes).buffer, 0, bytes.length >> 3);
  return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length >> 3);
}

const KEY = 'snapshot';

/** The snapshot of the last complete full run, if nothing else has written rows since. */
export function readSnapshot(db: Database): Snapshot | null {
  const text = db.prepare(`SELECT value FROM meta WHERE key = '${KEY}'`).pluck().get() as string | undefined;
  if (!text) return null;
  try {
    const snap = JSON.parse(text) as Snapshot;
    // (An index written by an earlier version holds another shape: it is simply not vouched for.)
    return typeof snap.entries === 'string' && typeof snap.stats === 'string' ? snap : null;
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

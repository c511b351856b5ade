// Bringing the index up to date, as the binaries ask for it: first the cheap check that the home is
// as the last run left it (fresh.ts); failing that, the work of sync.ts, loaded only then.
import { existsSync } from 'node:fs';
import { notice } from '../cli/errors.js';
import { assertHome, noSessionsIn, type Home } from '../home/paths.js';
import { indexError, inspectIndex, isBehind, isDamage, openIndex, type Database } from './db.js';
import { isFresh, type SnapshotHead } from './fresh.js';
import { emptySummary, type Drift, type PathsOptions, type Summary, type UpdateOptions } from './summary.js';

export type { Drift, PathsOptions, Summary, UpdateOptions };

/** The snapshot of the last full run, when the home still matches it (see fresh.ts). */
function freshSnapshot(home: Home, index: string): SnapshotHead | null {
  if (!existsSync(index)) return null;
  const db = openIndex(index, { readonly: true });
  try {
    return isFresh(db, home);
  } finally {
    db.close();
  }
}

/**
 * Brings the whole index up to date; null when another writer held the lock past `waitMs`. When the
 * home is as the last run left it, that is all.
 */
export async function update(home: Home, opts: UpdateOptions): Promise<Summary | null> {
  assertHome(home);
  const started = Date.now();
  // An index that cannot even say whether it is fresh is mended by the full update below.
  const fresh = opts.rebuild ? null : unlessUnreadable(() => freshSnapshot(home, opts.index), opts.index);
  if (fresh) return { ...emptySummary(), scanned: fresh.files, unchanged: fresh.files, ms: Date.now() - started };
  return (await import('./sync.js')).updateHere(home, opts).catch((err: unknown) => {
    throw indexError(err, opts.index);
  });
}

/** `read()`, or null when the index cannot be read as it is (the caller mends it, or migrates it). */
function unlessUnreadable<T>(read: () => T, index: string): T | null {
  try {
    return read();
  } catch (err) {
    if (inspectIndex(index) || isDamage(err) || isBehind(index)) return null;
    throw indexError(err, index);
  }
}

/** What `update` would do, without doing it: one entry per drifted session. */
export async function check(home: Home, index: string): Promise<Drift[]> {
  if (unlessUnreadable(() => freshSnapshot(home, index), index)) return [];
  return (await import('./sync.js')).checkHere(home, index);
}

/** Brings the rows of these paths up to date; null when another writer held the lock. */
export async function updatePaths(home: Home, paths: string[], opts: PathsOptions): Promise<Summary | null> {
  return (await import('./sync.js')).updatePathsHere(home, paths, opts).catch((err: unknown) => {
    throw indexError(err, opts.index);
  });
}

/**
 * The index opened for reading, brought up to date first when `update` is set: when the home still
 * matches the snapshot, at the cost of the check alone; otherwise by a run that does not wait for
 * another writer (whose index is then read as it stands). The writing side loads only then.
 */
export async function openFresh(home: Home, index: string, bringUpToDate: boolean): Promise<Database> {
  assertHome(home);
  if (existsSync(index)) {
    try {
      const db = openIndex(index, { readonly: true });
      if (!bringUpToDate || isFresh(db, home)) return sayIfEmpty(home, db);
      db.close();
    } catch (err) {
      // Unreadable: bring it up to date, which builds it anew. Asked not to, say how.
      if (!bringUpToDate) throw err;
    }
  }
  if (bringUpToDate) await update(home, { index, waitMs: 0 });
  return sayIfEmpty(home, openIndex(index, { readonly: true }));
}

/** `db`, having said on stderr when it knows no session at all (a filter that matches none is another matter). */
export function sayIfEmpty(home: Home, db: Database): Database {
  if (!db.prepare('SELECT 1 FROM sessions LIMIT 1').get()) notice(noSessionsIn(home));
  return db;
}

// The one way a SQLite file is opened, ours (the index) or Codex's (state_5.sqlite and the others).
// better-sqlite3 is loaded here and only here, on first use, so binaries that never open a
// database never pay for it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

export type Database = import('better-sqlite3').Database;

export interface SqliteOptions {
  readonly?: boolean;
  /** Fail when there is no file, instead of making one. */
  fileMustExist?: boolean;
  /**
   * How long any statement waits for another connection's lock. Given to the connection itself, so
   * it holds from the first statement on (better-sqlite3's own default, 5 s, would apply until a
   * busy_timeout pragma ran, and a first statement that waits is exactly the case that matters).
   */
  timeoutMs: number;
}

/** Each connection's page cache, in KiB. */
const CACHE_KB = 4 << 10;

let sqlite: typeof import('better-sqlite3') | undefined;
let addon: string | null | undefined;

/**
 * A connection. The compiled addon is named directly when it is where npm builds it: better-sqlite3's
 * own lookup (the `bindings` package) tries a dozen paths first, a few milliseconds of every listing.
 */
export function openSqlite(path: string, opts: SqliteOptions): Database {
  sqlite ??= require('better-sqlite3') as typeof import('better-sqlite3');
  if (addon === undefined) {
    const built = join(dirname(require.resolve('better-sqlite3/package.json')), 'build/Release/better_sqlite3.node');
    addon = existsSync(built) ? built : null;
  }
  const options = { readonly: Boolean(opts.readonly), fileMustExist: Boolean(opts.fileMustExist), timeout: opts.timeoutMs };
  const db = new sqlite(path, addon ? { ...options, nativeBinding: addon } : options);
  // SQLite as built here caches 16 MB per schema (a file, and the temporary one): at 100,000
  // sessions that was a third of a run's memory. A writer's 4 MB is enough for full-text segments
  // to merge in memory (dirty pages spill to the WAL; 8 MB built no faster on the bench's homes).
  try {
    db.pragma(`cache_size = -${CACHE_KB}`);
    db.pragma(`temp.cache_size = -${CACHE_KB >> 2}`);
  } catch {
    // A file that is not a database (or is damaged) says so again at the caller's first statement,
    // where the caller knows what to tell the user about it.
  }
  return db;
}

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
  return new sqlite(path, addon ? { ...options, nativeBinding: addon } : options);
}

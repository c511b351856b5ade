// The index database: where it lives, its schema and migrations, and the lock that makes one writer
// at a time.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Home } from '../home.js';
import { openSqlite, type Database } from '../sqlite.js';

export type { Database };

/** `--index FILE`, else `$ROLLOUT_INDEX`, else `<CODEX_HOME>/rollout-index.sqlite`. */
export function indexPath(home: Home, flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag || env.ROLLOUT_INDEX || join(home.dir, 'rollout-index.sqlite'));
}

/**
 * One row per logical session file (a `.jsonl`/`.jsonl.zst` pair is one). A thread has one file,
 * except a reverted paginated thread (one per revision) or a copy in both roots: `current` marks the
 * file that stands for its thread, and listings show only those.
 *
 * `docs` is the full-text index. Its rowid is `file << 32 | n`, so a file's documents are one rowid
 * range (dropped or extended without scanning) and a hit names its file without a join.
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE sessions (
     file INTEGER PRIMARY KEY,
     id TEXT NOT NULL,
     rollout_id TEXT NOT NULL,
     path TEXT NOT NULL UNIQUE,
     root TEXT NOT NULL,
     archived INTEGER NOT NULL,
     compressed INTEGER NOT NULL,
     current INTEGER NOT NULL DEFAULT 0,
     generation TEXT,
     history_mode TEXT,
     size INTEGER NOT NULL,
     mtime_ms INTEGER NOT NULL,
     ino INTEGER NOT NULL,
     name_at INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL DEFAULT 0,
     updated_at INTEGER NOT NULL DEFAULT 0,
     last_line_at INTEGER NOT NULL DEFAULT 0,
     cwd TEXT,
     originator TEXT,
     source TEXT,
     model_provider TEXT,
     model TEXT,
     effort TEXT,
     cli_version TEXT,
     git_branch TEXT,
     git_sha TEXT,
     git_origin_url TEXT,
     forked_from_id TEXT,
     parent_thread_id TEXT,
     history_base TEXT,
     title TEXT,
     turns INTEGER NOT NULL DEFAULT 0,
     own_turns INTEGER NOT NULL DEFAULT 0,
     tokens INTEGER NOT NULL DEFAULT 0,
     bad_lines INTEGER NOT NULL DEFAULT 0,
     read_offset INTEGER NOT NULL DEFAULT 0,
     read_line INTEGER NOT NULL DEFAULT 0,
     tail TEXT,
     doc_count INTEGER NOT NULL DEFAULT 0,
     state TEXT
   );
   CREATE INDEX sessions_id ON sessions(id);
   CREATE INDEX sessions_rollout_id ON sessions(rollout_id);
   CREATE INDEX sessions_updated ON sessions(current, updated_at DESC, id DESC);
   CREATE INDEX sessions_created ON sessions(current, created_at DESC, id DESC);
   CREATE INDEX sessions_cwd ON sessions(cwd);
   CREATE TABLE names (id TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
   CREATE VIRTUAL TABLE docs USING fts5(text, role UNINDEXED, line UNINDEXED, ordinal UNINDEXED,
     tokenize = 'unicode61 remove_diacritics 2');`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Page cache of a writer: enough for full-text segments to merge in memory, small enough that a run
 * stays within its memory budget whatever the size of the sessions (dirty pages spill to the WAL).
 * (8 MB built no faster than 4 on the bench's homes.)
 */
const CACHE_KB = 4 << 10;

export interface OpenOptions {
  /** Make the file (and its directory) when missing; otherwise a missing index is an error. */
  create?: boolean;
  readonly?: boolean;
  /** How long to wait for another writer's transaction, in ms. */
  busyMs?: number;
}

/** Opens the index, applying any migrations it lacks (not for a read-only open). */
export function openIndex(path: string, opts: OpenOptions = {}): Database {
  if (opts.create) mkdirSync(dirname(path), { recursive: true });
  const db = openSqlite(path, { readonly: opts.readonly, fileMustExist: !opts.create, timeoutMs: opts.busyMs ?? 10_000 });
  try {
    if (!opts.readonly) {
      db.pragma(`cache_size = -${CACHE_KB}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db);
    } else if (version(db) < SCHEMA_VERSION) {
      throw new Error(`the index at ${path} has an older schema; run rollout-index`);
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

const version = (db: Database): number => db.pragma('user_version', { simple: true }) as number;

function migrate(db: Database): void {
  if (version(db) >= SCHEMA_VERSION) return;
  db.transaction(() => {
    const from = version(db);
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/**
 * The writers' lock: an exclusive transaction on a small SQLite file beside the index. The kernel
 * drops it when its holder dies, so a killed run never leaves a stale lock behind.
 */
export class WriterLock {
  private constructor(private readonly db: Database) {}

  /** Waits up to `waitMs` for the lock; null when another writer still holds it. */
  static acquire(indexPath: string, waitMs: number): WriterLock | null {
    mkdirSync(dirname(indexPath), { recursive: true });
    const db = openSqlite(`${indexPath}.lock`, { timeoutMs: waitMs });
    try {
      db.pragma('journal_mode = DELETE');
      db.exec('BEGIN EXCLUSIVE');
      return new WriterLock(db);
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') return null;
      throw err;
    }
  }

  release(): void {
    try {
      this.db.exec('ROLLBACK');
    } finally {
      this.db.close();
    }
  }
}

export const indexExists = (path: string): boolean => existsSync(path);

/**
 * A fresh index file for a rebuild: nothing is synced until it is renamed into place. (A journal in
 * memory would hold every page a batch rewrites; the WAL keeps them on disk.)
 */
export function openScratch(path: string): Database {
  const db = openSqlite(path, { timeoutMs: 10_000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma(`cache_size = -${CACHE_KB}`);
  migrate(db);
  return db;
}

/** Turns a scratch index into a finished one (on disk, its WAL emptied, closed). */
export function finishScratch(db: Database): void {
  db.pragma('synchronous = FULL');
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/**
 * Empties the WAL of the index about to be replaced, so that no frame of the old file can be played
 * onto the new one after the rename. False when it could not (readers pinning it, or a damaged file).
 */
export function drainWal(path: string): boolean {
  if (!existsSync(path)) return true;
  let db: Database | null = null;
  try {
    db = openSqlite(path, { fileMustExist: true, timeoutMs: 2000 });
    for (let i = 0; i < 20; i++) {
      const [r] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      if (!r || r.busy === 0) return true;
    }
    return false;
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

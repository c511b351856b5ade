// The index database: where it lives, its schema and migrations, and the lock that makes one writer
// at a time.
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { codeOf, notice, RolloutError } from '../cli/errors.js';
import type { Home } from '../home/paths.js';
import { openSqlite, type Database } from '../core/sqlite.js';

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
  // 2: thread_source, for the selection language's --source. Rows lack it until read again: the
  // index is a cache, so the update that migrates reads every file anew.
  `ALTER TABLE sessions ADD COLUMN thread_source TEXT;
   DELETE FROM sessions; DELETE FROM docs; DELETE FROM names; DELETE FROM meta;`,
  // 3: where each file's bytes go (rollout-du): decompressed size and the bytes of each kind of
  // content (core/kinds.ts). Counted while a file is read, so every file is read anew, as for 2.
  `ALTER TABLE sessions ADD COLUMN uncompressed INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE sessions ADD COLUMN images INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE sessions ADD COLUMN tool_output INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE sessions ADD COLUMN reasoning INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE sessions ADD COLUMN compaction INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE sessions ADD COLUMN copied INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE sessions ADD COLUMN other INTEGER NOT NULL DEFAULT 0;
   DELETE FROM sessions; DELETE FROM docs; DELETE FROM names; DELETE FROM meta;`,
  // 4: what each file's model responses used (rollout-usage), counted while it is read: every file
  // is read anew, as for 2.
  `ALTER TABLE sessions ADD COLUMN usage TEXT;
   DELETE FROM sessions; DELETE FROM docs; DELETE FROM names; DELETE FROM meta;`,
  // 5: a token_count whose running sum did not move is no response (Codex 0.151's event after a
  // compaction counted once too many): every file's usage is counted anew.
  `DELETE FROM sessions; DELETE FROM docs; DELETE FROM names; DELETE FROM meta;`,
  // 6: the freshness snapshot (fresh.ts), one row per directory instead of one value in meta, so
  // that a check holds one directory at a time and a full run can trust each directory on its own.
  // The rows stay; the next full run stores it anew. And the readers of a page of chosen sessions
  // are found through an index of history_base, not a scan of every row per page.
  `CREATE TABLE IF NOT EXISTS snapshot (
     seq INTEGER PRIMARY KEY,
     dir TEXT NOT NULL,
     mtime REAL,
     ctime REAL NOT NULL,
     names TEXT NOT NULL,
     stats BLOB NOT NULL
   );
   CREATE INDEX IF NOT EXISTS snapshot_dir ON snapshot(dir);
   CREATE INDEX IF NOT EXISTS sessions_history_base ON sessions(history_base);
   DELETE FROM meta WHERE key = 'snapshot';`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

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
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db);
    } else if (version(db) !== SCHEMA_VERSION || !isIndex(db)) {
      const what = isIndex(db) ? `has schema ${version(db)}, this rollout reads ${SCHEMA_VERSION}` : 'is not a rollout index';
      throw new RolloutError(`the file ${what}; run rollout-index to build the index anew`, { file: path });
    }
    return db;
  } catch (err) {
    db.close();
    throw indexError(err, path);
  }
}

const version = (db: Database): number => db.pragma('user_version', { simple: true }) as number;

/** Marks a file as a rollout index (`PRAGMA application_id`, "roll"): told apart from anyone else's database. */
const APPLICATION_ID = 0x726f6c6c;

/** Marked as ours, or (made before the mark) holding our tables. */
function isIndex(db: Database): boolean {
  const app = db.pragma('application_id', { simple: true }) as number;
  if (app === APPLICATION_ID) return true;
  if (app !== 0) return false;
  const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
  return LEGACY_TABLES.every((t) => tables.has(t));
}

const LEGACY_TABLES = ['sessions', 'docs', 'meta', 'names'];

function migrate(db: Database): void {
  if (version(db) >= SCHEMA_VERSION) {
    if (db.pragma('application_id', { simple: true }) === 0) db.pragma(`application_id = ${APPLICATION_ID}`);
    return;
  }
  db.transaction(() => {
    const from = version(db);
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    db.pragma(`application_id = ${APPLICATION_ID}`);
  }).immediate();
}

/** SQLite's error codes that say a file cannot be read as a database at all. */
const UNREADABLE = /^SQLITE_(NOTADB|CORRUPT)/;

/** Whether an error says the index file itself is damaged (as opposed to busy, or a full disk). */
export const isDamage = (err: unknown): boolean => UNREADABLE.test(codeOf(err));

/**
 * A SQLite error as the user can act on it: it names the index file and the remedy. Errors of our
 * own, and system errors (which name their path), pass as they are.
 */
export function indexError(err: unknown, path: string): unknown {
  const code = codeOf(err);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC')
    return new RolloutError('the rollout index cannot be written: the disk is full (free some space, or give --index a file on another disk)', { file: path });
  if (!code.startsWith('SQLITE_')) return err;
  const remedy = isDamage(err)
    ? "run 'rollout-index --rebuild' to build it anew"
    : code.startsWith('SQLITE_BUSY')
      ? 'another run holds it; try again'
      : "if it persists, run 'rollout-index --rebuild'";
  return new RolloutError(`the rollout index: ${(err as Error).message}; ${remedy}`, { file: path });
}

/**
 * Why the file at `path` cannot serve as the rollout index, or null when it can (or is not there,
 * or has only migrations to catch up on). `ours`: the file is a rollout index, or holds nothing,
 * and may simply be rebuilt; otherwise it is someone else's file, or too damaged to tell.
 */
export function inspectIndex(path: string): { why: string; ours: boolean } | null {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return null;
  if (!st.isFile()) return { why: 'not a file', ours: false };
  if (st.size === 0) return { why: 'empty', ours: true };
  let db: Database | null = null;
  try {
    db = openSqlite(path, { readonly: true, fileMustExist: true, timeoutMs: 10_000 });
    if (!isIndex(db)) {
      const app = db.pragma('application_id', { simple: true }) as number;
      const tables = db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number };
      return tables.n || app ? { why: "another program's database (it has no rollout index tables)", ours: false } : { why: 'an empty database', ours: true };
    }
    const v = version(db);
    if (v > SCHEMA_VERSION) return { why: `made by a newer rollout (schema ${v}; this one reads ${SCHEMA_VERSION})`, ours: true };
    return null;
  } catch (err) {
    if (isDamage(err)) return { why: `not readable (${(err as Error).message})`, ours: false };
    throw indexError(err, path);
  } finally {
    db?.close();
  }
}

/** Whether the index at `path` is ours but made before the latest migrations (a writer's open brings it up). */
export function isBehind(path: string): boolean {
  let db: Database | null = null;
  try {
    db = openSqlite(path, { readonly: true, fileMustExist: true, timeoutMs: 10_000 });
    return isIndex(db) && version(db) < SCHEMA_VERSION;
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

/**
 * The index is a cache: one that cannot be read makes way for a new one, with a notice saying what
 * was there and where it went. Called by writers, under the writer lock.
 */
export function mendIndex(path: string): void {
  const found = inspectIndex(path);
  if (!found) return;
  const aside = setAside(path, found);
  notice(`the index ${path} is ${found.why}; ${aside ? `moved it to ${aside} and ` : ''}building a new one`);
}

/**
 * Makes way for a new index where an unusable one lies: a rollout index (or an empty file) is
 * removed, since it is only a cache; anything else is moved aside, never deleted, as
 * `<index>.unusable-<UTC time>`. Returns where it went, or null when it was removed.
 */
export function setAside(path: string, found: { ours: boolean }): string | null {
  const companions = ['-wal', '-shm', '-journal'];
  if (found.ours) {
    for (const p of [path, ...companions.map((c) => path + c)]) rmSync(p, { force: true });
    return null;
  }
  const aside = `${path}.unusable-${new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
  renameSync(path, aside);
  for (const c of companions) if (existsSync(path + c)) renameSync(path + c, aside + c);
  return aside;
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

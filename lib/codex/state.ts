// Writing Codex's own state beside the rollouts, as Codex itself changes it: the thread-name log
// `session_index.jsonl` and the rows of its SQLite DBs (`state_5.sqlite` and the others) when
// sessions are deleted, archived, moved or named. Reading names is home/names.ts.
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { appendFile, open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeAtomic } from '../fs/atomic.js';
import { codeOf, RolloutError } from '../cli/errors.js';
import { withFileLock } from '../fs/file-lock.js';
import { CODEX_BUSY_MS } from '../home/names.js';
import { sessionIndexPath, sqliteHome, stateDbPath, type Home } from '../home/paths.js';
import { lines, newStats } from '../core/lines.js';
import { isObject, parseLine } from '../core/record.js';
import { fingerprint } from '../fs/safety.js';
import { fileChunks } from '../core/source.js';
import { openSqlite, type Database } from '../core/sqlite.js';

// ---- Write side: keeping Codex's own state in step when sessions are deleted, archived or moved.
// Each DB is opened only for its write, with Codex's busy timeout, and written in one short
// IMMEDIATE transaction, so a running Codex waits milliseconds at most. A DB that is not there, or a
// table that an older Codex never made, is simply not written.

/** Where each of Codex's DBs keeps per-thread rows, as `codex delete` (0.169) removes them. */
const THREAD_ROWS: Record<string, Array<[table: string, column: string]>> = {
  'state_5.sqlite': [
    ['thread_dynamic_tools', 'thread_id'],
    ['thread_attachments', 'thread_id'],
    ['guardian_review_feedback', 'thread_id'],
    ['thread_read_receipts', 'thread_id'],
    ['thread_spawn_edges', 'parent_thread_id'],
    ['thread_spawn_edges', 'child_thread_id'],
    ['threads', 'id'],
  ],
  'thread_history_1.sqlite': [
    ['thread_items', 'thread_id'],
    ['thread_turns', 'thread_id'],
    ['thread_history_projection_state', 'thread_id'],
  ],
  'goals_1.sqlite': [
    ['thread_goals', 'thread_id'],
    ['thread_goal_continuation_deferrals', 'thread_id'],
  ],
  'queue_1.sqlite': [['queued_items', 'thread_id']],
};

function openForWrite(path: string): Database | null {
  if (!existsSync(path)) return null;
  return openSqlite(path, { fileMustExist: true, timeoutMs: CODEX_BUSY_MS });
}

/** Runs `write` in one IMMEDIATE transaction on the DB at `path`; returns its result, or null without a DB. */
function inTransaction<T>(path: string, write: (db: Database) => T): T | null {
  let db: Database | null = null;
  try {
    db = openForWrite(path);
    if (!db) return null;
    return db.transaction(() => write(db!)).immediate();
  } catch (err) {
    throw codexDbError(err, path);
  } finally {
    db?.close();
  }
}

/** A SQLite error of one of Codex's databases, naming the file and what to do about it. */
export function codexDbError(err: unknown, path: string): unknown {
  const code = codeOf(err);
  if (!code.startsWith('SQLITE_')) return err;
  const remedy = code.startsWith('SQLITE_BUSY')
    ? 'Codex held it too long; run the command again'
    : "Codex rebuilds its state from the rollouts when it starts, and 'rollout-index --codex' mends its rows once the file can be written";
  return new RolloutError(`Codex's database: ${(err as Error).message}; ${remedy}`, { file: path });
}

function columnsOf(db: Database, table: string): Set<string> {
  return new Set((db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map((c) => c.name));
}

/**
 * Removes a thread's rows from Codex's DBs, as `codex delete` does: the `threads` row and the rows
 * that hang off it, its `thread_history_1` projection, its goal and its queued items. Returns the
 * number of rows removed.
 */
export function deleteThreadRows(home: Home, threadId: string): number {
  return Object.keys(THREAD_ROWS).reduce((n, file) => n + deleteRowsIn(home, file, threadId), 0);
}

/**
 * Forgets Codex's `thread_history_1` projection of a thread whose file was rewritten: it records
 * how far it has read the file by byte offset, and a rewritten line moves every byte after it (a
 * fork at a turn would be cut inside a line). Codex projects the file again from its start when it
 * next loads the thread (resume, a turn, a fork); until then its thread/read shows no turns, as for
 * a thread of a home it rebuilt from the files (test/interop/FINDINGS.md 9). Returns the rows removed.
 */
export const forgetProjection = (home: Home, threadId: string): number => deleteRowsIn(home, 'thread_history_1.sqlite', threadId);

/** The byte offsets Codex's projection keeps into a thread's rollout, by table. */
const PROJECTION_OFFSETS: Array<[table: string, columns: string[]]> = [
  ['thread_turns', ['rollout_byte_offset', 'rollout_end_byte_offset']],
  ['thread_history_projection_state', ['next_rollout_byte_offset']],
];

/**
 * Moves the byte offsets of Codex's `thread_history_1` projection of a thread whose one rollout
 * file was rewritten, as `move` maps the old file's line boundaries to the new one's: its turns
 * (and the forks cut at them) stay where they were, and thread/read keeps showing them. Returns the
 * rows changed.
 */
export function moveProjection(home: Home, threadId: string, move: (offset: number) => number): number {
  return (
    inTransaction(join(sqliteHome(home), 'thread_history_1.sqlite'), (db) => {
      let n = 0;
      for (const [table, wanted] of PROJECTION_OFFSETS) {
        const have = columnsOf(db, table);
        const columns = wanted.filter((c) => have.has(c));
        if (!columns.length || !have.has('thread_id')) continue;
        const rows = db.prepare(`SELECT rowid AS r, ${columns.map((c) => `"${c}"`).join(', ')} FROM "${table}" WHERE thread_id = ?`).all(threadId) as Record<
          string,
          number | null
        >[];
        const update = db.prepare(`UPDATE "${table}" SET ${columns.map((c) => `"${c}" = @${c}`).join(', ')} WHERE rowid = @r`);
        for (const row of rows) {
          const moved: Record<string, number | null> = { r: row.r! };
          for (const c of columns) moved[c] = typeof row[c] === 'number' ? move(row[c]) : row[c]!;
          n += update.run(moved).changes;
        }
      }
      return n;
    }) ?? 0
  );
}

/** The thread's rows in one of Codex's DBs (THREAD_ROWS), in one transaction. */
function deleteRowsIn(home: Home, file: string, threadId: string): number {
  return (
    inTransaction(join(sqliteHome(home), file), (db) => {
      let n = 0;
      for (const [table, column] of THREAD_ROWS[file]!) {
        if (columnsOf(db, table).has(column)) n += db.prepare(`DELETE FROM "${table}" WHERE "${column}" = ?`).run(threadId).changes;
      }
      return n;
    }) ?? 0
  );
}

export interface ThreadMove {
  /** Where the thread's current rollout is now (same name as `rollout_path` had, new folder). */
  rolloutPath: (old: string) => string;
  archived: boolean;
  /** Seconds and ms for `archived_at` and `updated_at*`, as Codex sets them on (un)archive. */
  nowMs: number;
  /** The moved file's mtime: archive re-reads `updated_at_ms` from it; unarchive touches it to now. */
  mtimeMs: number;
}

/**
 * Records an archive or unarchive in the `threads` row, as `codex archive`/`unarchive` do:
 * `rollout_path` to the new folder; archive sets `archived = 1`, `archived_at = now` and
 * `updated_at*` from the file's mtime; unarchive clears both and sets `updated_at*` to now. False
 * when Codex has no row for the thread (its read-repair will make one from the file).
 */
export function moveThreadRow(home: Home, threadId: string, move: ThreadMove): boolean {
  return (
    inTransaction(stateDbPath(home), (db) => {
      const cols = columnsOf(db, 'threads');
      if (!cols.has('rollout_path')) return false;
      const row = db.prepare('SELECT rollout_path FROM threads WHERE id = ?').get(threadId) as { rollout_path: string } | undefined;
      if (!row) return false;
      const set: Record<string, unknown> = {
        rollout_path: move.rolloutPath(row.rollout_path),
        archived: move.archived ? 1 : 0,
        archived_at: move.archived ? Math.floor(move.nowMs / 1000) : null,
        updated_at: Math.floor(move.mtimeMs / 1000),
        updated_at_ms: Math.trunc(move.mtimeMs),
      };
      const names = Object.keys(set).filter((c) => cols.has(c));
      db.prepare(`UPDATE threads SET ${names.map((c) => `"${c}" = @${c}`).join(', ')} WHERE id = @id`).run({
        ...Object.fromEntries(names.map((c) => [c, set[c]])),
        id: threadId,
      });
      return true;
    }) ?? false
  );
}

/**
 * Rewrites `session_index.jsonl` without the entries of `ids` (atomically, mode kept), as `codex
 * delete` does. Lines that are not entries are kept as they are. Returns the entries removed; the
 * file is not rewritten when there are none. Rollout runs take turns through a lock; an entry that
 * Codex appends meanwhile (it takes no lock) makes the rewrite start over, so it is never lost.
 */
export async function removeNameEntries(home: Home, ids: ReadonlySet<string>): Promise<number> {
  const path = sessionIndexPath(home);
  if (!ids.size || !existsSync(path)) return 0;
  return withFileLock(path, async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await rewriteWithout(path, ids);
      } catch (err) {
        if (!(err instanceof RolloutError) || !/changed while/.test(err.message) || attempt === 5) throw err;
      }
    }
  });
}

async function rewriteWithout(path: string, ids: ReadonlySet<string>): Promise<number> {
  let seen = fingerprint(path);
  const dropped = (bytes: Buffer) => {
    const e = parseLine(bytes);
    return isObject(e) && typeof e.id === 'string' && ids.has(e.id.toLowerCase());
  };
  let removed = 0;
  for await (const line of lines(fileChunks(path, { limit: seen.size }))) if (dropped(line.bytes)) removed++;
  if (!removed) return 0;
  async function* kept() {
    const stats = newStats();
    for await (const line of lines(fileChunks(path, { limit: seen.size }), stats)) if (!dropped(line.bytes)) yield Buffer.concat([line.bytes, NEWLINE]);
    // An entry being appended right now is kept as far as it got (and the rest follows below).
    if (stats.torn) yield stats.torn.bytes;
  }
  // Entries appended while the copy was made (Codex takes no lock) are carried over as they are,
  // until the file holds still; anything but an append starts the rewrite over.
  const catchUp = (tmp: string) => {
    for (;;) {
      const now = fingerprint(path);
      if (now.ino === seen.ino && now.size === seen.size && now.mtimeMs === seen.mtimeMs) return;
      if (now.ino !== seen.ino || now.size < seen.size) throw new RolloutError('changed while it was being rewritten; left as it was', { file: path });
      appendRange(path, tmp, seen.size, now.size);
      seen = now;
    }
  };
  // The file as it was, held open: an append that lands between the last check and the rename goes
  // to it, and is carried over to the new file afterwards.
  const old = openSync(path, 'r');
  try {
    await writeAtomic(path, kept(), { mode: statSync(path).mode & 0o7777, check: catchUp });
    await carryLateAppends(old, seen.size, path);
  } finally {
    closeSync(old);
  }
  return removed;
}

/**
 * Appends to `path` what a writer added to the replaced file (open as `fd`) past `from`, until it
 * holds still: a writer that opened the old name just before the rename writes there.
 */
async function carryLateAppends(fd: number, from: number, path: string): Promise<void> {
  for (let quiet = 0; quiet < 2;) {
    await new Promise((r) => setTimeout(r, 10));
    const size = fstatSync(fd).size;
    if (size <= from) {
      quiet++;
      continue;
    }
    quiet = 0;
    from += appendFdRange(fd, path, from, size);
  }
}

/** Appends bytes [from, to) of `src` to `dst`, durably. */
function appendRange(src: string, dst: string, from: number, to: number): void {
  const fd = openSync(src, 'r');
  try {
    appendFdRange(fd, dst, from, to);
  } finally {
    closeSync(fd);
  }
}

/** Appends bytes [from, to) of the open file `fd` to `dst`, durably; returns how many were read. */
function appendFdRange(fd: number, dst: string, from: number, to: number): number {
  const buf = Buffer.allocUnsafe(to - from);
  const n = readSync(fd, buf, 0, buf.length, from);
  const out = openSync(dst, 'a');
  try {
    writeSync(out, buf, 0, n);
    fsyncSync(out);
  } finally {
    closeSync(out);
  }
  return n;
}

const NEWLINE = Buffer.from('\n');

/** Codex's state DB opened for writing, with Codex's busy timeout; null when there is none. */
export const openStateDbForWrite = (home: Home): Database | null => openForWrite(stateDbPath(home));

/**
 * Copies the state DB that `db` has open to `<db>.rollout-backup-<UTC time>` beside it, through
 * SQLite's online backup (a consistent single file: what the `-wal` holds is in it, and a running
 * Codex may go on writing), and keeps only the newest `keep` of these copies. Returns the copy's path.
 */
export async function backupStateDb(db: Database, keep = 3): Promise<string> {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('.', '-');
  const prefix = `${basename(db.name)}.rollout-backup-`;
  const path = join(dirname(db.name), prefix + stamp);
  await db.backup(path);
  const backups = readdirSync(dirname(db.name))
    .filter((n) => n.startsWith(prefix) && !/-(wal|shm|journal)$/.test(n))
    .sort();
  for (const old of backups.slice(0, Math.max(0, backups.length - keep))) {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(join(dirname(db.name), old + suffix), { force: true });
  }
  return path;
}

// ---- Names, kept as Codex's `thread/name/set` keeps them: a line appended to `session_index.jsonl`
// (newest wins) and `threads.name` in the state DB. Both are needed: Codex lists names from the DB,
// and a DB rebuilt from the files has none (FINDINGS 4).

/** Names a thread as Codex does: one line `{"id","thread_name","updated_at"}` appended to `session_index.jsonl`. */
export async function appendThreadName(home: Home, id: string, name: string, now = new Date()): Promise<void> {
  const line = JSON.stringify({ id, thread_name: name, updated_at: now.toISOString() }) + '\n';
  // Not while another rollout run rewrites the file: its rename would drop this line.
  await withFileLock(sessionIndexPath(home), async () => {
    // A torn last line would swallow ours; start on a fresh line.
    const fh = await open(sessionIndexPath(home), 'a+');
    try {
      const { size } = await fh.stat();
      const last = Buffer.alloc(1);
      if (size > 0) await fh.read(last, 0, 1, size - 1);
      await appendFile(fh, size > 0 && last[0] !== 0x0a ? '\n' + line : line);
      await fh.sync();
    } finally {
      await fh.close();
    }
  });
}

/** Sets `threads.name` (null clears it) in one short transaction; false without a DB, a name column or a row. */
export function setThreadNameRow(home: Home, id: string, name: string | null): boolean {
  return (
    inTransaction(stateDbPath(home), (db) => {
      if (!columnsOf(db, 'threads').has('name')) return false;
      return db.prepare('UPDATE threads SET name = ? WHERE id = ?').run(name, id).changes > 0;
    }) ?? false
  );
}

/**
 * Sets where Codex's row says a thread belongs (`cwd`, `model_provider`), after its file was
 * rewritten for a moved project or a new provider. False when Codex has no row for it (its
 * read-repair makes one from the file).
 */
export function setThreadPlace(home: Home, id: string, place: { cwd: string; model_provider: string }): boolean {
  return (
    inTransaction(stateDbPath(home), (db) => {
      const cols = columnsOf(db, 'threads');
      if (!cols.has('cwd') || !cols.has('model_provider')) return false;
      return db.prepare('UPDATE threads SET cwd = ?, model_provider = ? WHERE id = ?').run(place.cwd, place.model_provider, id).changes > 0;
    }) ?? false
  );
}

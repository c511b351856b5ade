// Helpers for rollout-prune's tests: sessions whose files are backdated, Codex's own DBs built from
// the real 0.169 schema, and a process holding a thread's writer lock as a running Codex does.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { REPO, writeSession, type SessionSpec, type WriteOptions } from './fixtures.js';

const require = createRequire(import.meta.url);
export const DAY = 86_400_000;
export const MINUTE = 60_000;

/** A session whose file was last written `ago` ms before now (its lines a minute before that). */
export function aged(home: string, ago: number, spec: SessionSpec = {}, opts: WriteOptions = {}) {
  const at = new Date(Date.now() - ago);
  return writeSession(home, { start: new Date(at.getTime() - MINUTE), turns: [{ user: 'hello' }], ...spec }, { mtime: at, ...opts });
}

/**
 * Every file under `dir`, relative, sorted: a picture of a home to compare before and after. Our
 * own index (a cache that choosing brings up to date, even in a dry run) is not part of it.
 */
export function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.name.startsWith('rollout-index.sqlite')) continue;
      if (e.isDirectory()) walk(p);
      else out.push(`${relative(dir, p)} ${statSync(p).size}`);
    }
  };
  walk(dir);
  return out.sort();
}

type Db = import('better-sqlite3').Database;

function open(path: string): Db {
  const BetterSqlite3 = require('better-sqlite3') as typeof import('better-sqlite3');
  return new BetterSqlite3(path);
}

/** `state_5.sqlite` with Codex 0.169's schema and a `threads` row per session given. */
export function stateDb(home: string, threads: Array<{ id: string; path: string; archived?: boolean; name?: string }>): string {
  const path = join(home, 'state_5.sqlite');
  const db = open(path);
  db.exec(readFileSync(join(REPO, 'test/fixtures/real/state_5.schema.sql'), 'utf8'));
  const insert = db.prepare(
    `INSERT INTO threads (id, rollout_path, created_at, updated_at, source, model_provider, cwd, title, sandbox_policy, approval_mode, archived, name, preview)
     VALUES (?, ?, 1790000000, 1790000000, 'exec', 'openai', '/w', 't', '{}', 'never', ?, ?, 'p')`,
  );
  for (const t of threads) insert.run(t.id, t.path, t.archived ? 1 : 0, t.name ?? null);
  db.close();
  return path;
}

/** `thread_history_1.sqlite` with a few projection rows for each thread id. */
export function historyDb(home: string, ids: string[]): string {
  const path = join(home, 'thread_history_1.sqlite');
  const db = open(path);
  db.exec(`CREATE TABLE thread_turns (thread_id TEXT NOT NULL, turn_id TEXT NOT NULL, rollout_ordinal INTEGER NOT NULL, status TEXT NOT NULL, PRIMARY KEY (thread_id, turn_id));
    CREATE TABLE thread_items (thread_id TEXT NOT NULL, turn_id TEXT NOT NULL, item_id TEXT NOT NULL, rollout_ordinal INTEGER NOT NULL, created_at_ms INTEGER NOT NULL, item_json TEXT NOT NULL, PRIMARY KEY (thread_id, turn_id, item_id));
    CREATE TABLE thread_history_projection_state (thread_id TEXT PRIMARY KEY, next_rollout_byte_offset INTEGER NOT NULL, next_rollout_ordinal INTEGER NOT NULL);`);
  for (const id of ids) {
    db.prepare("INSERT INTO thread_turns VALUES (?, 't1', 1, 'completed')").run(id);
    db.prepare("INSERT INTO thread_items VALUES (?, 't1', 'i1', 2, 0, '{}')").run(id);
    db.prepare("INSERT INTO thread_items VALUES (?, 't1', 'i2', 3, 0, '{}')").run(id);
    db.prepare('INSERT INTO thread_history_projection_state VALUES (?, 100, 4)').run(id);
  }
  db.close();
  return path;
}

/** Runs a statement against a DB file. */
export function write(path: string, sql: string, ...params: unknown[]): void {
  const db = open(path);
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}

/** Rows of a query against a DB file. */
export function query(path: string, sql: string, ...params: unknown[]): any[] {
  const db = open(path);
  try {
    return db.prepare(sql).all(...params);
  } finally {
    db.close();
  }
}

/**
 * Holds `thread-writer-locks/<id>.lock` with flock(1), as a running Codex holds it with flock(2).
 * Resolves once the lock is taken; `release()` ends the holder.
 */
export async function holdWriterLock(home: string, id: string): Promise<{ release: () => Promise<void> }> {
  const dir = join(home, 'thread-writer-locks');
  mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn('flock', ['-x', join(dir, `${id}.lock`), '-c', 'echo locked; exec sleep 60'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    // Its own process group: flock's child inherits the locked descriptor and must end with it.
    detached: true,
  });
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.stdout!.once('data', () => resolve());
  });
  return {
    release: () =>
      new Promise<void>((resolve) => {
        // flock can exit before the `sleep` holding its descriptor is gone: resolve once the lock is
        // free for real (a blocking flock of our own gets it).
        const freed = () => {
          spawnSync('flock', ['-x', '-w', '10', join(dir, `${id}.lock`), 'true']);
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return freed();
        child.once('exit', freed);
        process.kill(-child.pid!, 'SIGTERM');
      }),
  };
}

// Reading Codex's own state beside the rollouts: the thread-name log `session_index.jsonl` and the
// SQLite metadata DB `state_5.sqlite`. better-sqlite3 is loaded only when a DB is really consulted.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { Home } from './home.js';
import { lines } from './lines.js';
import { isObject, parseLine } from './record.js';
import { fileChunks } from './source.js';

const require = createRequire(import.meta.url);

export const sessionIndexPath = (home: Home): string => join(home.dir, 'session_index.jsonl');

/** Where Codex keeps its SQLite files: `$CODEX_SQLITE_HOME` (relative to the cwd), else CODEX_HOME. */
export function sqliteHome(home: Home, env: NodeJS.ProcessEnv = process.env): string {
  return env.CODEX_SQLITE_HOME ? resolve(env.CODEX_SQLITE_HOME) : home.dir;
}

export const stateDbPath = (home: Home): string => join(sqliteHome(home), 'state_5.sqlite');

export interface NameEntry {
  name: string;
  updatedAt: string;
  /** Position in the log; later entries win. */
  seq: number;
}

/** Every thread's current name from `session_index.jsonl` (newest entry per id wins). */
export async function threadNames(home: Home): Promise<Map<string, NameEntry>> {
  const names = new Map<string, NameEntry>();
  const path = sessionIndexPath(home);
  if (!existsSync(path)) return names;
  let seq = 0;
  for await (const line of lines(fileChunks(path))) {
    const e = parseLine(line.bytes);
    if (!isObject(e) || typeof e.id !== 'string' || typeof e.thread_name !== 'string') continue;
    names.set(e.id.toLowerCase(), { name: e.thread_name, updatedAt: String(e.updated_at ?? ''), seq: seq++ });
  }
  return names;
}

/** Ids whose current name is `name`, the most recently named first. */
export async function idsNamed(home: Home, name: string): Promise<string[]> {
  const hits = [...(await threadNames(home))].filter(([, e]) => e.name === name);
  return hits.sort((a, b) => b[1].seq - a[1].seq).map(([id]) => id);
}

type Database = import('better-sqlite3').Database;

/** Codex's state DB opened read-only, or null when there is none. */
export function openStateDb(home: Home): Database | null {
  const path = stateDbPath(home);
  if (!existsSync(path)) return null;
  const BetterSqlite3 = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Ids of threads Codex's DB knows by this name (or, failing that, by this title), newest first. */
export function stateDbIdsNamed(home: Home, name: string): string[] {
  let db: Database | null = null;
  try {
    db = openStateDb(home);
    if (!db) return [];
    const columns = new Set((db.prepare('PRAGMA table_info(threads)').all() as { name: string }[]).map((c) => c.name));
    const query = (column: string) =>
      columns.has(column)
        ? (db!.prepare(`SELECT id FROM threads WHERE ${column} = ? ORDER BY updated_at DESC`).all(name) as { id: string }[])
        : [];
    const named = query('name');
    return (named.length ? named : query('title')).map((r) => r.id.toLowerCase());
  } catch {
    // A locked, foreign or damaged DB is no reason to fail a lookup the files can answer.
    return [];
  } finally {
    db?.close();
  }
}

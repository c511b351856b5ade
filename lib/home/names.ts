// Which name a thread has. Codex keeps names in two places: `session_index.jsonl` in the home
// (appended to; the newest entry of an id wins) and `threads.name` in its state DB (which a DB
// rebuilt from the files lacks, and which may be all that is left when the log lost an entry). A
// thread's name is its newest log entry, else its DB name. Every binary asks here; the writing
// side (naming, clearing, deleting) is in codex/state.ts.
import { existsSync } from 'node:fs';
import { RolloutError, UsageError, warn } from '../cli/errors.js';
import { hasControl, visible } from '../cli/terminal.js';
import { lines } from '../core/lines.js';
import { isObject, parseLine } from '../core/record.js';
import { fileChunks } from '../core/source.js';
import { openSqlite, type Database } from '../core/sqlite.js';
import { sessionIndexPath, stateDbPath, type Home } from './paths.js';

/** Codex's own busy timeout (spec 7): waiting as long as it waits. */
export const CODEX_BUSY_MS = 5000;

export interface Names {
  /** From `session_index.jsonl`: each id's newest name, its position in the log (later wins), and the time the entry gives. */
  log: Map<string, { name: string; seq: number; updatedAt: string | null }>;
  /** From `threads.name` in Codex's state DB. */
  db: Map<string, string>;
}

/** Codex's state DB opened read-only, or null when there is none. */
export function openStateDb(home: Home): Database | null {
  const path = stateDbPath(home);
  if (!existsSync(path)) return null;
  return openSqlite(path, { readonly: true, fileMustExist: true, timeoutMs: CODEX_BUSY_MS });
}

async function fromLog(home: Home): Promise<Names['log']> {
  const names: Names['log'] = new Map();
  const path = sessionIndexPath(home);
  if (!existsSync(path)) return names;
  let seq = 0;
  for await (const line of lines(fileChunks(path))) {
    const e = parseLine(line.bytes);
    if (!isObject(e) || typeof e.id !== 'string' || typeof e.thread_name !== 'string') continue;
    names.set(e.id.toLowerCase(), { name: e.thread_name, seq: seq++, updatedAt: typeof e.updated_at === 'string' ? e.updated_at : null });
  }
  return names;
}

/** `threads.<column>` of every row where it is set, by lower-case id; empty without a DB or the column. */
function fromDb(home: Home, column: 'name' | 'title'): Map<string, string> {
  let db: Database | null = null;
  try {
    db = openStateDb(home);
    if (!db) return new Map();
    const columns = new Set((db.prepare('PRAGMA table_info(threads)').all() as { name: string }[]).map((c) => c.name));
    if (!columns.has(column)) return new Map();
    const rows = db.prepare(`SELECT id, ${column} AS v FROM threads WHERE ${column} IS NOT NULL AND ${column} <> '' ORDER BY updated_at DESC`).all() as {
      id: string;
      v: string;
    }[];
    return new Map(rows.map((r) => [r.id.toLowerCase(), r.v]));
  } finally {
    db?.close();
  }
}

/**
 * Both sources. `strict`: a state DB that cannot be read is an error (what spares named sessions
 * must not spare none); otherwise it is passed over with a warning, and the log alone answers.
 */
export async function readNames(home: Home, opts: { strict?: boolean } = {}): Promise<Names> {
  const log = await fromLog(home);
  let db = new Map<string, string>();
  try {
    db = fromDb(home, 'name');
  } catch (err) {
    if (opts.strict) throw new RolloutError(`cannot read thread names: ${(err as Error).message}`, { file: stateDbPath(home) });
    warn(`names in Codex's state DB passed over: ${(err as Error).message}`, { file: stateDbPath(home) });
  }
  return { log, db };
}

/** A thread's name: its newest log entry, else its DB name. */
export const nameIn = (names: Names, id: string): string | null => names.log.get(id)?.name ?? names.db.get(id) ?? null;

/** Every named thread's name, by lower-case id. */
export function allNames(names: Names): Map<string, string> {
  const all = new Map(names.db);
  for (const [id, e] of names.log) all.set(id, e.name);
  return all;
}

/**
 * The ids a name stands for, best first: the log's, the most recently named first; then Codex's
 * DB's names; then (as Codex kept names of legacy threads, spec 8.2) its titles. A DB that cannot
 * be read only narrows the answer: a lookup the files can answer never fails for it.
 */
export async function idsNamed(home: Home, name: string): Promise<string[]> {
  const ids = [...(await fromLog(home))]
    .filter(([, e]) => e.name === name)
    .sort((a, b) => b[1].seq - a[1].seq)
    .map(([id]) => id);
  for (const column of ['name', 'title'] as const) {
    try {
      for (const [id, v] of fromDb(home, column)) if (v === name && !ids.includes(id)) ids.push(id);
    } catch {
      break;
    }
  }
  return ids;
}

/** The longest name taken: a name is shown in one line of a list. */
export const MAX_NAME = 200;

/**
 * A name as Codex keeps it: trimmed, not empty, one line of text (names are shown on terminals),
 * at most MAX_NAME characters, and nothing a reference would read as a session id or id prefix.
 */
export function cleanName(raw: string): string {
  const name = raw.trim();
  if (!name) throw new UsageError('a name cannot be empty (use --clear to remove one)');
  if (hasControl(name)) throw new UsageError(`a name cannot hold control characters, line breaks or direction overrides: ${visible(name)}`);
  if ([...name].length > MAX_NAME) throw new UsageError(`a name can be at most ${MAX_NAME} characters (this one has ${[...name].length})`);
  if (/^[0-9a-f][0-9a-f-]{3,}$/i.test(name) && /[0-9a-f]{4}/i.test(name))
    throw new UsageError(`'${name}' reads as a session id or id prefix, so lookups could find another session by it; choose a name with other letters`);
  return name;
}

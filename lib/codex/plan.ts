// Comparing Codex's `threads` table with the files of the home: the disagreements, and the rows
// Codex lacks, derived (derive.ts). Reads only.
import { existsSync } from 'node:fs';
import { RolloutError } from '../cli/errors.js';
import { nameIn, openStateDb, readNames } from '../home/names.js';
import { currentFile, discover, plainPath, stateDbPath, zstPath, type Home, type SessionFile } from '../home/paths.js';
import type { Database } from '../core/sqlite.js';
import { defaultProvider, deriveThread, type ThreadRow } from './derive.js';

export interface RowRef {
  id: string;
  rollout_path: string;
  archived: number;
  /** Undefined when the table has no `name` column (before 0.169's migration 0041). */
  name?: string | null;
}

/** One disagreement between Codex's table and the files (`--check --codex` prints these). */
export interface CodexDrift {
  drift: 'missing' | 'moved' | 'archived' | 'name' | 'gone' | 'unreadable';
  id: string;
  /** The file (for `gone`: none). */
  path?: string;
  /** The row's `rollout_path`, when the row points elsewhere or at nothing. */
  from?: string;
  archived?: boolean;
  /** For `name`: the name `session_index.jsonl` gives (Codex's rebuilds lose it). */
  name?: string;
  reason?: string;
}

/** What a run will do: the drifts, with the rows to insert derived already. */
export interface CodexPlan {
  drifts: CodexDrift[];
  inserts: ThreadRow[];
  unchanged: number;
  /** Files that could not be read at all (I/O, a broken .zst): reported, skipped. */
  errors: Array<{ path: string; message: string }>;
}

function readRows(db: Database): RowRef[] {
  const cols = new Set((db.prepare('PRAGMA table_info(threads)').all() as { name: string }[]).map((c) => c.name));
  if (!cols.has('id') || !cols.has('rollout_path')) throw new RolloutError("Codex's state DB has no threads table", { file: db.name });
  const archived = cols.has('archived') ? 'archived' : '0';
  const name = cols.has('name') ? ', name' : '';
  return db.prepare(`SELECT id, rollout_path, ${archived} AS archived${name} FROM threads`).all() as RowRef[];
}

/**
 * Compares Codex's `threads` rows with the files of the home and derives the rows Codex lacks;
 * with `only`, for those threads alone (what an import wrote). Reads only; throws when there is no
 * state DB to compare with.
 */
export async function planCodexSync(home: Home, only?: ReadonlySet<string>): Promise<CodexPlan> {
  const db = openStateDb(home);
  if (!db) throw new RolloutError('Codex has no state DB here yet (run Codex once to create it)', { file: stateDbPath(home) });
  let rows: RowRef[];
  try {
    rows = readRows(db);
  } finally {
    db.close();
  }
  const byThread = new Map<string, SessionFile[]>();
  for (const f of await discover(home, only ? { where: (n) => only.has(n.threadId) } : {})) {
    const list = byThread.get(f.name.threadId);
    if (list) list.push(f);
    else byThread.set(f.name.threadId, [f]);
  }
  const plan: CodexPlan = { drifts: [], inserts: [], unchanged: 0, errors: [] };
  const names = await readNames(home);
  const missing: SessionFile[] = [];
  const rowOf = new Map(rows.map((r) => [r.id.toLowerCase(), r]));

  for (const [id, files] of byThread) {
    const row = rowOf.get(id);
    if (!row) {
      missing.push(currentFile(files));
      continue;
    }
    const target = files.find((f) => f.files.some((p) => plainPath(p) === plainPath(row.rollout_path)));
    if (!target) {
      // The row points at no file of this home: right if that file is still there (another place), else re-pointed.
      if (existsSync(row.rollout_path) || existsSync(zstPath(row.rollout_path))) plan.unchanged++;
      else {
        const to = currentFile(files);
        plan.drifts.push({ drift: 'moved', id, path: to.path, from: row.rollout_path, archived: to.root === 'archived_sessions' });
      }
      continue;
    }
    const archived = target.root === 'archived_sessions';
    // The log's name, as Codex's thread/name/set wrote it both there and in the row.
    const name = names.log.get(id)?.name;
    if (Boolean(row.archived) !== archived) plan.drifts.push({ drift: 'archived', id, path: target.path, archived });
    else if (name !== undefined && row.name !== undefined && row.name !== name) plan.drifts.push({ drift: 'name', id, path: target.path, name });
    else plan.unchanged++;
  }
  for (const row of rows) {
    const id = row.id.toLowerCase();
    if (byThread.has(id) || (only && !only.has(id))) continue;
    if (existsSync(row.rollout_path) || existsSync(zstPath(row.rollout_path)) || existsSync(plainPath(row.rollout_path))) plan.unchanged++;
    else plan.drifts.push({ drift: 'gone', id, from: row.rollout_path });
  }

  const provider = defaultProvider(home);
  for (const file of missing) {
    try {
      const got = await deriveThread(file, { defaultProvider: provider });
      if ('refused' in got) {
        plan.drifts.push({ drift: 'unreadable', id: file.name.threadId, path: file.path, reason: got.refused });
        continue;
      }
      got.row.name = nameIn(names, String(got.row.id));
      plan.inserts.push(got.row);
      plan.drifts.push({ drift: 'missing', id: String(got.row.id), path: file.path });
    } catch (err) {
      plan.errors.push({ path: file.path, message: (err as Error).message });
    }
  }
  plan.drifts.sort((a, b) => (a.path ?? a.from ?? '').localeCompare(b.path ?? b.from ?? ''));
  return plan;
}

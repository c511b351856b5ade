// Mending Codex's `threads` table as a plan says (plan.ts): one guarded transaction, after a backup.
import { statSync } from 'node:fs';
import { RolloutError } from '../cli/errors.js';
import { backupStateDb, openStateDbForWrite } from './state.js';
import { stateDbPath, type Home } from '../home/paths.js';
import type { CodexPlan } from './plan.js';

export interface CodexAction {
  action: 'insert' | 'fix' | 'remove';
  id: string;
  path?: string;
  from?: string;
  archived?: boolean;
  name?: string;
}

export interface CodexSummary {
  inserted: number;
  fixed: number;
  removed: number;
  unchanged: number;
  unreadable: number;
  /** Rows Codex itself changed between the comparison and the write; left as Codex made them. */
  raced: number;
  backup: string | null;
}

interface Column {
  name: string;
  notnull: number;
  dflt_value: unknown;
  pk: number;
}

/**
 * Mends Codex's table as `plan` says: after a backup of the DB, in one IMMEDIATE transaction with
 * Codex's busy timeout. Each write is guarded by what the row was when compared, so a row that a
 * running Codex changed meanwhile is left as Codex made it. Nothing is written (and no backup made)
 * when the plan has nothing to do.
 */
export async function applyCodexSync(home: Home, plan: CodexPlan, onAction: (a: CodexAction) => void = () => {}): Promise<CodexSummary> {
  const summary: CodexSummary = {
    inserted: 0,
    fixed: 0,
    removed: 0,
    unchanged: plan.unchanged,
    unreadable: plan.drifts.filter((d) => d.drift === 'unreadable').length,
    raced: 0,
    backup: null,
  };
  const work = plan.drifts.filter((d) => d.drift !== 'unreadable');
  if (!work.length) return summary;
  const db = openStateDbForWrite(home);
  if (!db) throw new RolloutError('Codex has no state DB here any more', { file: stateDbPath(home) });
  try {
    const columns = db.prepare('PRAGMA table_info(threads)').all() as Column[];
    const have = new Set(columns.map((c) => c.name));
    const inserts = new Map(plan.inserts.map((r) => [String(r.id), r]));
    if (inserts.size) {
      const unknown = columns.filter((c) => c.notnull && c.dflt_value === null && !c.pk && !(c.name in plan.inserts[0]!));
      if (unknown.length)
        throw new RolloutError(`Codex's threads table requires columns this version does not know: ${unknown.map((c) => c.name).join(', ')}`, {
          file: db.name,
        });
    }
    summary.backup = await backupStateDb(db);
    // Codex's schema declares its cascades; with them on, a removed row takes its dependants as Codex's own delete would.
    db.pragma('foreign_keys = ON');
    const taken = have.has('updated_at_ms') ? db.prepare('SELECT 1 FROM threads WHERE updated_at_ms = ?').pluck() : null;
    const rowNow = db.prepare(`SELECT rollout_path, ${have.has('archived') ? 'archived' : '0'} AS archived FROM threads WHERE id = ?`);
    const actions: CodexAction[] = [];

    db.transaction(() => {
      for (const d of work) {
        if (d.drift === 'missing') {
          const row = { ...inserts.get(d.id)! };
          // Codex keeps updated_at_ms unique (its pages are anchored on it): a tie moves up a millisecond.
          if (taken) while (taken.get(row.updated_at_ms)) row.updated_at_ms = Number(row.updated_at_ms) + 1;
          if (row.recency_at_ms !== null) row.recency_at_ms = row.updated_at_ms!;
          const cols = Object.keys(row).filter((c) => have.has(c));
          const done = db
            .prepare(`INSERT INTO threads (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')}) ON CONFLICT(id) DO NOTHING`)
            .run(Object.fromEntries(cols.map((c) => [c, row[c]])));
          if (done.changes) actions.push({ action: 'insert', id: d.id, path: d.path });
          else summary.raced++;
          continue;
        }
        const now = rowNow.get(d.id) as { rollout_path: string; archived: number } | undefined;
        if (d.drift === 'name') {
          if (now && db.prepare('UPDATE threads SET name = ? WHERE id = ? AND rollout_path = ?').run(d.name, d.id, now.rollout_path).changes) {
            actions.push({ action: 'fix', id: d.id, path: d.path, name: d.name });
          } else summary.raced++;
          continue;
        }
        if (d.drift === 'gone') {
          if (now && now.rollout_path === d.from && db.prepare('DELETE FROM threads WHERE id = ? AND rollout_path = ?').run(d.id, d.from).changes) {
            actions.push({ action: 'remove', id: d.id, from: d.from });
          } else summary.raced++;
          continue;
        }
        // moved or archived: the file is where it is; the row learns its path and archive state.
        const expected = d.drift === 'moved' ? d.from : now?.rollout_path;
        if (!now || now.rollout_path !== expected) {
          summary.raced++;
          continue;
        }
        const set: Record<string, unknown> = { rollout_path: d.drift === 'moved' ? d.path : now.rollout_path };
        if (have.has('archived') && Boolean(now.archived) !== d.archived) {
          set.archived = d.archived ? 1 : 0;
          if (have.has('archived_at')) set.archived_at = d.archived ? archivedAt(d.path!) : null;
        }
        const names = Object.keys(set);
        db.prepare(`UPDATE threads SET ${names.map((c) => `"${c}" = @${c}`).join(', ')} WHERE id = @id AND rollout_path = @expected`).run({
          ...set,
          id: d.id,
          expected,
        });
        actions.push({ action: 'fix', id: d.id, path: d.path, ...(d.drift === 'moved' ? { from: d.from } : {}), archived: d.archived });
      }
    }).immediate();

    for (const a of actions) {
      if (a.action === 'insert') summary.inserted++;
      else if (a.action === 'fix') summary.fixed++;
      else summary.removed++;
      onAction(a);
    }
    return summary;
  } finally {
    db.close();
  }
}

/** Codex's backfill stamps an archived thread with its file's mtime, in seconds. */
function archivedAt(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  return Math.floor((st ? st.mtimeMs : Date.now()) / 1000);
}

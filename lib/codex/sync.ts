// `rollout-index --codex`: Codex's `threads` table kept in step with the rollout files. A row is
// derived from a file as Codex's backfill derives it (derive.ts), the table is compared with the
// files (plan.ts), and the disagreements are mended in one transaction (write.ts).
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { notice, warn } from '../cli/errors.js';
import { stateDbPath, type Home } from '../home/paths.js';
import { planCodexSync } from './plan.js';
import { applyCodexSync } from './write.js';

/**
 * `rollout-index --codex`: with `check`, emits each disagreement and returns whether there is one to
 * mend (sessions Codex cannot read are shown but are not one); without, mends them, emitting each
 * action and then a summary, and returns whether a file could not be read.
 */
export async function syncCodex(home: Home, opts: { check: boolean }, emit: (value: object) => void): Promise<boolean> {
  const started = Date.now();
  const plan = await planCodexSync(home);
  for (const e of plan.errors) warn(e.message, { file: e.path });
  if (opts.check) {
    for (const d of plan.drifts) emit(d);
    return plan.errors.length > 0 || plan.drifts.some((d) => d.drift !== 'unreadable');
  }
  for (const d of plan.drifts) if (d.drift === 'unreadable') emit({ action: 'skip', id: d.id, path: d.path, reason: d.reason });
  const summary = await applyCodexSync(home, plan, emit);
  emit({ ...summary, ms: Date.now() - started });
  return plan.errors.length > 0;
}

/**
 * Codex's rows of the threads `ids`, after a command changed their files (an import, a rewrite):
 * mended as `rollout-index --codex` would, where Codex has a state DB; said in a notice.
 */
export async function syncThreads(home: Home, ids: ReadonlySet<string>): Promise<void> {
  if (!ids.size) return;
  if (!existsSync(stateDbPath(home))) {
    notice(`no ${basename(stateDbPath(home))} here: Codex fills its threads table from the files when it next starts`);
    return;
  }
  const plan = await planCodexSync(home, ids);
  for (const e of plan.errors) warn(e.message, { file: e.path });
  const s = await applyCodexSync(home, plan);
  if (s.inserted || s.fixed) notice(`Codex's threads table: ${s.inserted} inserted, ${s.fixed} fixed`);
}

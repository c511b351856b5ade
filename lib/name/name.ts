// Naming sessions the way Codex's `thread/name/set` does, so that `codex exec resume "<name>"`, Codex's
// lists and every rollout binary know them: a line appended to `session_index.jsonl` and
// `threads.name` set where Codex's DB has a row. The rollout files are never touched.
import { RolloutError, UsageError } from '../cli/errors.js';
import { appendThreadName, removeNameEntries, setThreadNameRow } from '../codex/state.js';
import { allNames, cleanName, nameIn, readNames } from '../home/names.js';
import type { Home } from '../home/paths.js';
import type { Resolver } from '../home/resolve.js';
import { readHead } from '../core/session.js';

export interface NameLine {
  id: string;
  name: string | null;
  /** The name before a change (absent when only showing). */
  previous?: string | null;
  dry_run?: boolean;
}

/** The thread id a reference stands for (from the file name; from the meta for a file named otherwise). */
export async function threadOf(resolver: Resolver, ref: string): Promise<string> {
  const target = await resolver.resolve(ref);
  if (target.stdin) throw new UsageError('a session on stdin cannot be named; give its id, name or path');
  if (target.file.name.threadId) return target.file.name.threadId;
  const { meta } = await readHead(target.file.path, target.file.form);
  if (!meta) throw new RolloutError('no session_meta: not a session Codex can name', { file: target.file.path });
  return meta.id.toLowerCase();
}

export async function showName(home: Home, id: string): Promise<NameLine> {
  return { id, name: nameIn(await readNames(home), id) };
}

export interface SetOptions {
  /** Take a name another session has. */
  force: boolean;
  dryRun: boolean;
  now?: Date;
}

/**
 * Names the thread. A name another existing session has is refused unless `force` (both then carry
 * it, and the newer entry wins a lookup). Writes only what differs: naming a session what it is
 * already called changes nothing.
 */
export async function setName(home: Home, resolver: Resolver, id: string, raw: string, opts: SetOptions): Promise<NameLine> {
  const name = cleanName(raw);
  const n = await readNames(home);
  if (!opts.force) {
    // Only the threads that hold the name are looked for on disk (one whose files are gone holds nothing).
    const claim = new Set([...allNames(n)].filter(([other, held]) => held === name && other !== id).map(([other]) => other));
    const holders = new Set(claim.size ? await resolver.threadsAmong(claim) : []);
    if (holders.size) {
      throw new RolloutError(`the name '${name}' is already used by session ${[...holders].join(', ')} (--force to use it anyway)`);
    }
  }
  const previous = nameIn(n, id);
  const line: NameLine = { id, name, previous, dry_run: opts.dryRun };
  if (opts.dryRun) return line;
  if (n.log.get(id)?.name !== name) await appendThreadName(home, id, name, opts.now);
  if (n.db.get(id) !== name) setThreadNameRow(home, id, name);
  return line;
}

/** Removes the thread's name: its entries in the log (rewritten atomically) and `threads.name`. */
export async function clearName(home: Home, id: string, opts: { dryRun: boolean }): Promise<NameLine> {
  const n = await readNames(home);
  const line: NameLine = { id, name: null, previous: nameIn(n, id), dry_run: opts.dryRun };
  if (opts.dryRun) return line;
  await removeNameEntries(home, new Set([id]));
  if (n.db.has(id)) setThreadNameRow(home, id, null);
  return line;
}

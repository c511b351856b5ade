// The full history of a paginated fork or revert. Such a file stores only its own lines; its
// `session_meta.history_base` says "my history starts with that rollout's first N bytes". Following
// the chain gives the ancestors' prefixes, oldest first, then the file itself.
import { RolloutError } from '../cli/errors.js';
import type { NameForm } from '../core/record.js';
import type { SessionMetaPayload } from '../core/record.js';
import type { Resolver } from './resolve.js';
import { readHead } from '../core/session.js';

export interface Segment {
  path: string;
  form?: NameForm;
  /** Read only the lines that end within this many bytes (the child's `end_byte_offset`). */
  limit?: number;
}

/** The ancestors' prefixes that come before `meta`'s own lines, oldest first. */
export async function ancestry(meta: SessionMetaPayload | null, resolver: Resolver, label: string): Promise<Segment[]> {
  const chain: Segment[] = [];
  const seen = new Set<string>();
  let base = meta?.history_base;
  let child = label;
  while (base) {
    const id = String(base.thread_id).toLowerCase();
    if (seen.has(id)) throw new RolloutError(`history_base chain loops back to rollout ${id}`, { file: child });
    seen.add(id);
    const parent = await resolver.byRolloutId(id);
    if (!parent) throw new RolloutError(`history_base names rollout ${id}, which is not in this home`, { file: child });
    const limit = Number(base.end_byte_offset);
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new RolloutError(`history_base has no usable end_byte_offset`, { file: child });
    }
    chain.unshift({ path: parent.path, form: parent.form, limit });
    base = (await readHead(parent.path, parent.form)).meta?.history_base;
    child = parent.path;
  }
  return chain;
}

// The full history of a paginated fork or revert. Such a file stores only its own lines; its
// `session_meta.history_base` says "my history starts with that rollout's first N bytes". Following
// the chain gives the ancestors' prefixes, oldest first, then the file itself; reading them gives
// the history's lines, and copying those with their ordinals made contiguous gives a file that
// needs no ancestor (rollout-fork's copies, rollout-bundle --no-ancestors).
import { RolloutError, warn } from '../cli/errors.js';
import type { Line, Torn } from '../core/lines.js';
import { quickCheck, renumbered, type NameForm, type SessionMetaPayload } from '../core/record.js';
import type { Resolver } from './resolve.js';
import { openSession, readHead } from '../core/session.js';

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

export interface HistoryOptions {
  /** Told about a torn last line of a segment read to its end. */
  onTorn?: (segment: number, torn: Torn) => void;
}

/**
 * The lines of a full history, batch by batch: each segment's lines, except that a referencing
 * file's head `session_meta` is left out, as Codex leaves it out (spec 2.9): its history is the
 * parent's prefix, then its records after its head. Copied along, that head's `history_base` would
 * make Codex splice the parent in a second time.
 */
export async function* historyLines(segments: Segment[], opts: HistoryOptions = {}): AsyncGenerator<{ segment: number; batch: Line[] }> {
  for (let segment = 0; segment < segments.length; segment++) {
    const seg = segments[segment]!;
    // One reused read buffer: both passes are done with a batch before asking for the next.
    const session = await openSession(seg.path, { form: seg.form, limit: seg.limit, transient: true });
    try {
      let head = segment > 0;
      for await (const batch of session.batches) {
        yield { segment, batch: head ? batch.slice(1) : batch };
        head = false;
      }
      if (session.stats.torn && seg.limit === undefined) opts.onTorn?.(segment, session.stats.torn);
    } finally {
      await session.close();
    }
  }
}

export interface CopyOptions {
  /** History lines `[start, end)` (default: all of them). */
  start?: number;
  end?: number;
  /** The new ordinal of the first line copied, then one more each; null leaves lines as they are (a legacy history). */
  firstOrdinal: number | null;
  /** The last segment's name in warnings (its path, or `<stdin>`). */
  label: string;
  /** What the lines are copied into, in warnings ("the fork"); null says nothing (bytes made a second time, already warned about). */
  into: string | null;
}

const NL = Buffer.from('\n');

/**
 * A history's lines `[start, end)`, each as pieces ending in a newline (views of a reused buffer:
 * copy what outlives the next pull), paginated ordinals renumbered to run on from `firstOrdinal`.
 */
export async function* copiedHistory(segments: Segment[], opts: CopyOptions): AsyncGenerator<Buffer[]> {
  const { start = 0, end = Infinity, into } = opts;
  const where = (segment: number) => (segment === segments.length - 1 ? opts.label : segments[segment]!.path);
  const onTorn = (segment: number, torn: Torn) => {
    if (into !== null) warn(`torn last line left out of ${into}`, { file: where(segment), line: torn.no });
  };
  let i = 0;
  let ordinal = opts.firstOrdinal;
  let problems = 0;
  for await (const { segment, batch } of historyLines(segments, { onTorn })) {
    for (const line of batch) {
      const at = i++;
      if (at < start) continue;
      if (at >= end) return;
      if (into !== null && quickCheck(line.bytes) && problems++ < 10) warn('not a valid JSON line; copied as it is', { file: where(segment), line: line.no });
      if (ordinal === null) yield [line.bytes, NL];
      else yield [...renumbered(line.bytes, ordinal++), NL];
    }
  }
}

// rollout-bundle --no-ancestors: a file that reads another thread through `history_base`, written
// whole, as rollout-fork writes a full copy: its own head first, at ordinal 0 and without the keys
// that point into a parent's file, then its full history (each ancestor's prefix, then its own
// lines after its head) with the ordinals running on from 1. The manifest comes before the files,
// so these bytes are made twice, once to measure and once to write: everything here depends only on
// the files' bytes, never on the time or on chance.
import { statSync } from 'node:fs';
import { RolloutError } from '../cli/errors.js';
import { isEnvelope, ordinalOf, renumbered } from '../core/record.js';
import { readHead } from '../core/session.js';
import { inBlocks } from '../fs/atomic.js';
import { copiedHistory, historyLines, type Segment } from '../home/history.js';
import type { SessionFile } from '../home/paths.js';

/** Keys of a referencing head that count in a parent's file, which the whole copy no longer reads. */
const REFERENCING = ['history_base', 'forked_from_ordinal_exclusive'];

/** Makes the bytes again at each call; `into` names the copy in warnings, null (the second making) warns of nothing. */
export type Producer = (into: string | null) => AsyncIterable<Buffer>;

/** How to make `f` whole, `chain` being its ancestors' prefixes (home/history.ts: `ancestry`). */
export async function wholeFile(f: SessionFile, chain: Segment[]): Promise<Producer> {
  // Lines added after this are not this bundle's, as with a plain file; a .zst is never appended to.
  const limit = f.compressed ? undefined : statSync(f.path).size;
  const segments: Segment[] = [...chain, { path: f.path, form: f.form, limit }];
  const head = await headLine(f, segments);
  return (into) => produce(head, segments, f.path, into);
}

async function headLine(f: SessionFile, segments: Segment[]): Promise<Buffer> {
  const { first } = await readHead(f.path, f.form);
  if (!isEnvelope(first) || first.type !== 'session_meta') throw new RolloutError('no session_meta on the first line', { file: f.path });
  const payload: Record<string, unknown> = { ...first.payload };
  for (const key of REFERENCING) delete payload[key];
  // Where a sub-agent's own history starts: the same line, at its new ordinal.
  const own = payload.subagent_history_start_ordinal;
  if (typeof own === 'number') payload.subagent_history_start_ordinal = await newOrdinal(segments, own);
  return Buffer.concat([...renumbered(Buffer.from(JSON.stringify({ ...first, payload })), 0), Buffer.from('\n')]);
}

/**
 * The new ordinal of the line whose old ordinal is `old`: a full history's old ordinals rise (each
 * fork's own lines continue from its cut), so it is the place of the first line at or past it.
 */
async function newOrdinal(segments: Segment[], old: number): Promise<number> {
  let n = 1;
  for await (const { batch } of historyLines(segments)) {
    for (const line of batch) {
      const ordinal = ordinalOf(line.bytes);
      if (ordinal !== null && ordinal >= old) return n;
      n++;
    }
  }
  return n;
}

async function* produce(head: Buffer, segments: Segment[], label: string, into: string | null): AsyncGenerator<Buffer> {
  async function* pieces(): AsyncGenerator<Buffer[]> {
    yield [head];
    yield* copiedHistory(segments, { firstOrdinal: 1, label, into });
  }
  // Lines are views of a reused read buffer, and blocks are reused too: what leaves here is a copy,
  // free to wait in the archive's writer or the compressor.
  for await (const block of inBlocks(pieces())) yield Buffer.from(block);
}

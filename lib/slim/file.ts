// One rollout file slimmed, or restored, in its place. The order keeps every crash harmless: the
// objects are durable before the slimmed file takes the original's name, and the record is written
// after it (a crash between leaves a slimmed file without a record: restorable, though not proven).
// A `.zst` file is written back compressed.
import { basename } from 'node:path';
import { RolloutError } from '../cli/errors.js';
import { openSource } from '../core/source.js';
import { compressChunks } from '../core/zstd.js';
import { prepareAtomic, writeAtomic } from '../fs/atomic.js';
import { parseRolloutName, ZST } from '../home/paths.js';
import { DEFAULT_RULES, type BlobRules } from './blobs.js';
import { restoreChunks, type RestoreResult } from './restore.js';
import { slimChunks, type SlimResult } from './rewrite.js';
import { nextRecord, type ObjectStore, type SlimRecord } from './store.js';

export function rolloutIdOf(path: string): string {
  const name = parseRolloutName(basename(path));
  if (!name) throw new RolloutError('not a rollout file name', { file: path });
  return name.rolloutId;
}

const encoded = (path: string, chunks: AsyncIterable<Buffer>): AsyncIterable<Uint8Array> => (path.endsWith(ZST) ? compressChunks(chunks) : chunks);

/** Slims the file in place; null when there was nothing to take out (the file is left alone). */
export async function slimFile(path: string, store: ObjectStore, rules: BlobRules = DEFAULT_RULES): Promise<{ result: SlimResult; record: SlimRecord } | null> {
  const rollout = rolloutIdOf(path);
  const prior = store.readRecord(rollout);
  const s = slimChunks(openSource(path), store, rules, { from: prior?.slimmed.bytes ?? 0 });
  const prepared = await prepareAtomic(path, encoded(path, s.chunks));
  const result = s.result();
  if (prior && (result.before.bytes !== prior.slimmed.bytes || result.before.sha256 !== prior.slimmed.sha256)) {
    prepared.abort();
    throw new RolloutError('the file is not what its last slimming left (it was changed, not only appended to)', { file: path });
  }
  if (!result.blobs.length) {
    prepared.abort();
    return null;
  }
  await store.sync();
  await prepared.commit();
  const record = nextRecord(
    rollout,
    prior,
    result.after,
    result.output,
    result.blobs.map((b) => b.at),
  );
  await store.writeRecord(record);
  return { result, record };
}

/**
 * Restores the file in place from the store, proven against its record when it has one. Nothing
 * is written unless every object is there and sound and (with a record) the result is the original.
 */
export async function restoreFile(path: string, store: ObjectStore): Promise<RestoreResult> {
  const record = store.readRecord(rolloutIdOf(path));
  const r = restoreChunks(openSource(path), store, record);
  await writeAtomic(path, encoded(path, r.chunks));
  return r.result();
}

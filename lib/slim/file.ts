// One rollout file slimmed, or restored, in its place. The order keeps every crash harmless: the
// objects are durable before the slimmed file takes the original's name, and the record is written
// after it (a crash between leaves a slimmed file without a record: restorable, though not proven).
// A `.zst` file is written back compressed.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { RolloutError } from '../cli/errors.js';
import { openSource } from '../core/source.js';
import { compressChunks } from '../core/zstd.js';
import { prepareAtomic, type WriteOptions } from '../fs/atomic.js';
import { parseRolloutName, ZST } from '../home/paths.js';
import { DEFAULT_RULES, type BlobRules } from './blobs.js';
import { ChangedSinceSlimmed, restoreChunks, type RestoreResult } from './restore.js';
import { slimChunks, type BlobSink, type SlimResult } from './rewrite.js';
import { nextRecord, type ObjectStore, type SlimRecord } from './store.js';

export function rolloutIdOf(path: string): string {
  const name = parseRolloutName(basename(path));
  if (!name) throw new RolloutError('not a rollout file name', { file: path });
  return name.rolloutId;
}

// The compressor reads ahead of what it has compressed: a slimming's chunks (views of a window the
// next one overwrites) go to it as copies.
const encoded = (path: string, chunks: AsyncIterable<Buffer>): AsyncIterable<Uint8Array> => (path.endsWith(ZST) ? compressChunks(copies(chunks)) : chunks);

async function* copies(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const c of chunks) yield Buffer.from(c);
}

/** Read into one reused buffer: the scan copies what it keeps (see rewrite.ts). */
const READ = { transient: true, chunk: 1 << 20 };

export interface SlimFileOptions {
  rules?: BlobRules;
  /** Take nothing out of the bytes before this offset (forks read them by their offsets). */
  keep?: number;
  /** Where the blobs go: the store (default), or elsewhere when they are dropped. */
  sink?: BlobSink;
  /** Only find out what would be taken out: nothing is written anywhere. */
  dryRun?: boolean;
  /** How the slimmed file is written: its mode, its mtime kept, what is checked before it takes the name. */
  write?: Pick<WriteOptions, 'mode' | 'mtime' | 'check'>;
}

/** A sink that only hashes: a dry run's (the markers it makes are the ones a real run would). */
const NOWHERE: BlobSink = {
  begin() {
    const hash = createHash('sha256');
    let bytes = 0;
    return {
      write: (b) => {
        hash.update(b);
        bytes += b.length;
      },
      finish: async () => ({ sha256: hash.digest('hex'), bytes }),
    };
  },
  // Only a line put back as it was reads its blobs again, and a dry run's output goes nowhere.
  read: async function* () {},
};

/**
 * Slims the file in place; null when there was nothing to take out (the file is left alone). The
 * record (store.ts) is what a restore proves its result against. A file whose record no longer
 * matches it (changed since its last slimming: re-tagged, repaired, imported with --map-cwd) is
 * slimmed afresh and its stale record dropped; so is a file that held markers before its first
 * slimming (copied from a slimmed file). Such a file keeps no record: a record would restore only
 * the markers of its own slimming, and a restore without one replaces every marker.
 */
export async function slimFile(
  path: string,
  store: ObjectStore,
  opts: SlimFileOptions = {},
): Promise<{ result: SlimResult; record: SlimRecord | null } | null> {
  const rollout = rolloutIdOf(path);
  const prior = store.readRecord(rollout);
  const first = await slimOnce(path, rollout, store, opts, prior);
  if (first !== STALE) return first;
  const again = await slimOnce(path, rollout, store, opts, null, true);
  // Without a prior record there is nothing to be stale.
  if (again === STALE) throw new Error('a slimming without a record found it stale');
  return again;
}

const STALE = Symbol('stale record');

async function slimOnce(
  path: string,
  rollout: string,
  store: ObjectStore,
  opts: SlimFileOptions,
  prior: SlimRecord | null,
  stale = false,
): Promise<{ result: SlimResult; record: SlimRecord | null } | null | typeof STALE> {
  const s = slimChunks(openSource(path, READ), opts.dryRun ? NOWHERE : (opts.sink ?? store), opts.rules ?? DEFAULT_RULES, {
    from: prior?.slimmed.bytes ?? 0,
    keep: opts.keep,
  });
  const prepared = opts.dryRun ? null : await prepareAtomic(path, encoded(path, s.chunks), opts.write);
  if (!prepared) for await (const _ of s.chunks);
  const result = s.result();
  if (prior && (result.before.bytes !== prior.slimmed.bytes || result.before.sha256 !== prior.slimmed.sha256)) {
    prepared?.abort();
    return STALE;
  }
  if (!result.blobs.length) {
    prepared?.abort();
    if (stale && !opts.dryRun) store.removeRecord(rollout);
    return null;
  }
  const recordless = stale || (!prior && result.markers > 0);
  const record = recordless
    ? null
    : nextRecord(
        rollout,
        prior,
        result.after,
        result.output,
        result.blobs.map((b) => b.at),
      );
  if (!prepared) return { result, record };
  await store.sync();
  await prepared.commit();
  if (record) await store.writeRecord(record);
  else store.removeRecord(rollout);
  return { result, record };
}

/**
 * Restores the file in place from the store, proven against its record when it has one. Nothing
 * is written unless every object is there and sound and (with a record) the result is the original.
 * The record goes once the file is back: the next slimming starts afresh.
 *
 * A file changed since it was slimmed (re-tagged for a moved project, repaired, imported with
 * --map-cwd) no longer starts with what the slimming wrote, so its record proves nothing: it is
 * restored without it, every marker that is a whole string replaced by its object, each object
 * checked against its name as before (`stale` says so).
 */
export async function restoreFile(
  path: string,
  store: ObjectStore,
  opts: { dryRun?: boolean; write?: SlimFileOptions['write'] } = {},
): Promise<RestoreResult & { stale: boolean }> {
  const rollout = rolloutIdOf(path);
  const record = store.readRecord(rollout);
  try {
    return { ...(await restoreWith(path, store, record, rollout, opts)), stale: false };
  } catch (err) {
    if (!record || !(err instanceof ChangedSinceSlimmed)) throw err;
    return { ...(await restoreWith(path, store, null, rollout, opts)), stale: true };
  }
}

async function restoreWith(
  path: string,
  store: ObjectStore,
  record: SlimRecord | null,
  rollout: string,
  opts: { dryRun?: boolean; write?: SlimFileOptions['write'] },
): Promise<RestoreResult> {
  const r = restoreChunks(openSource(path), store, record);
  const prepared = opts.dryRun ? null : await prepareAtomic(path, encoded(path, r.chunks), opts.write);
  if (!prepared) for await (const _ of r.chunks);
  const result = r.result();
  if (!prepared) return result;
  if (result.restored.length) await prepared.commit();
  else prepared.abort();
  store.removeRecord(rollout);
  return result;
}

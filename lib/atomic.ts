// The one way anything is written into a Codex home: a temp file in the same directory, fsynced,
// then renamed over (or, with `exclusive`, linked to) the final name, so a reader sees either
// nothing or the whole file, and a crash leaves at worst a stray `.rollout-*.tmp`.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, rmSync, unlinkSync, utimesSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RolloutError } from './cli.js';

export interface WriteOptions {
  /** Fail if the final name exists (checked atomically by link(2)); never overwrite. */
  exclusive?: boolean;
  mode?: number;
  /** Set the file's mtime (and atime) before it appears. */
  mtime?: Date;
  /**
   * false: no fsync of the file or its directory, for outputs that can be made again (exports). The
   * rename still shows readers the whole file or nothing; only a power cut can lose it. Thousands of
   * files exported in one run spent most of their time waiting on those syncs.
   */
  durable?: boolean;
  /**
   * Called with the temp file once the data is written, just before it takes the final name: where
   * to read back what was written, and the last moment to find that what is about to be replaced
   * changed meanwhile (compare and swap). When it throws, the final name is left as it was.
   */
  check?: (tmp: string) => void | Promise<void>;
}

export const tempName = (path: string): string => join(dirname(path), `.${basename(path)}.rollout-${randomBytes(4).toString('hex')}.tmp`);

/**
 * Writes `data` (bytes, or a stream of chunks) to `path` atomically; returns the bytes written.
 * The system calls are synchronous: a round trip through the thread pool for each of them was most
 * of the time of an export of thousands of small files, and blocks of a megabyte gain nothing from it.
 */
export async function writeAtomic(path: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts: WriteOptions = {}): Promise<number> {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempName(path);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, opts.mode ?? 0o644);
  let size = 0;
  try {
    try {
      const chunks = data instanceof Uint8Array ? [data] : data;
      for await (const chunk of chunks) {
        for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done, chunk.length - done);
        size += chunk.length;
      }
      if (opts.mode !== undefined) fchmodSync(fd, opts.mode);
      if (opts.durable !== false) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (opts.mtime) utimesSync(tmp, opts.mtime, opts.mtime);
    await opts.check?.(tmp);
    if (opts.exclusive) {
      try {
        linkSync(tmp, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new RolloutError('already exists; not overwritten', { file: path });
        throw err;
      }
      unlinkSync(tmp);
    } else renameSync(tmp, path);
    if (opts.durable !== false) await syncDir(dirname(path));
    return size;
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Makes a rename or new name durable: fsync the directory that holds it. */
export async function syncDir(dir: string): Promise<void> {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  } finally {
    closeSync(fd);
  }
}

const BLOCK = 1 << 20;

/**
 * Small pieces (lines, rendered text) gathered into blocks of about a megabyte, for few large
 * writes. Pieces are copied as they arrive, so a producer may hand over views of a buffer it
 * reuses; a block is reused once the consumer asks for the next one.
 */
export async function* inBlocks(pieces: AsyncIterable<Uint8Array | string | readonly (Uint8Array | string)[]>): AsyncGenerator<Buffer> {
  const block = Buffer.allocUnsafe(BLOCK);
  let used = 0;
  for await (const item of pieces) {
    for (const piece of typeof item === 'string' || item instanceof Uint8Array ? [item] : item) {
      const bytes = typeof piece === 'string' ? Buffer.from(piece) : piece;
      if (used + bytes.length > BLOCK && used > 0) {
        yield block.subarray(0, used);
        used = 0;
      }
      if (bytes.length >= BLOCK) yield Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      else {
        block.set(bytes, used);
        used += bytes.length;
      }
    }
  }
  if (used) yield block.subarray(0, used);
}

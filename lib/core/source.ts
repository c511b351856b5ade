// Opening a session as a stream of bytes: a plain file, a .zst file, or stdin (compressed or not,
// told apart by the zstd magic number). Chunks are fresh buffers, so a consumer may keep slices.
import { closeSync, createWriteStream, fstatSync, openSync, readSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { decompress, looksLikeZstd } from './zstd.js';

const CHUNK = 1 << 20;
/** A reused buffer can afford to be larger: fewer megabyte-long image lines straddle two reads. */
const TRANSIENT_CHUNK = 4 << 20;

export const STDIN = '-';

export interface ChunkOptions {
  /** Read at most this many bytes. */
  limit?: number;
  /** Start at this byte. */
  start?: number;
  /**
   * Read every chunk into the same buffer. Several times faster (fresh memory costs a page fault
   * per 4 KB), but a chunk is valid only until the next one is pulled: for consumers that copy
   * or write out what they keep before asking for more.
   */
  transient?: boolean;
  /** The size of a transient read (default 4 MB). */
  chunk?: number;
}

/**
 * The raw bytes of a file, in chunks of about a megabyte. Reads are synchronous: a binary streams
 * one file at a time, and a round trip through the thread pool per chunk costs more than it overlaps.
 */
export async function* fileChunks(path: string, opts: ChunkOptions = {}): AsyncGenerator<Buffer> {
  const fd = openSync(path, 'r');
  let shared: Buffer | null = null;
  try {
    let position = opts.start ?? 0;
    // Most files are small: a buffer the size of what is left saves allocating a megabyte each.
    // (A pipe or device named by path has no size; it is read to its end.) Bytes appended while
    // reading are left for the next reader, which keeps one read a consistent snapshot.
    const st = fstatSync(fd);
    let left = Math.min(opts.limit ?? Infinity, st.isFile() ? Math.max(0, st.size - position) : Infinity);
    shared = opts.transient ? spareOf(opts.chunk ?? TRANSIENT_CHUNK) : null;
    while (left > 0) {
      const buf = shared ?? Buffer.allocUnsafe(Math.min(CHUNK, left));
      const n = readSync(fd, buf, 0, Math.min(buf.length, left), st.isFile() ? position : null);
      if (n === 0) break;
      left -= n;
      position += n;
      yield n === buf.length ? buf : buf.subarray(0, n);
    }
  } finally {
    closeSync(fd);
    if (shared) spare.push(shared);
  }
}

/** Bytes before a read's end kept to recognise, next time, that the file only grew. */
const TAIL = 64;

/**
 * The TAIL bytes before `offset`, as base64: the fingerprint of what a read ended with. A file whose
 * bytes there are still the same only grew since; other bytes there, it was rewritten.
 */
export async function tailAt(path: string, offset: number): Promise<string | null> {
  if (offset <= 0) return null;
  // Synchronous: a round trip through the thread pool costs more than these 64 bytes.
  const fd = openSync(path, 'r');
  try {
    const len = Math.min(TAIL, offset);
    const buf = Buffer.alloc(len);
    const n = readSync(fd, buf, 0, len, offset - len);
    return buf.subarray(0, n).toString('base64');
  } finally {
    closeSync(fd);
  }
}

/**
 * Transient buffers of finished reads, for the next ones: a buffer per file, left for the collector,
 * piled up tens of megabytes over a run through thousands of files. (A pool, not one buffer: two
 * transient reads may be open at once.)
 */
const spare: Buffer[] = [];

function spareOf(size: number): Buffer {
  const i = spare.findIndex((b) => b.length === size);
  return i === -1 ? Buffer.allocUnsafeSlow(size) : spare.splice(i, 1)[0]!;
}

async function* stdinChunks(): AsyncGenerator<Buffer> {
  for await (const chunk of process.stdin) yield chunk as Buffer;
}

/** Replays `first` in front of the rest of an iterator that has already been started. */
async function* prepend(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield first;
    for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
  } finally {
    // Stopping early must reach the file reader, or its handle is left for the GC to close.
    await rest.return?.(undefined);
  }
}

/**
 * The decompressed bytes of `path` (or of stdin for `-`). Compression is recognized by content,
 * not by name, so a `.zst` piped in or renamed still reads.
 */
export async function* openSource(path: string, opts: Pick<ChunkOptions, 'transient' | 'chunk'> = {}): AsyncGenerator<Buffer> {
  const raw = path === STDIN ? stdinChunks() : fileChunks(path, opts);
  const label = path === STDIN ? '<stdin>' : path;
  // The magic number needs four bytes; a pipe may hand over less than that at first.
  let head: Buffer = Buffer.alloc(0);
  while (head.length < 4) {
    const next = await raw.next();
    if (next.done) break;
    head = head.length ? Buffer.concat([head, next.value]) : next.value;
  }
  if (head.length === 0) return;
  const all = prepend(head, raw);
  if (looksLikeZstd(head)) yield* decompress(all, label, opts);
  else yield* all;
}

/**
 * Stdin saved to a private temporary file, for work that reads its input twice. The bytes are kept
 * as they came (a compressed stream stays compressed: openSource recognizes it). `remove()` deletes it.
 */
export async function spoolStdin(): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rollout-stdin-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  const path = join(dir, 'stdin');
  try {
    await pipeline(process.stdin, createWriteStream(path, { mode: 0o600 }));
  } catch (err) {
    await remove();
    throw err;
  }
  return { path, remove };
}

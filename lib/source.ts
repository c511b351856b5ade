// Opening a session as a stream of bytes: a plain file, a .zst file, or stdin (compressed or not,
// told apart by the zstd magic number). Chunks are fresh buffers, so a consumer may keep slices.
import { open } from 'node:fs/promises';
import { decompress, looksLikeZstd } from './zstd.js';

const CHUNK = 1 << 20;

export const STDIN = '-';

/** The raw bytes of a file, `limit` bytes at most, in chunks of about a megabyte. */
export async function* fileChunks(path: string, limit = Infinity): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    let left = limit;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      left -= bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
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
export async function* openSource(path: string): AsyncGenerator<Buffer> {
  const raw = path === STDIN ? stdinChunks() : fileChunks(path);
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
  if (looksLikeZstd(head)) yield* decompress(all, label);
  else yield* all;
}

// Choosing the zstd decoder: the native one (zstd-napi, optional) when it is installed, else fzstd,
// pure JavaScript and several times slower. Both handle several frames and skippable frames.
import { createRequire } from 'node:module';
import { RolloutError } from './cli.js';

const require = createRequire(import.meta.url);

type Native = typeof import('zstd-napi');
let native: Native | null | undefined;

/** zstd-napi, or null when it is not installed or does not load on this machine. */
export function nativeZstd(): Native | null {
  if (process.env.ROLLOUT_ZSTD === 'js') return null;
  if (native === undefined) {
    try {
      native = require('zstd-napi') as Native;
    } catch {
      native = null;
    }
  }
  return native;
}

export const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** True when `head` starts like a zstd frame (or a skippable frame, magic 0x184D2A5?). */
export function looksLikeZstd(head: Uint8Array): boolean {
  if (head.length < 4) return false;
  if (Buffer.from(head.subarray(0, 4)).equals(ZSTD_MAGIC)) return true;
  return (head[0] & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18;
}

function corrupt(file: string, cause: unknown): RolloutError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new RolloutError(`corrupt zstd data (${why.replace(/^Error: /, '')})`, { file });
}

/** Decompresses a stream of compressed chunks; errors name `file` and say the data is corrupt. */
export async function* decompress(chunks: AsyncIterable<Buffer>, file: string): AsyncGenerator<Buffer> {
  const z = nativeZstd();
  if (z) yield* decompressNative(z, chunks, file);
  else yield* decompressJs(chunks, file);
}

async function* decompressNative(z: Native, chunks: AsyncIterable<Buffer>, file: string): AsyncGenerator<Buffer> {
  const stream = new z.DecompressStream();
  const out: Buffer[] = [];
  stream.on('data', (b: Buffer) => out.push(b));
  const feed = (chunk: Buffer | null) =>
    new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      const done = () => {
        stream.off('error', reject);
        resolve();
      };
      if (chunk) stream.write(chunk, done);
      else stream.end(done);
    });
  try {
    for await (const chunk of chunks) {
      await feed(chunk);
      while (out.length) yield out.shift()!;
    }
    await feed(null);
  } catch (err) {
    if (err instanceof RolloutError) throw err;
    throw corrupt(file, err);
  }
  while (out.length) yield out.shift()!;
}

async function* decompressJs(chunks: AsyncIterable<Buffer>, file: string): AsyncGenerator<Buffer> {
  const { Decompress } = await import('fzstd');
  const out: Buffer[] = [];
  const d = new Decompress((data) => out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
  let last: Buffer | null = null;
  try {
    // fzstd wants to be told which chunk is the last one, so each chunk is pushed one step late.
    for await (const chunk of chunks) {
      if (last) d.push(last);
      last = chunk;
      while (out.length) yield out.shift()!;
    }
    d.push(last ?? new Uint8Array(0), true);
  } catch (err) {
    throw corrupt(file, err);
  }
  while (out.length) yield out.shift()!;
}

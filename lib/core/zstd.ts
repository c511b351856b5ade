// zstd, both ways. Decoding: the native decoder (zstd-napi, optional) when it is installed, else
// fzstd, pure JavaScript and several times slower. Encoding as Codex's compressor does: zstd-napi,
// else the `zstd` command. Both handle several frames and skippable frames.
// Output is pulled, a bounded buffer at a time: a rollout compresses 10x or more, and a stream
// transform that inflates a whole input chunk at once would hold gigabytes for a small file.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { RolloutError } from '../cli/errors.js';

const require = createRequire(import.meta.url);

type Native = typeof import('zstd-napi');
type Binding = typeof import('zstd-napi/binding.js');
let native: { api: Native; binding: Binding } | null | undefined;

function loadNative(): { api: Native; binding: Binding } | null {
  if (process.env.ROLLOUT_ZSTD === 'js') return null;
  if (native === undefined) {
    try {
      native = { api: require('zstd-napi') as Native, binding: require('zstd-napi/binding.js') as Binding };
    } catch {
      native = null;
    }
  }
  return native;
}

/** zstd-napi (compression streams and one-shot calls), or null when it is not installed here. */
export const nativeZstd = (): Native | null => loadNative()?.api ?? null;

export const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** True when `head` starts like a zstd frame (or a skippable frame, magic 0x184D2A5?). */
export function looksLikeZstd(head: Uint8Array): boolean {
  if (head.length < 4) return false;
  if (Buffer.from(head.subarray(0, 4)).equals(ZSTD_MAGIC)) return true;
  return (head[0]! & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18;
}

function corrupt(file: string, cause: unknown): RolloutError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new RolloutError(`corrupt zstd data (${why.replace(/^Error: /, '')})`, { file });
}

/**
 * Decompresses a stream of compressed chunks; errors name `file` and say the data is corrupt.
 * With `transient`, output chunks share one buffer (see ChunkOptions in source.ts).
 */
export async function* decompress(chunks: AsyncIterable<Buffer>, file: string, opts: { transient?: boolean } = {}): AsyncGenerator<Buffer> {
  const z = loadNative();
  if (z) yield* decompressNative(z.binding, chunks, file, Boolean(opts.transient));
  else yield* decompressJs(chunks, file);
}

/** Output per step: larger than zstd's own 128 KB suggestion, so lines are split in fewer places. */
const OUT_CHUNK = 1 << 20;

/**
 * Contexts of finished streams, for the next ones. A context holds the frame's window in native
 * memory that V8 cannot see, so a run over thousands of .zst files that made one each would pile up
 * hundreds of megabytes before a collection happened to free them.
 */
const idle: Decoder[] = [];

/** A context, and the output buffer a transient stream on it reuses (same reasoning: one per file adds up). */
interface Decoder {
  dctx: InstanceType<Binding['DCtx']>;
  out?: Buffer;
}

async function* decompressNative(binding: Binding, chunks: AsyncIterable<Buffer>, file: string, transient: boolean): AsyncGenerator<Buffer> {
  const d = idle.pop() ?? { dctx: new binding.DCtx() };
  try {
    yield* decompressWith(d.dctx, chunks, file, transient ? (d.out ??= Buffer.allocUnsafeSlow(OUT_CHUNK)) : null);
  } finally {
    d.dctx.reset(binding.ResetDirective.sessionOnly);
    idle.push(d);
  }
}

async function* decompressWith(
  dctx: InstanceType<Binding['DCtx']>,
  chunks: AsyncIterable<Buffer>,
  file: string,
  shared: Buffer | null,
): AsyncGenerator<Buffer> {
  const size = OUT_CHUNK;
  let pending = 0;
  for await (const chunk of chunks) {
    let src: Buffer = chunk;
    for (;;) {
      const dst = shared ?? Buffer.allocUnsafe(size);
      let produced: number;
      let consumed: number;
      try {
        [pending, produced, consumed] = dctx.decompressStream(dst, src);
      } catch (err) {
        throw corrupt(file, err);
      }
      src = src.subarray(consumed);
      if (produced) yield produced === size ? dst : dst.subarray(0, produced);
      // Done with this chunk once it is consumed and the context holds no more output for it.
      if (src.length === 0 && produced < size) break;
    }
  }
  if (pending !== 0) throw corrupt(file, 'truncated: the last frame is incomplete');
}

/** fzstd pushes all the output of an input at once, so input goes in small slices. */
const JS_SLICE = 16 << 10;

async function* decompressJs(chunks: AsyncIterable<Buffer>, file: string): AsyncGenerator<Buffer> {
  const { Decompress } = await import('fzstd');
  const out: Buffer[] = [];
  const d = new Decompress((data) => out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
  let last: Buffer | null = null;
  try {
    // fzstd wants to be told which slice is the last one, so each slice is pushed one step late.
    for await (const chunk of chunks) {
      for (let at = 0; at < chunk.length; at += JS_SLICE) {
        if (last) d.push(last);
        // A copy: fzstd may hold on to input, and the caller may reuse its buffer.
        last = Buffer.from(chunk.subarray(at, at + JS_SLICE));
        while (out.length) yield out.shift()!;
      }
    }
    d.push(last ?? new Uint8Array(0), true);
  } catch (err) {
    throw corrupt(file, err);
  }
  while (out.length) yield out.shift()!;
}

/** Codex's compressor uses zstd's default level. */
export const ZSTD_LEVEL = 3;

/** zstd level 3, one frame, through zstd-napi, else the `zstd` command, else a clear error. */
export function compressChunks(chunks: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  const z = nativeZstd();
  const source = Readable.from(chunks);
  if (z) {
    const stream = new z.CompressStream({ compressionLevel: ZSTD_LEVEL });
    source.on('error', (err) => stream.destroy(err));
    return source.pipe(stream);
  }
  return compressWithCommand(source);
}

async function* compressWithCommand(source: Readable): AsyncGenerator<Buffer> {
  // Codex writes no checksum; the CLI adds one unless told not to.
  const child = spawn('zstd', [`-${ZSTD_LEVEL}`, '-q', '-c', '--no-check'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (err) =>
      reject(
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? new RolloutError('compressing needs the zstd-napi module or the zstd command; neither is installed')
          : err,
      ),
    );
    child.on('close', resolve);
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  source.on('error', (err) => child.stdin.destroy(err));
  child.stdin.on('error', () => {});
  source.pipe(child.stdin);
  for await (const chunk of child.stdout) yield chunk as Buffer;
  const code = await exited;
  if (code !== 0) throw new RolloutError(`zstd failed (${code}): ${stderr.trim()}`);
}

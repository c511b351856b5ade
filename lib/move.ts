// Moving, copying and compressing rollout files without ever losing one. A move is a rename when it
// can be; across filesystems it is copy, fsync, verify, and only then remove. A copy never
// overwrites. Compression writes `X.jsonl.zst` the way Codex's own compressor does (one zstd frame,
// level 3, the plain file's mtime and mode), proves it decompresses to the very same bytes, and only
// then removes the plain file.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { link, lstat, mkdir, rename, unlink, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { syncDir, writeAtomic } from './atomic.js';
import { RolloutError } from './cli.js';
import { fileChunks } from './source.js';
import { decompress, nativeZstd } from './zstd.js';

/** Codex's compressor uses zstd's default level. */
export const ZSTD_LEVEL = 3;

export interface Digest {
  bytes: number;
  sha256: string;
}

/** Passes chunks through while hashing them; `done()` gives the digest once they have all gone by. */
function hashing(chunks: AsyncIterable<Buffer>): { chunks: AsyncGenerator<Buffer>; done: () => Digest } {
  const hash = createHash('sha256');
  let bytes = 0;
  let finished = false;
  async function* pass() {
    for await (const chunk of chunks) {
      hash.update(chunk);
      bytes += chunk.length;
      yield chunk;
    }
    finished = true;
  }
  return {
    chunks: pass(),
    done: () => {
      if (!finished) throw new Error('digest asked for before the stream ended');
      return { bytes, sha256: hash.digest('hex') };
    },
  };
}

async function digest(chunks: AsyncIterable<Buffer>): Promise<Digest> {
  const h = hashing(chunks);
  for await (const _ of h.chunks);
  return h.done();
}

export const digestFile = (path: string): Promise<Digest> => digest(fileChunks(path));

export const sameDigest = (a: Digest, b: Digest): boolean => a.bytes === b.bytes && a.sha256 === b.sha256;

/** A file's identity as far as "did anyone write to it meanwhile" goes. */
async function fingerprint(path: string): Promise<string> {
  const st = await lstat(path);
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

/**
 * Copies `src` to `dst` (never over an existing file), with its mode and mtime, fsynced, and checks
 * that what landed reads back byte for byte. If `dst` already holds exactly these bytes, that is
 * fine too (a backup run again).
 */
export async function copyVerified(src: string, dst: string): Promise<Digest> {
  const st = await lstat(src);
  if (!st.isFile()) throw new RolloutError('not a regular file; not copied', { file: src });
  const existing = await lstat(dst).catch(() => null);
  const h = hashing(fileChunks(src));
  if (existing) {
    const [theirs, ours] = await Promise.all([digestFile(dst), digest(h.chunks)]);
    if (sameDigest(theirs, ours)) return ours;
    throw new RolloutError(`${dst} already exists and differs; not overwritten`, { file: src });
  }
  await writeAtomic(dst, h.chunks, { exclusive: true, mode: st.mode & 0o7777, mtime: st.mtime });
  const wrote = h.done();
  if (!sameDigest(await digestFile(dst), wrote)) {
    await unlink(dst).catch(() => {});
    throw new RolloutError(`the copy at ${dst} does not read back the same; removed`, { file: src });
  }
  return wrote;
}

/** Moves across filesystems: a verified copy first, then the original goes. */
export async function copyThenRemove(src: string, dst: string): Promise<void> {
  const before = await fingerprint(src);
  await copyVerified(src, dst);
  if ((await fingerprint(src)) !== before) {
    await unlink(dst).catch(() => {});
    throw new RolloutError('changed while it was being copied; left in place', { file: src });
  }
  await unlink(src);
  await syncDir(dirname(src));
}

/**
 * Moves `src` to `dst`, creating `dst`'s directory, never replacing an existing file: link(2) then
 * unlink is a rename that refuses to overwrite. Where links are impossible (another filesystem,
 * or one without hard links) the move is a verified copy.
 */
export async function moveFile(src: string, dst: string): Promise<'renamed' | 'copied'> {
  await mkdir(dirname(dst), { recursive: true });
  try {
    await link(src, dst);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new RolloutError(`${dst} already exists; not overwritten`, { file: src });
    if (code === 'EXDEV') {
      await copyThenRemove(src, dst);
      return 'copied';
    }
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    // No hard links here (some FUSE and network filesystems): check, then rename.
    if (await lstat(dst).then(() => true, () => false)) throw new RolloutError(`${dst} already exists; not overwritten`, { file: src });
    await rename(src, dst);
    await syncDir(dirname(dst));
    await syncDir(dirname(src));
    return 'renamed';
  }
  await unlink(src);
  await syncDir(dirname(dst));
  await syncDir(dirname(src));
  return 'renamed';
}

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

/**
 * Replaces plain `src` by `src.zst`: compressed, mode and mtime kept, verified by decompressing it
 * and comparing with what was read, and the plain file removed only then (and only if nobody wrote
 * to it meanwhile). A stale `.zst` beside the plain file, which readers ignore, is replaced.
 */
export async function compressFile(src: string): Promise<{ path: string; bytes: number }> {
  const dst = `${src}.zst`;
  const st = await lstat(src);
  if (!st.isFile()) throw new RolloutError('not a regular file; not compressed', { file: src });
  const before = await fingerprint(src);
  const read = hashing(fileChunks(src));
  const bytes = await writeAtomic(dst, compressChunks(read.chunks), { mode: st.mode & 0o7777, mtime: st.mtime });
  const original = read.done();
  try {
    const back = await digest(decompress(fileChunks(dst), dst));
    if (!sameDigest(back, original)) throw new RolloutError(`${dst} does not decompress to the original; removed, original kept`, { file: src });
    if ((await fingerprint(src)) !== before) throw new RolloutError('changed while it was being compressed; left uncompressed', { file: src });
  } catch (err) {
    await unlink(dst).catch(() => {});
    throw err;
  }
  await unlink(src);
  await syncDir(dirname(src));
  return { path: dst, bytes };
}

/** Sets a file's mtime (and atime) to `when`. */
export const touch = (path: string, when: Date): Promise<void> => utimes(path, when, when);

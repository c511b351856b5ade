// Moving, copying and compressing rollout files without ever losing one. A move is a rename when it
// can be; across filesystems it is copy, fsync, verify, and only then remove. A copy never
// overwrites. Compression writes `X.jsonl.zst` the way Codex's own compressor does (one zstd frame,
// level 3, the plain file's mtime and mode), proves it decompresses to the very same bytes, and only
// then removes the plain file.
import { link, lstat, mkdir, rename, unlink, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
import { zstPath } from '../home/paths.js';
import { mtimeOf, syncDir, writeAtomic } from './atomic.js';
import { assertUnchanged, fingerprint, lstatOrNull, type Fingerprint } from './safety.js';
import { RolloutError } from '../cli/errors.js';
import { fileChunks } from '../core/source.js';
import { compareStreams, digest, digestFile, hashing, sameDigest, type Digest } from '../core/verify.js';
import { compressChunks, decompress } from '../core/zstd.js';

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
  await writeAtomic(dst, h.chunks, { exclusive: true, mode: st.mode & 0o7777, mtime: mtimeOf(src) });
  const wrote = h.done();
  if (!sameDigest(await digestFile(dst), wrote)) {
    await unlink(dst).catch(() => {});
    throw new RolloutError(`the copy at ${dst} does not read back the same; removed`, { file: src });
  }
  return wrote;
}

/** Moves across filesystems: a verified copy first, then the original goes, if nobody wrote to it meanwhile. */
export async function copyThenRemove(src: string, dst: string, before = fingerprint(src)): Promise<void> {
  await copyVerified(src, dst);
  try {
    assertUnchanged(src, before, 'copied');
  } catch (err) {
    await unlink(dst).catch(() => {});
    throw err;
  }
  await unlink(src);
  await syncDir(dirname(src));
}

/**
 * Moves `src` to `dst`, creating `dst`'s directory, never replacing an existing file: link(2) then
 * unlink is a rename that refuses to overwrite. Where links are impossible (another filesystem,
 * or one without hard links) the move is a verified copy. `before`: what the file must still be.
 */
export async function moveFile(src: string, dst: string, before = fingerprint(src)): Promise<'renamed' | 'copied'> {
  await mkdir(dirname(dst), { recursive: true });
  assertUnchanged(src, before, 'moved');
  try {
    await link(src, dst);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if ((await leftBehind(src, dst)) !== 'done') throw new RolloutError(`${dst} already exists; not overwritten`, { file: src });
      // An earlier move got as far as the new name and was stopped: it is finished now.
      await unlink(src);
      await syncDir(dirname(src));
      return 'renamed';
    }
    if (code === 'EXDEV') {
      await copyThenRemove(src, dst, before);
      return 'copied';
    }
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    // No hard links here (some FUSE and network filesystems): check, then rename.
    if (
      await lstat(dst).then(
        () => true,
        () => false,
      )
    )
      throw new RolloutError(`${dst} already exists; not overwritten`, { file: src });
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

/**
 * What is at the destination of a move from `src`: nothing, the move itself half done (the same
 * file under both names, or a verified copy of it: a run killed between the two steps of a move),
 * or another file that must not be replaced.
 */
export async function leftBehind(src: string, dst: string): Promise<'free' | 'done' | 'taken'> {
  const there = lstatOrNull(dst);
  if (!there) return 'free';
  const here = lstatOrNull(src);
  if (!here || !there.isFile()) return 'taken';
  if (here.dev === there.dev && here.ino === there.ino) return 'done';
  return sameDigest(await digestFile(src), await digestFile(dst)) ? 'done' : 'taken';
}

export interface CompressOptions {
  /** What `src` must still be when it is removed (default: what it is when compression starts). */
  before?: Fingerprint;
  /** The `.zst` this compression is meant to replace (a repaired copy of it): it must not have changed. */
  replacing?: Fingerprint;
}

/**
 * Replaces plain `src` by `src.zst`: compressed, mode and mtime kept, verified by decompressing it
 * and comparing with what was read, and the plain file removed only then (and only if it is still
 * the file `before` describes). A stale `.zst` beside the plain file (readers ignore it) is replaced;
 * one that holds bytes the plain file lacks is not, and nothing is compressed.
 */
export async function compressFile(src: string, opts: CompressOptions = {}): Promise<{ path: string; bytes: number }> {
  const dst = zstPath(src);
  const before = opts.before ?? fingerprint(src);
  const st = await lstat(src);
  if (!st.isFile()) throw new RolloutError('not a regular file; not compressed', { file: src });
  const twin = lstatOrNull(dst);
  if (twin && !opts.replacing) {
    // Stale: a prefix of the plain file, or not readable at all (as rollout-fsck judges a twin).
    const cmp = await compareStreams(fileChunks(src), decompress(fileChunks(dst), dst)).catch(() => null);
    const stale = !cmp || cmp.same || (cmp.longer === 'a' && cmp.at === cmp.bLength);
    if (!stale) throw new RolloutError(`${dst} beside it holds bytes the plain file lacks; nothing compressed (see rollout-fsck)`, { file: src });
  }
  const read = hashing(fileChunks(src));
  // Proven before it takes the name: it decompresses to what was read, and nothing it replaces or
  // was made from changed meanwhile.
  const check = async (tmp: string) => {
    if (!sameDigest(await digest(decompress(fileChunks(tmp), dst)), read.done())) {
      throw new RolloutError(`the compressed copy does not decompress to the original; original kept`, { file: src });
    }
    assertUnchanged(src, before, 'compressed');
    if (opts.replacing) assertUnchanged(dst, opts.replacing, 'repaired');
    else if (twin) assertUnchanged(dst, { ino: twin.ino, size: twin.size, mtimeMs: twin.mtimeMs }, 'compressed');
  };
  const bytes = await writeAtomic(dst, compressChunks(read.chunks), { mode: st.mode & 0o7777, mtime: mtimeOf(src), check });
  // A writer that got in after the check finds its bytes in the plain file, which readers prefer.
  try {
    assertUnchanged(src, before, 'compressed');
  } catch (err) {
    if (!opts.replacing) await unlink(dst).catch(() => {});
    throw err;
  }
  await unlink(src);
  await syncDir(dirname(src));
  return { path: dst, bytes };
}

/** Sets a file's mtime (and atime) to `when`. */
export const touch = (path: string, when: Date): Promise<void> => utimes(path, when, when);

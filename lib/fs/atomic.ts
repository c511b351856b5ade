// The one way anything is written into a Codex home: a temp file in the same directory, fsynced,
// then renamed over (or, with `exclusive`, linked to) the final name, so a reader sees either
// nothing or the whole file.
//
// Temp files never outlive their run for long. A failed write removes its own; SIGINT, SIGTERM and
// SIGHUP remove every temp file of the process before it exits; and since SIGKILL or a power cut
// leave them behind, temp names carry their process id, and a run sweeps the temp files of ours
// whose process is gone from the folders it writes to (sweepTemps).
import { randomBytes } from 'node:crypto';
import { fdatasync, fsync } from 'node:fs';
import { promisify } from 'node:util';
import {
  closeSync,
  constants,
  fchmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { constants as os, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { RolloutError } from '../cli/errors.js';

export interface WriteOptions {
  /** Fail if the final name exists (checked atomically by link(2)); never overwrite. */
  exclusive?: boolean;
  mode?: number;
  /**
   * Set the file's mtime (and atime) before it appears: a Date, or another file's own as
   * nanoseconds (`mtimeOf`), kept to the microsecond, all that libuv sets. `Stats.mtimeMs` would
   * not do: a double of milliseconds since 1970 is off by a fraction of a microsecond, enough to
   * land on the microsecond before.
   */
  mtime?: Date | bigint;
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
  /**
   * Called once the data is written, before the sync: bytes to write over the file's own at `at`.
   * For a format whose head sums up what follows (a bundle's manifest), known only at the end.
   */
  amend?: () => { at: number; bytes: Uint8Array };
  /**
   * false: the new name is not made durable here; the caller syncs the folder (syncDir) before it
   * reports the file written. A run writing thousands of files syncs each folder once, not once per
   * file: each sync is a journal commit that the next file's creation waits for.
   */
  syncFolder?: boolean;
}

/** Temp names differ within a run by a counter (a random draw per file cost a syscall each), across runs by the pid and a random start. */
let serial = randomBytes(4).readUInt32BE(0);

export const tempName = (path: string): string => {
  serial = (serial + 1) >>> 0;
  return join(dirname(path), `.${basename(path)}.rollout-${process.pid}-${serial.toString(16).padStart(8, '0')}.tmp`);
};

/** Removes a file that may already be gone: one unlink, where rmSync would lstat it first. */
export function unlinkIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Opens `path` with `flags`, making its folders only when they are missing: a mkdir per file
 * written into a folder that is there was a tenth of an import's time.
 */
export function openMaking(path: string, flags: number | string, mode?: number): number {
  try {
    return openSync(path, flags, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dirname(path), { recursive: true });
    return openSync(path, flags, mode);
  }
}

const fsyncAsync = promisify(fsync);
const fdatasyncAsync = promisify(fdatasync);

/** The temp files this process has made and not yet finished with. */
const live = new Set<string>();
let trapped = false;
/** The run stops by itself on a signal, once what it writes is finished (see stopGently). */
let gentle = false;

/**
 * For a run that ends cleanly when asked to (rollout-feed --follow): a signal no longer removes the
 * temp files and exits here; the run finishes what it is writing, and stops.
 */
export function stopGently(): void {
  gentle = true;
}

/**
 * Registers `path` (and files SQLite keeps beside it) as a temp file of this process, removed on
 * SIGINT, SIGTERM and SIGHUP; returns the function that forgets it again.
 */
export function holdTemp(path: string, ...companions: string[]): () => void {
  const all = [path, ...companions];
  for (const p of all) live.add(p);
  if (!trapped) {
    trapped = true;
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => {
        if (gentle) return;
        for (const p of live) rmSync(p, { force: true });
        process.exit(128 + os.signals[signal]);
      });
    }
  }
  return () => {
    for (const p of all) live.delete(p);
  };
}

let breathed = Date.now();

/**
 * Lets a signal's handler run. Node runs it only between turns of the event loop, and a long run
 * of reads and writes made of promises never gives it one: long loops call this between items,
 * and at most every 50 ms it waits for the next turn.
 */
export async function breathe(): Promise<void> {
  const now = Date.now();
  if (now - breathed < 50) return;
  breathed = now;
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Our temp files: `.<name>.rollout-<pid>-<hex>.tmp` (writeAtomic), `<index>.rebuild-<pid>-<hex>.tmp`
 * and SQLite's files beside it, `rollout-export-<pid>-<hex>.jsonl` and `rollout-unbundle-<pid>-<hex>.tar`
 * (a spooled stdin). Names from before the process id was in them have none.
 */
const OURS =
  /^(?:\..+\.rollout-(?:(\d+)-)?[0-9a-f]{8}\.tmp|.+\.rebuild-(?:(\d+)-)?[0-9a-f]{8}\.tmp(?:-wal|-shm|-journal)?|rollout-(?:export-(\d+)-[0-9a-f]{12}\.jsonl|unbundle-(\d+)-[0-9a-f]{12}\.tar))$/;
/** A temp file without a process id is taken for abandoned once it is this old. */
const ABANDONED_MS = 60 * 60_000;

/** Whether process `pid` is running (one of another user's counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const swept = new Set<string>();

/**
 * Removes the temp files of ours in `dir` whose process is gone (once a folder per run); returns
 * how many. Any other file is left alone, whatever its name.
 */
export function sweepTemps(dir: string, now = Date.now()): number {
  if (swept.has(dir)) return 0;
  swept.add(dir);
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const m = OURS.exec(name);
    if (!m) continue;
    const pid = Number(m[1] ?? m[2] ?? m[3] ?? m[4] ?? 0);
    const path = join(dir, name);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st?.isFile()) continue;
    const gone = pid ? pid !== process.pid && !processAlive(pid) : now - st.mtimeMs > ABANDONED_MS;
    if (!gone) continue;
    rmSync(path, { force: true });
    removed++;
  }
  return removed;
}

/** A file's mtime as the kernel keeps it, to hand to `WriteOptions.mtime`. */
export const mtimeOf = (path: string): bigint => lstatSync(path, { bigint: true }).mtimeNs;

/**
 * libuv truncates the seconds it is given to the microsecond; asking for half a microsecond more
 * than meant keeps the double's rounding error (a tenth of a microsecond today) from landing on the
 * microsecond before.
 */
function utimeSeconds(when: Date | bigint): number {
  const us = typeof when === 'bigint' ? when / 1000n : BigInt(when.getTime()) * 1000n;
  return Number(us / 1_000_000n) + (Number(us % 1_000_000n) + 0.5) / 1e6;
}

/**
 * Writes `data` (bytes, or a stream of chunks) to `path` atomically; returns the bytes written.
 * The writes are synchronous: a round trip through the thread pool for each of them was most of
 * the time of an export of thousands of small files, and blocks of a megabyte gain nothing from it.
 */
export async function writeAtomic(path: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts: WriteOptions = {}): Promise<number> {
  return (await prepareAtomic(path, data, opts)).commit();
}

/** A temp file written in full, waiting to take its name: writeAtomic in two halves. */
export interface Prepared {
  /**
   * Syncs the file's bytes now (commit then need not). Files written together and synced together
   * share the journal commits their syncs force; a sync between two creations makes each wait.
   */
  sync(): Promise<void>;
  /** Syncs it, runs the check, gives it its name and syncs the folder; the temp file is gone either way. */
  commit(): Promise<number>;
  /** Removes the temp file instead. */
  abort(): void;
}

/**
 * The first half of writeAtomic: `data` written to a temp file beside `path`. The second half
 * (commit) waits for the disk in the thread pool, so that a caller writing many files can commit
 * several at once, and the file system flushes their syncs together.
 */
export async function prepareAtomic(path: string, data: Uint8Array | AsyncIterable<Uint8Array>, opts: WriteOptions = {}): Promise<Prepared> {
  sweepTemps(dirname(path));
  const tmp = tempName(path);
  const fd = openMaking(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, opts.mode ?? 0o644);
  const release = holdTemp(tmp);
  let open = true;
  let named = false;
  const flushing = new EarlyFlush(fd, opts.durable !== false);
  const abort = () => {
    if (open) closeSync(fd);
    open = false;
    if (!named) unlinkIfThere(tmp);
    release();
  };
  let size = 0;
  try {
    const chunks = data instanceof Uint8Array ? [data] : data;
    for await (const chunk of chunks) {
      for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done, chunk.length - done);
      size += chunk.length;
      flushing.wrote(chunk.length);
    }
    await flushing.settled();
    const patch = opts.amend?.();
    if (patch) {
      if (patch.at + patch.bytes.length > size) throw new Error('an amendment must lie inside what was written');
      for (let done = 0; done < patch.bytes.length;) done += writeSync(fd, patch.bytes, done, patch.bytes.length - done, patch.at + done);
    }
    if (opts.mode !== undefined) fchmodSync(fd, opts.mode);
  } catch (err) {
    // The fd stays open until a flush under way on it is over: its number must not be reused meanwhile.
    await flushing.settled();
    abort();
    throw err;
  }
  let synced: Promise<void> | null = null;
  const sync = (): Promise<void> => (synced ??= opts.durable !== false ? fsyncAsync(fd) : Promise.resolve());
  const commit = async (): Promise<number> => {
    try {
      await sync();
      closeSync(fd);
      open = false;
      if (opts.mtime !== undefined) {
        const when = utimeSeconds(opts.mtime);
        utimesSync(tmp, when, when);
      }
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
      named = true;
      if (opts.durable !== false && opts.syncFolder !== false) await syncDir(dirname(path));
      return size;
    } finally {
      // After a rename there is no temp file left to remove; after a failure, this removes it.
      abort();
    }
  };
  return { sync, commit, abort };
}

/** Bytes written between two early flushes of a large durable file. */
const FLUSH_EVERY = 32 << 20;

/**
 * A large durable file's bytes sent to the disk while the rest is still being made: one fdatasync
 * in the thread pool at a time, every FLUSH_EVERY bytes. The page cache would otherwise hold them
 * all until the final fsync, which then waits for the whole file; this way it waits for the last
 * part only. (Ordering is unchanged: commit still fsyncs before the rename.)
 */
class EarlyFlush {
  private since = 0;
  private pending: Promise<void> | null = null;

  constructor(
    private readonly fd: number,
    private readonly on: boolean,
  ) {}

  wrote(n: number): void {
    this.since += n;
    if (!this.on || this.pending || this.since < FLUSH_EVERY) return;
    this.since = 0;
    this.pending = fdatasyncAsync(this.fd).then(
      () => void (this.pending = null),
      () => void (this.pending = null),
    );
  }

  /** Waits for the flush under way (its error, if any, the final fsync meets again). */
  async settled(): Promise<void> {
    await this.pending;
  }
}

/** sweepTemps over `dir` and every folder below it (symlinks are not followed). */
export function sweepTree(dir: string): number {
  let removed = sweepTemps(dir);
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return removed;
  }
  for (const e of entries) if (e.isDirectory()) removed += sweepTree(join(dir, e.name));
  return removed;
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
    await fsyncAsync(fd);
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

/**
 * Input that must be read more than once (stdin) kept, as it comes, in a private file in $TMPDIR:
 * removed by `remove()`, on an error and on signals; a killed run's copy goes at the next spool.
 */
export async function spool(chunks: AsyncIterable<Uint8Array>, kind: 'export' | 'unbundle', ext: string): Promise<{ path: string; remove(): void }> {
  sweepTemps(tmpdir());
  const path = join(tmpdir(), `rollout-${kind}-${process.pid}-${randomBytes(6).toString('hex')}.${ext}`);
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  const release = holdTemp(path);
  const remove = () => {
    rmSync(path, { force: true });
    release();
  };
  try {
    try {
      for await (const chunk of chunks) for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done, chunk.length - done);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    remove();
    throw err;
  }
  return { path, remove };
}

// Where slimmed blobs live: `<CODEX_HOME>/rollout-objects/`, beside the roots, never in them (Codex
// and every binary take what is under sessions/ and archived_sessions/ for rollouts).
//
//   rollout-objects/<aa>/<sha256>        a blob: the exact bytes that stood between its string's
//                                        quotes, named by their SHA-256 (`sha256sum` checks it);
//                                        fanned out by the first two hex digits, as git does, so no
//                                        folder holds more than a few hundred of a large home's
//   rollout-objects/slimmed/<rollout-id>.json
//                                        what restore proves its result against (SlimRecord)
//
// An object is written once (atomically, verified if it is already there) and shared by every
// session that holds its marker: a subagent's, a fork's or a compaction's copy of an image costs
// nothing more. The record is keyed by the rollout id of the file's name, which stays the same
// when a session is archived, unarchived or compressed.
import { createHash } from 'node:crypto';
import { closeSync, constants, fsync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RolloutError } from '../cli/errors.js';
import { within } from '../core/real-path.js';
import { fileChunks } from '../core/source.js';
import type { Digest } from '../core/verify.js';
import { holdTemp, syncDir, tempName, writeAtomic } from '../fs/atomic.js';
import { objectRel, STORE_DIR } from '../fs/objects.js';
import { ROOTS, type Home } from '../home/paths.js';
import type { BlobSink, BlobWriter } from './rewrite.js';

const RECORDS = 'slimmed';
const SHA_RE = /^[0-9a-f]{64}$/;
/** A blob up to this size is gathered in memory before it is written; a larger one goes through a temp file. */
const IN_MEMORY = 8 << 20;
const fsyncAsync = promisify(fsync);

/**
 * What a session was before it was slimmed, so that a restore can prove it put it back byte for
 * byte. Codex may append to a slimmed session, and it may be slimmed again; each slimming adds a
 * segment: the bytes it found past the previous slimming's end, as they were (the first segment is
 * the whole original). Restored, the file is the segments one after the other, then whatever was
 * appended since the last slimming.
 */
export interface SlimRecord {
  version: 1;
  rollout: string;
  segments: Array<{
    /** Where the segment starts in the restored file. */
    at: number;
    bytes: number;
    sha256: string;
    /** Where each of this slimming's markers starts (its contents, past the quote) in the slimmed file. */
    markers: number[];
  }>;
  /** The file as the last slimming left it: a restore first checks it is still its start. */
  slimmed: Digest;
}

export class ObjectStore implements BlobSink {
  readonly dir: string;
  /** Objects found sound (or written) in this run: a duplicate is not hashed again. */
  private sound = new Set<string>();
  /** Objects written in this run, not yet synced. */
  private unsynced = new Set<string>();
  /** The buffer a blob is gathered in, between blobs. */
  private scratch: Buffer | null = null;

  /** `dir`: elsewhere than the home's store (a run that drops its blobs keeps them only meanwhile). */
  constructor(
    readonly home: Home,
    dir?: string,
  ) {
    this.dir = dir ?? join(home.dir, STORE_DIR);
    for (const root of ROOTS) if (within(join(home.dir, root), this.dir)) throw new Error(`the object store cannot be in ${root}/`);
  }

  objectPath(sha256: string): string {
    return join(this.dir, objectRel(sha256).slice(STORE_DIR.length + 1));
  }

  recordPath(rolloutId: string): string {
    return join(this.dir, RECORDS, `${rolloutId.toLowerCase()}.json`);
  }

  /** Whether the object is there with that size (its bytes are checked when read). */
  has(sha256: string, bytes?: number): boolean {
    const st = statSync(this.objectPath(sha256), { throwIfNoEntry: false });
    return Boolean(st?.isFile() && (bytes === undefined || st.size === bytes));
  }

  begin(): BlobWriter {
    const hash = createHash('sha256');
    let size = 0;
    // The scan lends its bytes for the call only: they are gathered in a buffer of the store's,
    // reused from blob to blob (blobs are written one after another), or spilled to a temp file.
    let mem: Buffer | null = this.scratch ?? Buffer.allocUnsafeSlow(1 << 16);
    this.scratch = null;
    let spill: { path: string; fd: number; release: () => void } | null = null;
    return {
      write: (b: Buffer) => {
        if (!b.length) return;
        hash.update(b);
        if (!spill && size + b.length > IN_MEMORY) {
          const path = tempName(join(this.dir, 'blob'));
          mkdirSync(this.dir, { recursive: true });
          const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
          spill = { path, fd, release: holdTemp(path) };
          writeAll(fd, mem!.subarray(0, size));
        }
        if (spill) writeAll(spill.fd, b);
        else {
          if (size + b.length > mem!.length) {
            const bigger = Buffer.allocUnsafeSlow(Math.min(IN_MEMORY, Math.max(size + b.length, 2 * mem!.length)));
            mem!.copy(bigger, 0, 0, size);
            mem = bigger;
          }
          b.copy(mem!, size);
        }
        size += b.length;
      },
      finish: async () => {
        const sha256 = hash.digest('hex');
        const s = spill;
        try {
          if (s) closeSync(s.fd);
          if (!(await this.isSound(sha256, size))) {
            await writeAtomic(this.objectPath(sha256), s ? fileChunks(s.path) : mem!.subarray(0, size), { durable: false, mode: 0o644 });
            this.sound.add(sha256);
            this.unsynced.add(sha256);
          }
        } finally {
          if (s) {
            rmSync(s.path, { force: true });
            s.release();
          }
          this.scratch = mem;
          mem = null;
        }
        return { sha256, bytes: size };
      },
    };
  }

  /** Whether the object is there and its bytes hash to its name (once per run). */
  private async isSound(sha256: string, bytes: number): Promise<boolean> {
    if (this.sound.has(sha256)) return true;
    if (!this.has(sha256, bytes)) return false;
    const h = createHash('sha256');
    for await (const c of fileChunks(this.objectPath(sha256))) h.update(c);
    const ok = h.digest('hex') === sha256;
    if (ok) this.sound.add(sha256);
    return ok;
  }

  /** An object's bytes as stored. */
  read(sha256: string): AsyncIterable<Buffer> {
    return fileChunks(this.objectPath(sha256));
  }

  /**
   * An object's bytes, checked: a missing object fails before a byte is given, one of another size
   * or another hash fails when its end is reached (its reader then throws before finishing).
   */
  async *readVerified(sha256: string, bytes: number): AsyncGenerator<Buffer> {
    const path = this.objectPath(sha256);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st?.isFile()) throw new RolloutError(`object ${sha256} is missing from the store`, { file: path });
    if (st.size !== bytes) throw new RolloutError(`object ${sha256} holds ${st.size} bytes, not ${bytes}: it is damaged`, { file: path });
    const h = createHash('sha256');
    let n = 0;
    for await (const c of fileChunks(path)) {
      h.update(c);
      n += c.length;
      yield c;
    }
    if (n !== bytes || h.digest('hex') !== sha256) throw new RolloutError(`object ${sha256} does not hash to its name: it is damaged`, { file: path });
  }

  /** Makes the objects written in this run durable: before a slimmed session takes its file's place. */
  async sync(): Promise<void> {
    const dirs = new Set<string>();
    for (const sha of this.unsynced) {
      const path = this.objectPath(sha);
      const fd = openSync(path, 'r');
      try {
        await fsyncAsync(fd);
      } finally {
        closeSync(fd);
      }
      dirs.add(join(this.dir, sha.slice(0, 2)));
    }
    for (const d of dirs) await syncDir(d);
    if (dirs.size) await syncDir(this.dir);
    this.unsynced.clear();
  }

  /** Every object in the store (by name; a stray file of another name is not one). */
  objects(): string[] {
    const out: string[] = [];
    for (const fan of readdirOrEmpty(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(fan)) continue;
      for (const name of readdirOrEmpty(join(this.dir, fan))) if (SHA_RE.test(name) && name.startsWith(fan)) out.push(name);
    }
    return out.sort();
  }

  readRecord(rolloutId: string): SlimRecord | null {
    const path = this.recordPath(rolloutId);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const r = JSON.parse(text) as SlimRecord;
      if (r.version !== 1 || !Array.isArray(r.segments) || !r.slimmed) throw new Error('unknown shape');
      return r;
    } catch (err) {
      throw new RolloutError(`not a slim record: ${(err as Error).message}`, { file: path });
    }
  }

  async writeRecord(record: SlimRecord): Promise<void> {
    await writeAtomic(this.recordPath(record.rollout), Buffer.from(JSON.stringify(record) + '\n'));
  }

  /** Forgets a rollout's record: its file is the original again. */
  removeRecord(rolloutId: string): void {
    rmSync(this.recordPath(rolloutId), { force: true });
  }

  /** The rollout ids that have a record. */
  records(): string[] {
    return readdirOrEmpty(join(this.dir, RECORDS))
      .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
      .map((n) => n.slice(0, -'.json'.length))
      .sort();
  }
}

function writeAll(fd: number, b: Buffer): void {
  for (let done = 0; done < b.length;) done += writeSync(fd, b, done, b.length - done);
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * The record after one more slimming. `prior` is the record the file had (null for its first);
 * `before`/`after` the digests of the input up to the prior slimmed end and from it; `output` the
 * slimmed file; `markers` where this slimming's markers are in it.
 */
export function nextRecord(rolloutId: string, prior: SlimRecord | null, after: Digest, output: Digest, markers: number[]): SlimRecord {
  const segments = prior ? prior.segments.map((s) => ({ ...s, markers: [...s.markers] })) : [];
  const at = segments.reduce((n, s) => n + s.bytes, 0);
  segments.push({ at, bytes: after.bytes, sha256: after.sha256, markers });
  return { version: 1, rollout: rolloutId.toLowerCase(), segments, slimmed: { bytes: output.bytes, sha256: output.sha256 } };
}

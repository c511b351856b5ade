// Proving bytes the same without holding them: a streaming SHA-256 digest, and a comparison of two
// streams in step. Every copy, compression and backup is checked with these before an original goes.
import { createHash } from 'node:crypto';
import { fileChunks } from './source.js';

export interface Digest {
  bytes: number;
  sha256: string;
}

/** Passes chunks through while hashing them; `done()` gives the digest once they have all gone by. */
export function hashing(chunks: AsyncIterable<Buffer>): { chunks: AsyncGenerator<Buffer>; done: () => Digest } {
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

export async function digest(chunks: AsyncIterable<Buffer>): Promise<Digest> {
  const h = hashing(chunks);
  for await (const _ of h.chunks);
  return h.done();
}

export const digestFile = (path: string): Promise<Digest> => digest(fileChunks(path));

export const sameDigest = (a: Digest, b: Digest): boolean => a.bytes === b.bytes && a.sha256 === b.sha256;

export interface Comparison {
  same: boolean;
  /** Offset of the first byte that differs (or where the shorter stream ends). */
  at: number;
  /** Which stream goes on after the other ended, if they agree up to there. */
  longer?: 'a' | 'b';
  aLength?: number;
  bLength?: number;
}

/** Compares two byte streams in step, holding one chunk of each at a time. */
export async function compareStreams(a: AsyncIterator<Buffer>, b: AsyncIterator<Buffer>): Promise<Comparison> {
  let bufA: Buffer = Buffer.alloc(0);
  let bufB: Buffer = Buffer.alloc(0);
  let doneA = false;
  let doneB = false;
  let at = 0;
  try {
    for (;;) {
      if (!bufA.length && !doneA) {
        const r = await a.next();
        if (r.done) doneA = true;
        else bufA = r.value;
      }
      if (!bufB.length && !doneB) {
        const r = await b.next();
        if (r.done) doneB = true;
        else bufB = r.value;
      }
      if (!bufA.length || !bufB.length) {
        if (!bufA.length && !bufB.length) return { same: true, at };
        // One has ended: count the rest of the other, to say how long it is.
        const longer = bufA.length ? 'a' : 'b';
        let rest = bufA.length + bufB.length;
        for (let r = await (longer === 'a' ? a : b).next(); !r.done; r = await (longer === 'a' ? a : b).next()) rest += r.value.length;
        return longer === 'a' ? { same: false, at, longer, aLength: at + rest, bLength: at } : { same: false, at, longer, aLength: at, bLength: at + rest };
      }
      const n = Math.min(bufA.length, bufB.length);
      const diff = firstDifference(bufA, bufB, n);
      if (diff < n) return { same: false, at: at + diff };
      at += n;
      bufA = bufA.subarray(n);
      bufB = bufB.subarray(n);
    }
  } finally {
    await a.return?.(undefined);
    await b.return?.(undefined);
  }
}

function firstDifference(a: Buffer, b: Buffer, n: number): number {
  if (a.compare(b, 0, n, 0, n) === 0) return n;
  let i = 0;
  while (a[i] === b[i]) i++;
  return i;
}

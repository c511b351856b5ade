// Putting a slimmed session back: each marker's contents replaced by its object's bytes, streamed
// and checked against the object's name as they go, every other byte as it is. With the file's
// record (store.ts) only the markers that slimming put there are replaced (a compaction that Codex
// wrote after the slimming may hold copies of them, which were markers in what it wrote), and the
// result is proven: the file must still start with what the last slimming wrote, and the result's
// segments must hash to what the original's did. Without a record (a fork's copy of slimmed lines)
// every marker that is a whole string is replaced, and nothing is proven.
//
// Every check fails by throwing from the stream before it ends, so a result being written through
// writeAtomic never takes the file's place.
import { createHash } from 'node:crypto';
import { RolloutError } from '../cli/errors.js';
import type { Digest } from '../core/verify.js';
import { escapedAt } from './blobs.js';
import { DATA_URL_PREFIX, MARKER_MAX, parseMarker, PNG_HEAD_B64, TEXT_HEAD, type Marker } from '../core/blob-marker.js';
import type { SlimRecord } from './store.js';

/** The file is not what its last slimming left: its record proves nothing any more (see file.ts). */
export class ChangedSinceSlimmed extends RolloutError {}

export interface ObjectSource {
  readVerified(sha256: string, bytes: number): AsyncIterable<Buffer>;
}

export interface RestoreResult {
  /** The markers replaced, with where their contents started in the input. */
  restored: Array<Marker & { at: number }>;
  input: Digest;
  output: Digest;
  /** Whether the result was proven equal to the recorded original (there was a record). */
  proven: boolean;
}

const PATTERNS = [PNG_HEAD_B64, Buffer.from(TEXT_HEAD)];
const CONTEXT = 32;
const QUOTE = 0x22;
const NL = 0x0a;

type Piece = Buffer | Marker;

/** Where the string holding the marker head at `h` starts its contents, or -1 when it is not the string's start. */
export function markerContents(w: Buffer, h: number, png: boolean): number {
  const quoteAt = (q: number) => q >= 0 && w[q] === QUOTE && escapedAt(w, q) === false;
  if (quoteAt(h - 1)) return h;
  const d = h - DATA_URL_PREFIX.length;
  if (png && d >= 1 && w.subarray(d, h).equals(DATA_URL_PREFIX) && quoteAt(d - 1)) return d;
  return -1;
}

export function restoreChunks(
  chunks: AsyncIterable<Buffer>,
  objects: ObjectSource,
  record: SlimRecord | null = null,
): { chunks: AsyncGenerator<Buffer>; result: () => RestoreResult } {
  let done: RestoreResult | null = null;
  return {
    chunks: run(chunks, objects, record, (r) => (done = r)),
    result: () => {
      if (!done) throw new Error('restore result asked for before the stream ended');
      return done;
    },
  };
}

async function* run(
  chunks: AsyncIterable<Buffer>,
  objects: ObjectSource,
  record: SlimRecord | null,
  finish: (r: RestoreResult) => void,
): AsyncGenerator<Buffer> {
  const wanted = record ? new Set(record.segments.flatMap((s) => s.markers)) : null;
  const restored: RestoreResult['restored'] = [];
  const input = createHash('sha256');
  let inBytes = 0;
  const prefix = createHash('sha256');
  const output = createHash('sha256');
  let outBytes = 0;
  // One hash per recorded segment, fed with the output bytes that fall in it.
  const segs = (record?.segments ?? []).map((s) => ({ ...s, hash: createHash('sha256'), fed: 0 }));
  const emitOut = (b: Buffer) => {
    output.update(b);
    for (const s of segs) {
      const lo = Math.max(s.at, outBytes);
      const hi = Math.min(s.at + s.bytes, outBytes + b.length);
      if (lo < hi) {
        s.hash.update(b.subarray(lo - outBytes, hi - outBytes));
        s.fed += hi - lo;
      }
    }
    outBytes += b.length;
  };

  let w: Buffer = Buffer.alloc(0);
  let base = 0;
  let i = 0;
  let emitted = 0;
  let out: Piece[] = [];
  const emitTo = (j: number) => {
    if (j > emitted) out.push(w.subarray(emitted, j));
    if (j > emitted) emitted = j;
  };

  // The next match of each pattern in w at or after i (-2: not looked for in this window yet).
  let next = PATTERNS.map(() => -2);
  const scan = (final: boolean) => {
    for (;;) {
      let h = -1;
      let png = false;
      for (const [k, p] of PATTERNS.entries()) {
        if (next[k] !== -1 && next[k]! < i) next[k] = w.indexOf(p, i);
        const at = next[k]!;
        if (at !== -1 && (h === -1 || at < h)) {
          h = at;
          png = k === 0;
        }
      }
      if (h === -1) {
        i = final ? w.length : Math.max(i, w.length - PNG_HEAD_B64.length + 1);
        // A marker found at i in the next chunk may start with a data URL's prefix before it.
        emitTo(final ? i : i - DATA_URL_PREFIX.length - 1);
        return;
      }
      const c0 = markerContents(w, h, png);
      if (c0 === -1) {
        i = h + 1;
        continue;
      }
      const limit = Math.min(w.length, c0 + MARKER_MAX + 1);
      let q = w.indexOf(QUOTE, c0);
      if (q >= limit) q = -1;
      const nl = w.subarray(c0, limit).indexOf(NL);
      if (q === -1 && nl === -1 && !final && limit === w.length) {
        emitTo(c0);
        i = h;
        return;
      }
      const m = q === -1 || (nl !== -1 && c0 + nl < q) ? null : parseMarker(w, c0, q);
      if (!m || (wanted && !wanted.has(base + c0))) {
        i = h + 1;
        continue;
      }
      wanted?.delete(base + c0);
      emitTo(c0);
      out.push(m);
      restored.push({ ...m, at: base + c0 });
      emitted = q;
      i = q + 1;
    }
  };

  async function* flush(): AsyncGenerator<Buffer> {
    const pieces = out;
    out = [];
    for (const p of pieces) {
      if (Buffer.isBuffer(p)) {
        emitOut(p);
        yield p;
      } else
        for await (const b of objects.readVerified(p.sha256, p.bytes)) {
          emitOut(b);
          yield b;
        }
    }
  }

  const slimmedEnd = record?.slimmed.bytes ?? 0;
  for await (const c of chunks) {
    if (!c.length) continue;
    input.update(c);
    const cut = Math.min(Math.max(slimmedEnd - inBytes, 0), c.length);
    if (cut > 0) prefix.update(c.subarray(0, cut));
    inBytes += c.length;
    const keep = Math.max(0, Math.min(emitted, i) - CONTEXT);
    const rest = w.subarray(keep);
    w = rest.length ? Buffer.concat([rest, c]) : c;
    base += keep;
    i -= keep;
    emitted -= keep;
    next = PATTERNS.map(() => -2);
    scan(false);
    yield* flush();
  }
  scan(true);
  emitTo(w.length);
  yield* flush();

  if (record) {
    if (inBytes < slimmedEnd || prefix.digest('hex') !== record.slimmed.sha256)
      throw new ChangedSinceSlimmed('the file is not what slimming left (it was changed, not only appended to): it cannot be restored exactly');
    if (wanted!.size) throw new RolloutError(`${wanted!.size} of the markers slimming wrote are not where it wrote them`);
    for (const s of segs)
      if (s.fed !== s.bytes || s.hash.digest('hex') !== s.sha256)
        throw new RolloutError(`the restored bytes ${s.at}-${s.at + s.bytes} do not hash to the original's: not restored`);
  }
  finish({
    restored,
    input: { bytes: inBytes, sha256: input.digest('hex') },
    output: { bytes: outBytes, sha256: output.digest('hex') },
    proven: record !== null,
  });
}

// Slimming a session's bytes as they stream by: each blob's string contents (blobs.ts) go to a sink
// (the store) as they are read and a marker (marker.ts) takes their place; every other byte comes
// through as it was, BOM, CRLF, blank lines and all, and no line is decoded or held whole. A line
// of 50 MB costs a chunk or two of memory: the scan jumps from pattern to pattern with byte
// searches, and a blob's bytes are hashed and handed on while its closing quote is looked for.
//
// The window the scan works in is one buffer, reused: each chunk is copied in after what is not yet
// passed on, and what must outlive the window (a held line's bytes) is copied out of it before the
// next chunk. Fresh memory for every megabyte read costs a page fault per 4 KB and leaves tens of
// megabytes to the collector; so the output chunks are views of the window, each valid until the
// next is pulled, and a blob's bytes are given to its writer only for the length of the call.
//
// A line that turns out torn (the file's last, without a newline) or malformed (a blob's string
// never closes) is put back as it was: from its first marker on, what it becomes is held until its
// newline, and rebuilt from the sink if the newline never comes. Past HOLD_MAX bytes held the line
// goes out as it is; it may then end slimmed, which a restore undoes like any other.
import { createHash, type Hash } from 'node:crypto';
import { Shifts } from '../core/retag.js';
import type { Digest } from '../core/verify.js';
import { candidateAt, DEFAULT_RULES, NEED, patternsFor, type BlobRules, type Candidate } from './blobs.js';
import { markerBytes, type Marker } from '../core/blob-marker.js';

/** A blob being written: its bytes in order, then its name (the writer hashes them). */
export interface BlobWriter {
  /** `bytes` is valid during the call only (the scan reuses its window): a writer that keeps them copies them. */
  write(bytes: Buffer): void;
  finish(): Promise<{ sha256: string; bytes: number }>;
}

/** Where blobs go, and whence they come back. */
export interface BlobSink {
  begin(): BlobWriter;
  read(sha256: string): AsyncIterable<Buffer>;
}

/** A blob taken out: its marker, where the marker's contents are in the output, the input line it was on. */
export interface SlimmedBlob extends Marker {
  at: number;
  line: number;
}

export interface SlimResult {
  blobs: SlimmedBlob[];
  /** Markers found where blobs would have been: the bytes were slimmed before (or copied from a slimmed file). */
  markers: number;
  /** Bytes fewer in the output. */
  saved: number;
  /** How lines moved, for a fork's `history_base` into this file (as a retag's). */
  shifts: Shifts;
  /** The input before `from`, and from it on (a file slimmed before, then appended to); with no `from`, `after` is the whole input's. */
  before: Digest;
  after: Digest;
  output: Digest;
}

export interface SlimOptions {
  /** Leave the bytes before this offset as they are (they were slimmed already). */
  from?: number;
  /** Take nothing out before this offset either: forks read the bytes before it by their offsets. */
  keep?: number;
}

/** Bytes held for one line at most before it is let go as it is. */
export const HOLD_MAX = 8 << 20;
/** Bytes of what was already passed on kept before a point the scan resumes at (an escape's backslashes, a member's comma). */
const CONTEXT = 32;
/** Bytes of a line's start that tell its record type. */
const HEAD = 512;
const NL = 0x0a;
const QUOTE = 0x22;
const BS = 0x5c;

type Piece = Buffer | { marker: Buffer; sha256: string; bytes: number } | { ref: string };

class Hasher {
  private h: Hash = createHash('sha256');
  bytes = 0;
  update(b: Buffer) {
    this.h.update(b);
    this.bytes += b.length;
  }
  digest(): Digest {
    return { bytes: this.bytes, sha256: this.h.digest('hex') };
  }
}

/** Backslashes just before `q`, counting down to `lo`; `carried` more if they reach it. */
function escapedQuote(w: Buffer, lo: number, q: number, carried: number): boolean {
  let k = q - 1;
  while (k >= lo && w[k] === BS) k--;
  return ((q - 1 - k + (k < lo ? carried : 0)) & 1) === 1;
}

/** The first unescaped quote at or after `from` and before `limit` (contents start at `lo`), or -1. */
function closingQuote(w: Buffer, lo: number, from: number, limit: number, carried: number): number {
  for (let q = w.indexOf(QUOTE, from); q !== -1 && q < limit; q = w.indexOf(QUOTE, q + 1)) if (!escapedQuote(w, lo, q, carried)) return q;
  return -1;
}

/**
 * The file's bytes slimmed. `result()` is complete once the chunks have been read to their end; the
 * blobs are in the sink by then (each finished before its marker is passed on). The input chunks may
 * be transient (each is copied before the next is pulled); each output chunk is valid until the next
 * is pulled, so a consumer that keeps one copies it.
 */
export function slimChunks(
  chunks: AsyncIterable<Buffer>,
  sink: BlobSink,
  rules: BlobRules = DEFAULT_RULES,
  opts: SlimOptions = {},
): { chunks: AsyncGenerator<Buffer>; result: () => SlimResult } {
  let done: SlimResult | null = null;
  return {
    chunks: run(chunks, sink, rules, opts.from ?? 0, Math.max(opts.from ?? 0, opts.keep ?? 0), (r) => (done = r)),
    result: () => {
      if (!done) throw new Error('slim result asked for before the stream ended');
      return done;
    },
  };
}

async function* run(
  chunks: AsyncIterable<Buffer>,
  sink: BlobSink,
  rules: BlobRules,
  from: number,
  start: number,
  finish: (r: SlimResult) => void,
): AsyncGenerator<Buffer> {
  const patterns = patternsFor(rules);
  const longest = Math.max(1, ...patterns.map((p) => p.bytes.length));
  const before = new Hasher();
  const after = new Hasher();
  const output = new Hasher();
  const shifts = new Shifts();
  const blobs: SlimmedBlob[] = [];
  let saved = 0;
  let markers = 0;

  let win: Buffer = spareWindow ?? Buffer.alloc(0); // the window's storage, reused from chunk to chunk (and file to file)
  spareWindow = null;
  let w: Buffer = win.subarray(0, 0); // the window: win's first bytes
  let base = 0; // offset of w[0] in the input
  let i = 0; // where the scan is in w
  let emitted = 0; // w[0, emitted) is passed on (or went to a blob)
  let outPos = 0; // output bytes so far, held ones included
  let out: Piece[] = [];

  // The current line.
  let lineStart = 0;
  let savedHead: Buffer | null = null;
  let held: Piece[] | null = null;
  let heldBytes = 0;
  let letGo = false; // held past HOLD_MAX: its edits go out as they come
  let bad = false; // a blob's string never closed
  let delta = 0;
  let lineBlobs: SlimmedBlob[] = [];

  // A blob whose string runs on past the window.
  let blob: { writer: BlobWriter; cand: Candidate; carried: number; line: number } | null = null;

  // The next match of each pattern and of a newline in w, at or after i (-2: not looked for yet).
  let next: number[] = [];
  let nextNl = -2;
  const resetSearch = () => {
    next = patterns.map(() => -2);
    nextNl = -2;
  };
  resetSearch();

  const put = (p: Piece, length: number) => {
    if (held) {
      held.push(p);
      heldBytes += length;
      if (heldBytes > HOLD_MAX) letHeldGo();
    } else out.push(p);
    outPos += length;
  };
  const emitTo = (j: number) => {
    if (j > emitted) put(w.subarray(emitted, j), j - emitted);
    if (j > emitted) emitted = j;
  };
  const hold = () => {
    if (!held && !letGo) {
      held = [];
      heldBytes = 0;
    }
  };
  /** The next chunk overwrites the window: a held line keeps its own copy of what it holds of it. */
  const detachHeld = () => {
    if (held) held = held.map((p) => (Buffer.isBuffer(p) && p.buffer === win.buffer ? Buffer.from(p) : p));
  };
  function letHeldGo() {
    if (!held) return;
    out.push(...held);
    held = null;
    letGo = true;
  }
  const lineHead = (): Buffer => {
    if (lineStart >= base) return w.subarray(lineStart - base, lineStart - base + HEAD);
    return savedHead ?? Buffer.alloc(0);
  };

  /** A finished blob: its marker in its place. */
  const replaced = (cand: Candidate, info: { sha256: string; bytes: number }, line: number) => {
    const m: Marker = { kind: cand.kind, media: cand.media, form: cand.form, bytes: info.bytes, sha256: info.sha256 };
    const bytes = markerBytes(m);
    lineBlobs.push({ ...m, at: outPos, line });
    delta += bytes.length - info.bytes;
    put({ marker: bytes, sha256: info.sha256, bytes: info.bytes }, bytes.length);
  };

  /** The line ends (at its newline, or torn at the end): its held bytes go out, rebuilt if it is not sound. */
  const endLine = (complete: boolean) => {
    if (held) {
      const rebuild = bad || !complete;
      const h: Piece[] = held;
      held = null;
      if (rebuild) {
        for (const p of h) {
          if (Buffer.isBuffer(p) || 'ref' in p) out.push(p);
          else {
            out.push({ ref: p.sha256 });
            outPos += p.bytes - p.marker.length;
          }
        }
        lineBlobs = [];
        delta = 0;
      } else out.push(...h);
    }
    if (lineBlobs.length) {
      shifts.edited++;
      if (delta) shifts.lines.push([lineStart, delta]);
      for (const b of lineBlobs) {
        blobs.push(b);
        saved += b.bytes - markerBytes(b).length;
      }
    }
    lineBlobs = [];
    delta = 0;
    bad = false;
    letGo = false;
    savedHead = null;
  };

  /** The contents of a blob that never closed come back as they were. */
  const brokenBlob = async () => {
    const b = blob!;
    blob = null;
    const info = await b.writer.finish();
    bad = true;
    put({ ref: info.sha256 }, info.bytes);
  };

  /** Scans w from i as far as it can; false when it needs the next chunk. */
  async function scan(final: boolean): Promise<void> {
    for (;;) {
      if (nextNl !== -1 && nextNl < i) nextNl = w.indexOf(NL, i);
      if (blob) {
        const limit = nextNl === -1 ? w.length : nextNl;
        const q = closingQuote(w, i, i, limit, blob.carried);
        if (q !== -1) {
          blob.writer.write(w.subarray(i, q));
          const b = blob;
          blob = null;
          replaced(b.cand, await b.writer.finish(), b.line);
          emitted = i = q;
          continue;
        }
        blob.writer.write(w.subarray(i, limit));
        if (nextNl !== -1) {
          emitted = i = nextNl;
          await brokenBlob();
          continue;
        }
        let k = w.length - 1;
        while (k >= i && w[k] === BS) k--;
        blob.carried = w.length - 1 - k + (k < i ? blob.carried : 0);
        emitted = i = w.length;
        return;
      }
      // The first pattern match at or after i.
      let h = -1;
      let pat = -1;
      for (let k = 0; k < patterns.length; k++) {
        if (next[k] !== -1 && next[k]! < i) next[k] = w.indexOf(patterns[k]!.bytes, i);
        const at = next[k]!;
        if (at !== -1 && (h === -1 || at < h)) {
          h = at;
          pat = k;
        }
      }
      if (nextNl !== -1 && (h === -1 || nextNl < h)) {
        if (held) emitTo(nextNl + 1);
        i = nextNl + 1;
        endLine(true);
        lineStart = base + i;
        continue;
      }
      if (h === -1) {
        // Nothing more here; a pattern may begin in the last few bytes and end in the next chunk.
        i = final ? w.length : Math.max(i, w.length - longest + 1);
        emitTo(i);
        return;
      }
      if (!final && w.length - h < NEED) {
        emitTo(h);
        i = h;
        return;
      }
      const found = base + h >= start ? candidateAt(patterns[pat]!, w, h, rules, lineHead) : null;
      if (found === 'marker') markers++;
      const cand = found === 'marker' ? null : found;
      if (!cand) {
        i = h + 1;
        continue;
      }
      const c0 = cand.contents;
      const limit = nextNl === -1 ? w.length : nextNl;
      const q = closingQuote(w, c0, c0, limit, 0);
      if (q !== -1) {
        if (q - c0 >= cand.min) {
          emitTo(c0);
          hold();
          const writer = sink.begin();
          writer.write(w.subarray(c0, q));
          replaced(cand, await writer.finish(), lineStart);
          emitted = q;
        }
        i = q + 1;
        continue;
      }
      if (nextNl !== -1 || final) {
        // The string does not close on its line: not a value to take out.
        i = limit;
        continue;
      }
      if (w.length - c0 >= cand.min) {
        emitTo(c0);
        hold();
        blob = { writer: sink.begin(), cand, carried: 0, line: lineStart };
        i = c0;
        continue;
      }
      // Too short so far to tell: wait for more.
      emitTo(h);
      i = h;
      return;
    }
  }

  async function* flush(): AsyncGenerator<Buffer> {
    const pieces = out;
    out = [];
    for (const p of pieces) {
      if (Buffer.isBuffer(p)) {
        output.update(p);
        yield p;
      } else if ('marker' in p) {
        output.update(p.marker);
        yield p.marker;
      } else {
        for await (const b of sink.read(p.ref)) {
          output.update(b);
          yield b;
        }
      }
    }
  }

  for await (const c of chunks) {
    if (!c.length) continue;
    const end = before.bytes + after.bytes + c.length;
    const cut = Math.min(Math.max(from - (end - c.length), 0), c.length);
    if (cut > 0) before.update(c.subarray(0, cut));
    if (cut < c.length) after.update(c.subarray(cut));
    // The next window: what is not yet passed on (and a little context before it), then the chunk.
    const keep = Math.max(0, Math.min(emitted, i) - CONTEXT);
    // The line's head (its record type) outlives the window it was in.
    const headEnd = lineStart + (savedHead?.length ?? 0);
    if (lineStart < base + keep && headEnd - lineStart < HEAD && headEnd >= base && headEnd < base + w.length) {
      const more = w.subarray(headEnd - base, lineStart + HEAD - base);
      savedHead = savedHead ? Buffer.concat([savedHead, more]) : Buffer.from(more);
    }
    const rest = w.length - keep;
    if (rest + c.length > win.length) {
      // Room for a chunk of the same size and a little more held back, so it seldom grows again.
      const bigger = Buffer.allocUnsafeSlow(rest + c.length + Math.max(1 << 16, rest));
      w.copy(bigger, 0, keep);
      win = bigger;
    } else w.copy(win, 0, keep);
    c.copy(win, rest);
    w = win.subarray(0, rest + c.length);
    base += keep;
    i -= keep;
    emitted -= keep;
    resetSearch();
    await scan(false);
    yield* flush();
    detachHeld();
  }
  await scan(true);
  if (blob) await brokenBlob();
  emitTo(w.length);
  if (base + w.length > lineStart) endLine(false);
  yield* flush();
  finish({ blobs, markers, saved, shifts, before: before.digest(), after: after.digest(), output: output.digest() });
  spareWindow = win;
}

/** The window of the last file slimmed, for the next (files are slimmed one after another; a second at once gets its own). */
let spareWindow: Buffer | null = null;

// Chunks of bytes to lines of bytes. Nothing is decoded here: a line is a Buffer (usually a slice of
// the chunk it sits in), so passing it on costs no copy and no UTF-8 work.
//
// The rules, shared by every binary: a byte-order mark at the very start is dropped; `\r\n` ends a
// line like `\n`; blank lines are skipped (Codex ignores them too); a last line without `\n` is a
// torn write, never yielded, and reported in `stats.torn` for the caller to warn about or refuse.

const NL = 0x0a;
const CR = 0x0d;
/** A UTF-8 byte-order mark: passed over at the start of a file, and reported. */
export const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * A line's bytes may be a view of the chunk it was read from; with a transient source that memory
 * is reused once the next batch is pulled, so a consumer copies what it keeps beyond its batch.
 */
export interface Line {
  /** The line without its terminator. */
  bytes: Buffer;
  /** 1-based physical line number (blank lines count), as `sed -n Np` would show it. */
  no: number;
  /** Byte offset of the line's first byte in the stream. */
  offset: number;
  /** Byte offset just past the line's `\n`. */
  end: number;
}

/**
 * The lines read from one chunk. When `span` is set, the lines from index `spanFirst` on, each
 * followed by `\n`, are exactly the bytes of `span` (nothing was skipped or rewritten), so a
 * consumer passing them through can write them in one piece. (Lines before `spanFirst` began in
 * an earlier chunk.)
 */
export type LineBatch = Line[] & { span?: Buffer; spanFirst?: number };

export interface Torn {
  no: number;
  offset: number;
  bytes: Buffer;
}

export interface LineStats {
  /** Lines yielded. */
  lines: number;
  blank: number;
  crlf: number;
  bom: boolean;
  torn: Torn | null;
  /** Bytes consumed, i.e. the stream's length once iteration ends. */
  bytes: number;
}

export const newStats = (): LineStats => ({ lines: 0, blank: 0, crlf: 0, bom: false, torn: null, bytes: 0 });

function isBlank(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== CR) return false;
  }
  return true;
}

export interface LineOptions {
  /** Offset of the first byte of `chunks` in the whole stream (when reading from the middle). */
  startOffset?: number;
  /** Line number of the line before the first one read (when reading from the middle). */
  startLine?: number;
  /**
   * The chunks reuse their memory (a transient source), and the consumer is done with a batch
   * before it pulls the next: lines that straddle chunks are then assembled in reused buffers too.
   */
  transient?: boolean;
}

/**
 * The start of a line that continues in the next chunk. It is always copied, since a source may
 * reuse a chunk's memory for the next read. With `transient` the copies go into one of two
 * growable buffers used in turn (the line finished in one batch must survive until the next
 * batch's tail is stored), so no memory is allocated per line; otherwise into fresh buffers.
 */
class Carry {
  length = 0;
  private parts: Buffer[] = [];
  private buffers: Buffer[] | null;
  private current = 0;

  constructor(transient: boolean) {
    this.buffers = transient ? [Buffer.alloc(0), Buffer.alloc(0)] : null;
  }

  add(piece: Buffer): void {
    if (this.buffers) this.append(piece);
    else this.parts.push(Buffer.from(piece));
    this.length += piece.length;
  }

  /** The whole line, ending with `rest`; the carry is empty afterwards. */
  finish(rest: Buffer): Buffer {
    let line: Buffer;
    if (this.buffers) {
      this.append(rest);
      line = this.buffers[this.current]!.subarray(0, this.length + rest.length);
      this.current ^= 1;
    } else {
      this.parts.push(rest);
      line = Buffer.concat(this.parts, this.length + rest.length);
      this.parts = [];
    }
    this.length = 0;
    return line;
  }

  private append(piece: Buffer): void {
    const buffers = this.buffers!;
    let buf = buffers[this.current]!;
    const need = this.length + piece.length;
    if (buf.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(need, buf.length * 2, 1 << 16));
      buf.copy(grown, 0, 0, this.length);
      buf = buffers[this.current] = grown;
    }
    piece.copy(buf, this.length);
  }
}

/** Lines, one batch per chunk read: a batch is cheaper to hand over than one line at a time. */
export async function* lineBatches(chunks: AsyncIterable<Buffer>, stats: LineStats = newStats(), opts: LineOptions = {}): AsyncGenerator<LineBatch> {
  const atStart = !opts.startOffset;
  const carry = new Carry(Boolean(opts.transient));
  let chunkOffset = opts.startOffset ?? 0;
  let lineOffset = chunkOffset;
  let no = opts.startLine ?? 0;
  let first = true;

  for await (const chunk of opts.startOffset ? chunks : headOfAtLeast(3, chunks)) {
    let start = 0;
    if (first && atStart && chunk.length >= 3 && chunk.subarray(0, 3).equals(BOM)) {
      stats.bom = true;
      start = 3;
      lineOffset = 3;
    }
    first = false;
    const batch: LineBatch = [];
    const carried = carry.length > 0;
    let spanStart = start;
    let spanFirst = 0;
    let pastCarried = false;
    let clean = true;
    for (let nl = chunk.indexOf(NL, start); nl !== -1; nl = chunk.indexOf(NL, start)) {
      let bytes = chunk.subarray(start, nl);
      if (carry.length) bytes = carry.finish(bytes);
      no++;
      const offset = lineOffset;
      lineOffset = chunkOffset + nl + 1;
      start = nl + 1;
      if (bytes.length && bytes[bytes.length - 1] === CR) {
        bytes = bytes.subarray(0, bytes.length - 1);
        stats.crlf++;
        clean = false;
      }
      const blank = bytes.length === 0 || isBlank(bytes);
      if (blank) stats.blank++;
      else batch.push({ bytes, no, offset, end: lineOffset });
      if (carried && !pastCarried) {
        // The first line began in an earlier chunk; the span starts after it.
        pastCarried = true;
        spanStart = start;
        spanFirst = batch.length;
      } else if (blank) clean = false;
    }
    if (clean && spanFirst < batch.length) {
      batch.span = chunk.subarray(spanStart, start);
      batch.spanFirst = spanFirst;
    }
    if (start < chunk.length) carry.add(chunk.subarray(start));
    chunkOffset += chunk.length;
    stats.lines += batch.length;
    if (batch.length) yield batch;
  }
  stats.bytes = chunkOffset;
  if (carry.length) {
    const bytes = carry.finish(Buffer.alloc(0));
    if (!isBlank(bytes)) stats.torn = { no: no + 1, offset: lineOffset, bytes };
  }
}

/** The same chunks, but the first one holds at least `n` bytes (when the stream has them): a BOM is whole. */
async function* headOfAtLeast(n: number, chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let head: Buffer | null = null;
  for await (const chunk of chunks) {
    if (head === null && chunk.length >= n) {
      head = chunk;
      yield chunk;
    } else if (head === null || head.length < n) {
      // Copied: a transient source reuses the chunk's memory for the next one.
      head = head ? Buffer.concat([head, chunk]) : Buffer.from(chunk);
      if (head.length >= n) yield head;
    } else yield chunk;
  }
  if (head !== null && head.length < n) yield head;
}

/** The same lines one at a time, for code off the hot path. */
export async function* lines(chunks: AsyncIterable<Buffer>, stats?: LineStats, opts?: LineOptions): AsyncGenerator<Line> {
  for await (const batch of lineBatches(chunks, stats, opts)) yield* batch;
}

// POSIX tar (pax interchange format), both ways, streaming: a writer of regular files only, and a
// strict reader for untrusted archives. Knows nothing of homes or sessions.
//
// Written headers hold nothing of the machine that wrote them: uid and gid 0, empty user and group
// names, mode 0644, and a pax header whose own name is fixed (GNU tar puts its pid there). The mtime
// is the caller's: a bundle passes the file's, so that an extracted home keeps the ages Codex reads.
import { RolloutError } from '../cli/errors.js';

export const BLOCK = 512;
const END = Buffer.alloc(BLOCK * 2);

/** What a member is, as the writer takes it and the reader gives it. */
export interface TarEntry {
  /** Relative, '/'-separated, no '.', '..' or empty components. */
  path: string;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
}

export interface TarInput extends TarEntry {
  /** The member's bytes: exactly `size` of them, or the archive is refused half-written. */
  data: () => AsyncIterable<Buffer>;
}

export interface TarMember extends TarEntry {
  /** The member's bytes, read from the archive as they are pulled; must be drained or left before the next member. */
  data: AsyncIterable<Buffer>;
}

/** The ustar size field holds 11 octal digits; larger sizes go in a pax record. */
const MAX_OCTAL_SIZE = 0o77777777777;
const NAME_LEN = 100;

/** Why a member path is refused, or null: the same rule for writing and reading. */
export function badPath(path: string): string | null {
  if (path === '') return 'an empty name';
  if (path.includes('\0')) return 'a NUL byte in the name';
  if (path.startsWith('/')) return 'an absolute path';
  const parts = path.split('/');
  if (parts.includes('..')) return "a '..' component";
  if (parts.some((p) => p === '' || p === '.')) return "an empty or '.' component";
  return null;
}

// ---- writing ----

function octal(buf: Buffer, value: number, at: number, len: number): void {
  buf.write(value.toString(8).padStart(len - 1, '0') + '\0', at, len, 'ascii');
}

function header(name: string, size: number, mtime: number, type: '0' | 'x'): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, NAME_LEN, 'utf8');
  octal(h, 0o644, 100, 8);
  octal(h, 0, 108, 8);
  octal(h, 0, 116, 8);
  octal(h, size > MAX_OCTAL_SIZE ? 0 : size, 124, 12);
  octal(h, mtime, 136, 12);
  h.fill(0x20, 148, 156);
  h.write(type, 156, 1, 'ascii');
  h.write('ustar\0' + '00', 257, 8, 'ascii');
  octal(h, 0, 329, 8);
  octal(h, 0, 337, 8);
  const sum = h.reduce((a, b) => a + b, 0);
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

/** One pax record: its length counts itself, so the digits are found by trying. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bytes = Buffer.byteLength(body);
  const digits = String(bytes).length;
  const len = String(bytes + digits).length > digits ? bytes + digits + 1 : bytes + digits;
  return `${len}${body}`;
}

const padding = (size: number): Buffer => END.subarray(0, (BLOCK - (size % BLOCK)) % BLOCK);

/** The header blocks of one regular file: a pax header first when the name or size needs one. */
export function fileHeader(e: TarEntry): Buffer {
  const why = badPath(e.path);
  if (why) throw new Error(`tar member ${JSON.stringify(e.path)}: ${why}`);
  if (!Number.isSafeInteger(e.size) || e.size < 0 || !Number.isSafeInteger(e.mtime) || e.mtime < 0) throw new Error(`tar member ${e.path}: bad size or mtime`);
  const records: string[] = [];
  const long = Buffer.byteLength(e.path) > NAME_LEN || /[^\x20-\x7e]/.test(e.path);
  if (long) records.push(paxRecord('path', e.path));
  if (e.size > MAX_OCTAL_SIZE) records.push(paxRecord('size', String(e.size)));
  // A long name's header keeps its last 100 bytes, as readers without pax would show it.
  const shortName = long ? e.path.slice(-NAME_LEN).replace(/[^\x20-\x7e]/g, '_') : e.path;
  const file = header(shortName, e.size, e.mtime, '0');
  if (!records.length) return file;
  const pax = Buffer.from(records.join(''));
  return Buffer.concat([header('PaxHeaders/' + shortName.slice(-(NAME_LEN - 11)), pax.length, e.mtime, 'x'), pax, padding(pax.length), file]);
}

/**
 * The archive of these members, in the order given. A member whose data is not exactly its size
 * stops the archive before its end blocks: a half-written archive that any reader refuses.
 */
export async function* writeTar(entries: AsyncIterable<TarInput> | Iterable<TarInput>): AsyncGenerator<Buffer> {
  for await (const e of entries) {
    yield fileHeader(e);
    let n = 0;
    for await (const chunk of e.data()) {
      n += chunk.length;
      if (n > e.size) throw new RolloutError(`grew while being written (more than the ${e.size} bytes measured)`, { file: e.path });
      yield chunk;
    }
    if (n !== e.size) throw new RolloutError(`shrank while being written (${n} of the ${e.size} bytes measured)`, { file: e.path });
    const pad = padding(n);
    if (pad.length) yield pad;
  }
  yield END;
}

// ---- reading ----

/** Pulls exact byte counts out of a chunk stream. */
class Bytes {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  offset = 0;

  constructor(private readonly it: AsyncIterator<Buffer>) {}

  /** Fills the buffer with at least `n` bytes, unless the stream ends first; true when it has them. */
  private async fill(n: number): Promise<boolean> {
    while (this.buf.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else if (r.value.length) this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    }
    return this.buf.length >= n;
  }

  /** Exactly `n` bytes, or null when the stream ends before them. */
  async take(n: number): Promise<Buffer | null> {
    if (!(await this.fill(n))) return null;
    const out = Buffer.from(this.buf.subarray(0, n));
    this.buf = this.buf.subarray(n);
    this.offset += n;
    return out;
  }

  /** Up to `n` bytes as they are in the buffer (at least one), or null at the end of the stream. */
  async some(n: number): Promise<Buffer | null> {
    if (!this.buf.length && !(await this.fill(1))) return null;
    const piece = this.buf.subarray(0, Math.min(n, this.buf.length));
    this.buf = this.buf.subarray(piece.length);
    this.offset += piece.length;
    return piece;
  }

  /** Whether everything left is zero bytes (the padding to a whole record). */
  async restIsZero(): Promise<boolean> {
    for (;;) {
      if (this.buf.some((b) => b !== 0)) return false;
      this.buf = Buffer.alloc(0);
      if (!(await this.fill(1))) return true;
    }
  }
}

const refuse = (what: string) => new RolloutError(`not a bundle we can trust: ${what}`);
const truncated = (where: string) => refuse(`the archive is truncated (it ends ${where})`);

function readOctal(h: Buffer, at: number, len: number, what: string): number {
  const text = h
    .toString('latin1', at, at + len)
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  if (!/^[0-7]+$/.test(text)) throw refuse(`a header's ${what} is not an octal number`);
  const n = parseInt(text, 8);
  if (!Number.isSafeInteger(n)) throw refuse(`a header's ${what} is too large`);
  return n;
}

const field = (h: Buffer, at: number, len: number): string => {
  const end = h.indexOf(0, at);
  return h.toString('utf8', at, end === -1 || end > at + len ? at + len : end);
};

function checkHeader(h: Buffer): void {
  const stored = readOctal(h, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (stored !== unsigned && stored !== signed) throw refuse('a header checksum is wrong');
  if (h.toString('latin1', 257, 263) !== 'ustar\0' || h.toString('latin1', 263, 265) !== '00') throw refuse('a header is not a POSIX (ustar or pax) header');
}

/** The records of a pax extended header: `LEN key=value\n`, each length counting itself. */
function paxRecords(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const len = space === -1 ? NaN : Number(data.toString('latin1', at, space));
    if (!Number.isSafeInteger(len) || len <= 0 || at + len > data.length || data[at + len - 1] !== 0x0a) throw refuse('a pax header is malformed');
    const record = data.toString('utf8', space + 1, at + len - 1);
    const eq = record.indexOf('=');
    if (eq <= 0) throw refuse('a pax header is malformed');
    out.set(record.slice(0, eq), record.slice(eq + 1));
    at += len;
  }
  return out;
}

const TYPE_NAMES: Record<string, string> = {
  '1': 'a hard link',
  '2': 'a symbolic link',
  '3': 'a character device',
  '4': 'a block device',
  '5': 'a directory',
  '6': 'a FIFO',
  '7': 'a contiguous file',
  L: 'a GNU long name',
  K: 'a GNU long link',
};

/** A pax header larger than this is not one a bundle writes; refusing it bounds memory. */
const MAX_PAX = 64 << 10;

/**
 * The regular files of an archive, one at a time, checked as they come: anything but a regular
 * file or a pax header, a path that could land outside the folder it is extracted into, a bad
 * checksum, a size beyond the data, a missing end, or bytes after it are refused with a
 * RolloutError. A member's data not pulled is skipped when the next member is asked for.
 */
export async function* readTar(chunks: AsyncIterable<Buffer>): AsyncGenerator<TarMember> {
  const it = chunks[Symbol.asyncIterator]();
  const bytes = new Bytes(it);
  let pax: Map<string, string> | null = null;
  // The member being read: what is left of its data and padding, whoever pulls it.
  let current: { left: number; pad: number; what: string } | null = null;
  const skip = async (m: NonNullable<typeof current>) => {
    while (m.left > 0) {
      const piece = await bytes.some(m.left);
      if (!piece) throw truncated(`in the data of ${m.what}`);
      m.left -= piece.length;
    }
    if (m.pad && !(await bytes.take(m.pad))) throw truncated(`in the padding of ${m.what}`);
    m.pad = 0;
  };
  try {
    for (;;) {
      if (current) await skip(current);
      current = null;
      const h = await bytes.take(BLOCK);
      if (!h) throw truncated(bytes.offset ? 'without its end blocks' : 'before its first header');
      if (h.every((b) => b === 0)) {
        const second = await bytes.take(BLOCK);
        if (!second || !second.every((b) => b === 0)) throw refuse('a lone zero block inside the archive');
        if (pax) throw refuse('a pax header with no member after it');
        if (!(await bytes.restIsZero())) throw refuse('data after the end of the archive');
        return;
      }
      checkHeader(h);
      const type = h.toString('latin1', 156, 157);
      let size = readOctal(h, 124, 12, 'size');
      if (type === 'x' || type === 'g') {
        if (size > MAX_PAX) throw refuse(`a pax header of ${size} bytes`);
        const data = await bytes.take(size);
        if (!data || !(await bytes.take((BLOCK - (size % BLOCK)) % BLOCK))) throw truncated('in a pax header');
        const records = paxRecords(data);
        // A global header would rename or resize every member after it: nothing a bundle needs.
        if (type === 'g' && (records.has('path') || records.has('size'))) throw refuse('a global pax header that sets a path or size');
        if (type === 'x') {
          if (pax) throw refuse('two pax headers in a row');
          pax = records;
        }
        continue;
      }
      const prefix = field(h, 345, 155);
      const path = pax?.get('path') ?? (prefix ? `${prefix}/${field(h, 0, NAME_LEN)}` : field(h, 0, NAME_LEN));
      if (type !== '0' && type !== '\0') throw refuse(`member ${JSON.stringify(path)} is ${TYPE_NAMES[type] ?? `of type '${type}'`}, not a regular file`);
      const paxSize = pax?.get('size');
      if (paxSize !== undefined) {
        if (!/^\d+$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize))) throw refuse(`member ${JSON.stringify(path)} has a bad pax size`);
        size = Number(paxSize);
      }
      const why = badPath(path);
      if (why) throw refuse(`member ${JSON.stringify(path)} has ${why}`);
      const mtime = Number(pax?.get('mtime')?.split('.')[0] ?? readOctal(h, 136, 12, 'mtime'));
      pax = null;
      const m = (current = { left: size, pad: (BLOCK - (size % BLOCK)) % BLOCK, what: JSON.stringify(path) });
      yield { path, size, mtime, data: memberData(m, bytes, () => current === m) };
    }
  } finally {
    await it.return?.(undefined);
  }
}

/** A member's data, pulled from the archive; once the reader has moved on, there is none left. */
async function* memberData(m: { left: number; what: string }, bytes: Bytes, isCurrent: () => boolean): AsyncGenerator<Buffer> {
  while (m.left > 0 && isCurrent()) {
    const piece = await bytes.some(m.left);
    if (!piece) throw truncated(`in the data of ${m.what}`);
    m.left -= piece.length;
    yield piece;
  }
}

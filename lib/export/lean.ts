// Parsing a record without what no format shows. The bulk of a large session is a few kinds of
// string that an export never renders: inline images (a megabyte of base64 per screenshot, shown as
// `[Image]`), and copies of text it takes from elsewhere (a command's `aggregated_output`, a task's
// `last_agent_message`). Cutting those out of the line's bytes before `JSON.parse` spares decoding
// and parsing them. Each cut is made only where the serialization leaves no doubt about where a
// string begins and ends; anything less certain is parsed whole.
import { parseLine } from '../record.js';

const Q = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/** Values shorter than this are not worth a copy of the line. */
const WORTH_CUTTING = 256;

const IMAGE_URL = Buffer.from('"image_url":"data:');

/** Whether the key whose opening quote is at `at` opens a member (follows `{` or `,`), so the quote cannot be inside a string. */
const opensMember = (bytes: Buffer, at: number): boolean => at > 0 && (bytes[at - 1] === COMMA || bytes[at - 1] === 0x7b);

/** The end (the closing quote) of a JSON string whose contents start at `from`, or -1. */
function stringEnd(bytes: Buffer, from: number): number {
  for (let q = bytes.indexOf(Q, from); q !== -1; q = bytes.indexOf(Q, q + 1)) {
    let slashes = 0;
    while (q - 1 - slashes >= from && bytes[q - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return q;
  }
  return -1;
}

/** `bytes` without the byte ranges `cuts` (sorted, disjoint); `bytes` itself when there are none. */
function without(bytes: Buffer, cuts: Array<[number, number]>): Buffer {
  if (!cuts.length) return bytes;
  const parts: Buffer[] = [];
  let from = 0;
  for (const [a, b] of cuts) {
    parts.push(bytes.subarray(from, a));
    from = b;
  }
  parts.push(bytes.subarray(from));
  return Buffer.concat(parts);
}

/**
 * The line with the data of its inline images left out: `"image_url":"data:image/png;base64,…"`
 * keeps its media type and loses its payload. Images are only ever counted and shown as a
 * placeholder, so the parsed record reads the same to every renderer.
 */
export function withoutImages(bytes: Buffer): Buffer {
  const cuts: Array<[number, number]> = [];
  for (let at = bytes.indexOf(IMAGE_URL); at !== -1; at = bytes.indexOf(IMAGE_URL, at + 1)) {
    if (!opensMember(bytes, at)) continue;
    const value = at + IMAGE_URL.length;
    const end = stringEnd(bytes, value);
    if (end === -1) break;
    const comma = bytes.indexOf(COMMA, value);
    if (comma !== -1 && comma < end && end - comma > WORTH_CUTTING) cuts.push([comma + 1, end]);
    at = end;
  }
  return without(bytes, cuts);
}

const members = new Map<string, Buffer>();
/** `"key":"`, as bytes to search for. */
function stringMember(key: string): Buffer {
  let m = members.get(key);
  if (!m) members.set(key, (m = Buffer.from(`"${key}":"`)));
  return m;
}

/** The line with the string value of member `key` emptied (its first occurrence that opens a member). */
export function withoutString(bytes: Buffer, key: string): Buffer {
  const member = stringMember(key);
  for (let at = bytes.indexOf(member); at !== -1; at = bytes.indexOf(member, at + 1)) {
    if (!opensMember(bytes, at)) continue;
    const value = at + member.length;
    const end = stringEnd(bytes, value);
    return end - value > WORTH_CUTTING ? without(bytes, [[value, end]]) : bytes;
  }
  return bytes;
}

/**
 * Scans a JSON string whose contents start at `from`: where it ends (its closing quote) and how
 * many UTF-16 units it decodes to, without decoding it. -1 when it does not end.
 */
export function scanString(bytes: Buffer, from: number): { end: number; units: number } {
  // Escapes are found natively; each makes its bytes one unit (`\uXXXX` is one unit, a surrogate
  // pair two escapes). Outside escapes, every byte but a UTF-8 continuation starts a unit, and a
  // 4-byte sequence makes two.
  let saved = 0;
  let q = bytes.indexOf(Q, from);
  let bs = bytes.indexOf(BACKSLASH, from);
  while (q !== -1 && bs !== -1 && bs < q) {
    const length = bytes[bs + 1] === 0x75 ? 6 : 2;
    saved += length - 1;
    const next = bs + length;
    if (q < next) q = bytes.indexOf(Q, next);
    bs = bytes.indexOf(BACKSLASH, next);
  }
  if (q === -1) return { end: -1, units: 0 };
  return { end: q, units: q - from - saved - continuations(bytes, from, q) };
}

/** Continuation bytes less 4-byte lead bytes in `[from, to)`: bytes minus UTF-16 units, escapes aside. */
function continuations(bytes: Buffer, from: number, to: number): number {
  let n = 0;
  let i = from;
  const count = (c: number) => ((c & 0xc0) === 0x80 ? 1 : 0) - (c >= 0xf0 ? 1 : 0);
  while (i < to && (bytes.byteOffset + i) & 3) n += count(bytes[i++]);
  // A word at a time: most text is ASCII, and a word without a high bit holds nothing to count.
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, (to - i) >> 2);
  for (let k = 0; k < words.length; k++) {
    const w = words[k];
    if ((w & 0x80808080) === 0) continue;
    n += count(w & 0xff) + count((w >>> 8) & 0xff) + count((w >>> 16) & 0xff) + count(w >>> 24);
  }
  for (i += words.length * 4; i < to; i++) n += count(bytes[i]);
  return n;
}

/** Where to cut a JSON string's bytes at or before `at` without splitting an escape or a character. */
function cleanCut(bytes: Buffer, from: number, at: number): number {
  while (at > from && (bytes[at] & 0xc0) === 0x80) at--;
  for (let b = at - 1; b >= from && b >= at - 5; b--) {
    if (bytes[b] !== BACKSLASH) continue;
    let run = 1;
    while (b - run >= from && bytes[b - run] === BACKSLASH) run++;
    // An odd run ends with a backslash that opens an escape; an even one is all pairs.
    if (run % 2 === 1 && b + (bytes[b + 1] === 0x75 ? 6 : 2) > at) return b;
    break;
  }
  return at;
}

const PAYLOAD = Buffer.from(',"payload":{');

export interface StringHead {
  /** The record, parsed with the member's value emptied. */
  env: any;
  /** The value's first units (at least the `units` asked for). */
  head: string;
  /** The value's full length in UTF-16 units. */
  length: number;
}

/**
 * A record whose payload has a long string member `key`, parsed without decoding all of it: only
 * its first `units` UTF-16 units are decoded, and its full length is counted from its bytes. Null
 * when the value is short, or when the line is not shaped so that the cut is certain (the member
 * must be the payload's own, before any nested object or array).
 */
export function parseStringHead(bytes: Buffer, key: string, units: number): StringHead | null {
  const payload = bytes.indexOf(PAYLOAD);
  if (payload === -1) return null;
  const member = bytes.indexOf(stringMember(key), payload);
  if (member === -1 || !opensMember(bytes, member)) return null;
  const nested = (open: number) => {
    const at = bytes.indexOf(open, payload + PAYLOAD.length);
    return at !== -1 && at < member;
  };
  if (nested(0x7b) || nested(0x5b)) return null;
  const value = member + stringMember(key).length;
  // Most text takes little more than a byte a unit (escaped line ends take two); text that takes
  // more is decoded again with room for the worst case, six bytes a unit. Counting costs about
  // half of decoding, so a value not twice as long as what is decoded anyway is parsed whole.
  const want = units + (units >> 3) + 16;
  if (bytes.length - value < 2 * want) return null;
  const { end, units: length } = scanString(bytes, value);
  if (end === -1 || end - value < 2 * want || length <= units) return null;
  const env = parseLine(Buffer.concat([bytes.subarray(0, value), bytes.subarray(end)]));
  if (env?.payload?.[key] !== '') return null;
  let head = decodeHead(bytes, value, end, want);
  // A clean cut gives up at most an escape's or a character's bytes: 12 bytes of slack cover both.
  if (head !== null && head.length < units) head = decodeHead(bytes, value, end, 6 * units + 12);
  return head !== null && head.length >= units ? { env, head, length } : null;
}

/** The JSON string at `value` decoded from at most its first `size` bytes, or null if they do not parse. */
function decodeHead(bytes: Buffer, value: number, end: number, size: number): string | null {
  try {
    const head = JSON.parse(bytes.toString('utf8', value - 1, cleanCut(bytes, value, Math.min(end, value + size))) + '"');
    return typeof head === 'string' ? head : null;
  } catch {
    return null;
  }
}

/** A line parsed after `lean` cut it down; the whole line when the cut one does not parse. */
export function parseLean(bytes: Buffer, lean: (b: Buffer) => Buffer = withoutImages): any {
  const cut = lean(bytes);
  if (cut === bytes) return parseLine(bytes);
  return parseLine(cut) ?? parseLine(bytes);
}

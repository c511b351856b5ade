// Parsing a record without what no format shows. The bulk of a large session is a few kinds of
// string that an export never renders: inline images (a megabyte of base64 per screenshot, shown as
// `[Image]`), copies of text it takes from elsewhere (a command's `aggregated_output`, a task's
// `last_agent_message`), and the part of a long tool output that `--max-output` cuts. Leaving those
// out of the line's bytes before `JSON.parse` spares decoding and parsing them. Members are found
// as structure with lib/json-bytes.ts (in compact JSON, `,"key":` cannot be inside a string);
// anything less certain is parsed whole.
import { memberValue, stringEnd, withoutMembers } from '../core/json-bytes.js';
import { parseLine } from '../core/record.js';

const Q = 0x22;
const BACKSLASH = 0x5c;

/** Members whose values no format shows: inline images (always counted, never shown). */
export const IMAGES = ['image_url'] as const;

/** A line parsed without the members named in `keys`; the whole line when the cut one does not parse. */
export function parseLean(bytes: Buffer, keys: readonly string[] = IMAGES): any {
  const cut = withoutMembers(bytes, keys);
  if (cut === bytes) return parseLine(bytes);
  return parseLine(cut) ?? parseLine(bytes);
}

/**
 * How many UTF-16 units the contents `[from, to)` of a JSON string decode to, counted from the bytes.
 * Escapes are found natively; each makes its bytes one unit (`\uXXXX` is one unit, a surrogate pair
 * two escapes). Outside escapes, every byte but a UTF-8 continuation starts a unit, and a 4-byte
 * sequence makes two.
 */
export function stringUnits(bytes: Buffer, from: number, to: number): number {
  let saved = 0;
  for (let bs = bytes.indexOf(BACKSLASH, from); bs !== -1 && bs < to;) {
    const length = bytes[bs + 1] === 0x75 ? 6 : 2;
    saved += length - 1;
    bs = bytes.indexOf(BACKSLASH, bs + length);
  }
  return to - from - saved - continuations(bytes, from, to);
}

/** Continuation bytes less 4-byte lead bytes in `[from, to)`: bytes minus UTF-16 units, escapes aside. */
function continuations(bytes: Buffer, from: number, to: number): number {
  let n = 0;
  let i = from;
  const count = (c: number) => ((c & 0xc0) === 0x80 ? 1 : 0) - (c >= 0xf0 ? 1 : 0);
  while (i < to && (bytes.byteOffset + i) & 3) n += count(bytes[i++]!);
  // A word at a time: most text is ASCII, and a word without a high bit holds nothing to count.
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, (to - i) >> 2);
  for (let k = 0; k < words.length; k++) {
    const w = words[k]!;
    if ((w & 0x80808080) === 0) continue;
    n += count(w & 0xff) + count((w >>> 8) & 0xff) + count((w >>> 16) & 0xff) + count(w >>> 24);
  }
  for (i += words.length * 4; i < to; i++) n += count(bytes[i]!);
  return n;
}

/** Where to cut a JSON string's bytes at or before `at` without splitting an escape or a character. */
function cleanCut(bytes: Buffer, from: number, at: number): number {
  while (at > from && (bytes[at]! & 0xc0) === 0x80) at--;
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
  const open = memberValue(bytes, key, payload);
  if (open === -1 || bytes[open] !== Q) return null;
  const nested = (c: number) => {
    const at = bytes.indexOf(c, payload + PAYLOAD.length);
    return at !== -1 && at < open;
  };
  if (nested(0x7b) || nested(0x5b)) return null;
  const value = open + 1;
  // Most text takes little more than a byte a unit (escaped line ends take two); text that takes
  // more is decoded again with room for the worst case, six bytes a unit. Counting costs about
  // half of decoding, so a value not twice as long as what is decoded anyway is parsed whole.
  const want = units + (units >> 3) + 16;
  if (bytes.length - value < 2 * want) return null;
  const end = stringEnd(bytes, open);
  if (end === -1 || end - value < 2 * want) return null;
  const length = stringUnits(bytes, value, end);
  if (length <= units) return null;
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

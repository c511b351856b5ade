// A few members of a large JSON line, read from its bytes without decoding the rest. Codex writes
// compact JSON, and in compact JSON `{"key":` or `,"key":` can only be structure: inside a string
// every quote is escaped. So a member is found with a byte search, a string is skipped by looking
// for its closing quote, and a line can shed its bulky members (an encrypted reasoning blob, a
// base64 image, 20 KB of base instructions) before it is parsed. Anything unexpected returns -1 or
// null, and the caller parses the whole line as usual.

const Q = 0x22;
const BS = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;

const patterns = new Map<string, Buffer>();
const pattern = (key: string): Buffer => {
  let p = patterns.get(key);
  if (!p) patterns.set(key, (p = Buffer.from(`"${key}":`)));
  return p;
};

/** Where the value of member `key` starts (the first one at or after `from`), or -1. */
export function memberValue(b: Buffer, key: string, from = 0): number {
  const p = pattern(key);
  for (let i = b.indexOf(p, from); i !== -1; i = b.indexOf(p, i + 1)) {
    if (i > 0 && (b[i - 1] === COMMA || b[i - 1] === OPEN_OBJ)) return i + p.length;
  }
  return -1;
}

/** The quote closing the string that opens at `open`, or -1 when the string is cut off. */
export function stringEnd(b: Buffer, open: number): number {
  for (let q = b.indexOf(Q, open + 1); q !== -1; q = b.indexOf(Q, q + 1)) {
    let k = q - 1;
    while (b[k] === BS) k--;
    if ((q - 1 - k) % 2 === 0) return q;
  }
  return -1;
}

/** Just past the JSON value that starts at `at`, or -1 when it is malformed or cut off. */
export function valueEnd(b: Buffer, at: number): number {
  let depth = 0;
  for (let i = at; i < b.length;) {
    const c = b[i];
    if (c === Q) {
      const e = stringEnd(b, i);
      if (e === -1) return -1;
      i = e + 1;
    } else if (c === OPEN_OBJ || c === OPEN_ARR) {
      depth++;
      i++;
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      if (depth === 0) return i; // the end of a scalar, at its container's close
      depth--;
      i++;
    } else if (c === COMMA && depth === 0) return i;
    else i++;
    if (depth === 0 && (c === Q || c === CLOSE_OBJ || c === CLOSE_ARR)) return i;
  }
  return -1;
}

/** The value of member `key` (the first at or after `from`), parsed alone; undefined when absent or not JSON. */
export function memberJson(b: Buffer, key: string, from = 0): unknown {
  const at = memberValue(b, key, from);
  const end = at === -1 ? -1 : valueEnd(b, at);
  if (end === -1) return undefined;
  try {
    return JSON.parse(b.toString('utf8', at, end)) as unknown;
  } catch {
    return undefined;
  }
}

/** The line without every member named in `keys` (found as structure); the same buffer when none is. */
export function withoutMembers(b: Buffer, keys: readonly string[]): Buffer {
  const cuts: Array<[number, number]> = [];
  for (const key of keys) {
    for (let v = memberValue(b, key); v !== -1; v = memberValue(b, key, v)) {
      const end = valueEnd(b, v);
      if (end === -1) return b;
      const start = v - pattern(key).length;
      // `,"k":v` goes with its comma; a first member `{"k":v,` with the comma after it.
      if (b[start - 1] === COMMA) cuts.push([start - 1, end]);
      else cuts.push([start, b[end] === COMMA ? end + 1 : end]);
    }
  }
  if (!cuts.length) return b;
  cuts.sort((x, y) => x[0] - y[0]);
  const kept: Buffer[] = [];
  let at = 0;
  for (const [s, e] of cuts) {
    if (s < at) return b; // overlapping cuts: a key nested in another's value; not worth the risk
    kept.push(b.subarray(at, s));
    at = e;
  }
  kept.push(b.subarray(at));
  return Buffer.concat(kept);
}

/** Decodes the raw bytes of (part of) a JSON string's contents. */
function decode(b: Buffer, start: number, end: number): string {
  return JSON.parse(`"${b.toString('utf8', start, end)}"`) as string;
}

/** Moves a cut in the contents `[start, …)` of a string back so that it splits no character or escape. */
function cutBefore(b: Buffer, start: number, cut: number): number {
  while (cut > start && (b[cut]! & 0xc0) === 0x80) cut--;
  const e = escapeAround(b, start, cut);
  return e === -1 ? cut : e;
}

/** Moves a cut forward so that the part from it on starts with a whole character or escape. */
function cutAfter(b: Buffer, start: number, cut: number, end: number): number {
  while (cut < end && (b[cut]! & 0xc0) === 0x80) cut++;
  const e = escapeAround(b, start, cut);
  return e === -1 ? cut : e + (b[e + 1] === 0x75 ? 6 : 2);
}

/** The start of an escape that `cut` falls inside of, or -1. */
function escapeAround(b: Buffer, start: number, cut: number): number {
  for (let j = cut - 1; j >= Math.max(start, cut - 5); j--) {
    if (b[j] !== BS) continue;
    let k = j - 1;
    while (k >= start && b[k] === BS) k--;
    // An odd run of backslashes ending at j: j opens an escape (\n, \", \uXXXX).
    if ((j - k) % 2 === 1 && j + (b[j + 1] === 0x75 ? 6 : 2) > cut) return j;
    return -1;
  }
  return -1;
}

/**
 * The text of the JSON string between the quotes at `open` and `close`: whole when its contents are
 * at most `head + tail` bytes, else its first `head` and last `tail` bytes joined by an ellipsis.
 * Null when the bytes do not decode.
 */
export function stringText(b: Buffer, open: number, close: number, head: number, tail: number): string | null {
  const start = open + 1;
  try {
    if (close - start <= head + tail) return decode(b, start, close);
    const h = cutBefore(b, start, start + head);
    const t = cutAfter(b, start, close - tail, close);
    return `${decode(b, start, h)}\n…\n${decode(b, t, close)}`;
  } catch {
    return null;
  }
}

const COLON = 0x3a;

const skipSpace = (b: Buffer, i: number): number => {
  while (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d) i++;
  return i;
};

/** A member of an object, found by walking its bytes: its key, and where its value starts and ends. */
export interface MemberSpan {
  key: string;
  start: number;
  /** Just past the value. */
  end: number;
}

/**
 * The members of the object that opens at `open`, outermost level only (a key of the same name in a
 * nested object is not one of them). Stops quietly at anything malformed.
 */
export function* members(b: Buffer, open: number): Generator<MemberSpan> {
  if (b[open] !== OPEN_OBJ) return;
  let i = skipSpace(b, open + 1);
  while (b[i] === Q) {
    const close = stringEnd(b, i);
    if (close === -1) return;
    const key = b.toString('utf8', i + 1, close);
    i = skipSpace(b, close + 1);
    if (b[i] !== COLON) return;
    const start = skipSpace(b, i + 1);
    let end = valueEnd(b, start);
    if (end === -1) return;
    // A scalar's end is found at the comma or brace after it, spaces included.
    while (end > start && (b[end - 1] === 0x20 || b[end - 1] === 0x09 || b[end - 1] === 0x0a || b[end - 1] === 0x0d)) end--;
    yield { key, start, end };
    i = skipSpace(b, end);
    if (b[i] !== COMMA) return;
    i = skipSpace(b, i + 1);
  }
}

/** The member `key` of the object at `open` (outermost level), or null. */
export function member(b: Buffer, open: number, key: string): MemberSpan | null {
  for (const m of members(b, open)) if (m.key === key) return m;
  return null;
}

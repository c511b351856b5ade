// What stands in a slimmed session where a blob was: one short string that says what was there
// (kind, media type, size, SHA-256 of the bytes as they stood between the quotes) and that Codex
// still takes in that place. Everything about its form is in this module, so that it is one thing
// to change once the real Codex and the Responses API have been tried with it.
//
// Why an image becomes another image, not text. Codex reads `image_url` into a String, so any string
// parses; but on resume it sends the history again, and the API refuses an `input_image` whose URL
// is not an image (a data URL of text/plain is "invalid image"). Codex swaps a refused image for
// text only in the last tool output, never in a user message, so a bad marker there would leave the
// session unable to go on. So an image's marker is a valid PNG, as a data URL where a data URL was
// and as bare base64 where bare base64 was (an image generation's `result`): a 1x1 grey pixel whose
// tEXt chunk carries the marker text. The model sees a blank pixel where the picture was; the text
// Codex writes beside an image (`<image name=[Image #1] path="...">`) stays, so it still knows a
// picture was there. The PNG's bytes before the text are constant and a multiple of 3 long, so its
// base64 starts with a constant (found by a byte search) followed by the text's own base64.
//
// A tool output's marker is the text itself, which the model reads where the output was.
//
// Recognising a marker is strict: what is found must be byte for byte the marker its own fields
// make, so a string that merely looks like one is left alone.
import { createHash } from 'node:crypto';

export type BlobKind = 'image' | 'tool-output';
export const BLOB_KINDS: readonly BlobKind[] = ['image', 'tool-output'];

/** How the blob stood in the line, and so how its marker looks. */
export type MarkerForm = 'data-url' | 'base64' | 'text';

export interface BlobInfo {
  kind: BlobKind;
  /** The original's media type (`image/jpeg`, `text/plain`). */
  media: string;
  /** Length of the string's contents as stored in the line (JSON-escaped bytes between the quotes). */
  bytes: number;
  /** SHA-256 of those bytes: the object's name in the store. */
  sha256: string;
}

export interface Marker extends BlobInfo {
  form: MarkerForm;
}

/** A media type a marker can carry: short, and without anything JSON or the marker text would escape. */
export const MEDIA_RE = /^[a-z0-9][a-z0-9.+-]{0,30}\/[a-z0-9][a-z0-9.+-]{0,40}$/i;
const SHA_RE = /^[0-9a-f]{64}$/;

/** The text every marker starts with; the version says how to read the rest. */
export const TEXT_HEAD = '[rollout-slim v1 kind=';
const TEXT_RE = /^\[rollout-slim v1 kind=(image|tool-output) media=(\S+) bytes=(\d+) sha256=([0-9a-f]{64})\]/;

/** The fields as marker text: the part a reader (or the model) can parse. */
export function markerText(b: BlobInfo): string {
  if (!MEDIA_RE.test(b.media) || !SHA_RE.test(b.sha256) || !Number.isSafeInteger(b.bytes) || b.bytes < 0) throw new Error(`no marker for ${JSON.stringify(b)}`);
  return `${TEXT_HEAD}${b.kind} media=${b.media} bytes=${b.bytes} sha256=${b.sha256}]`;
}

/** What a tool output's marker adds for the model after the fields. */
const TEXT_TAIL = ' This output was moved out of the session to save space (rollout-slim); it is not available here.';

// The PNG: signature, IHDR (1x1, 8-bit grey), tEXt `rollout-slim` with the padded marker text, IDAT
// (the pixel 0xcc, zlib level 9, kept as bytes so another zlib cannot change them), IEND.
const PNG_TEXT_LENGTH = 192; // a multiple of 3: the text is its own stretch of base64
const KEYWORD = 'rollout-slim';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

const SIGNATURE = Buffer.from('89504e470d0a1a0a', 'hex');
const IHDR = chunk('IHDR', Buffer.from('00000001000000010800000000', 'hex'));
const IDAT = chunk('IDAT', Buffer.from('78da6338030000ce00cd', 'hex'));
const IEND = chunk('IEND', Buffer.alloc(0));

function png(text: string): Buffer {
  const padded = Buffer.alloc(PNG_TEXT_LENGTH, 0x20);
  padded.write(text, 'latin1');
  return Buffer.concat([SIGNATURE, IHDR, chunk('tEXt', Buffer.concat([Buffer.from(`${KEYWORD}\0`, 'latin1'), padded])), IDAT, IEND]);
}

/** Bytes of the PNG before its text: the same in every marker. */
const PNG_HEAD_BYTES = SIGNATURE.length + IHDR.length + 8 + KEYWORD.length + 1;
if (PNG_HEAD_BYTES % 3 !== 0) throw new Error('the marker PNG head must be a multiple of 3 bytes');

/** The base64 every image marker starts with (after `data:image/png;base64,` when it is a data URL). */
export const PNG_HEAD_B64 = Buffer.from(png('').subarray(0, PNG_HEAD_BYTES).toString('base64'));
const PNG_TEXT_B64 = (PNG_TEXT_LENGTH / 3) * 4;
export const DATA_URL_PREFIX = Buffer.from('data:image/png;base64,');

/** The marker string's contents (what goes between the quotes), as bytes that need no JSON escape. */
export function markerBytes(m: Marker): Buffer {
  const text = markerText(m);
  if (m.form === 'text') return Buffer.from(text + TEXT_TAIL);
  const b64 = png(text).toString('base64');
  return Buffer.from(m.form === 'data-url' ? DATA_URL_PREFIX.toString() + b64 : b64);
}

/** The longest a marker can be: how far a reader looks past the start of one. */
export const MARKER_MAX = 600;

const parseText = (text: string): BlobInfo | null => {
  const m = TEXT_RE.exec(text);
  if (!m || !MEDIA_RE.test(m[2]!)) return null;
  const bytes = Number(m[3]);
  if (!Number.isSafeInteger(bytes)) return null;
  return { kind: m[1] as BlobKind, media: m[2]!, bytes, sha256: m[4]! };
};

/**
 * The marker whose contents start at `at` in `b` and run to the closing quote at `close` (the
 * contents only: no quotes), or null when those bytes are not exactly a marker.
 */
export function parseMarker(b: Buffer, at: number, close: number): Marker | null {
  const len = close - at;
  if (len <= 0 || len > MARKER_MAX) return null;
  let form: MarkerForm;
  let info: BlobInfo | null;
  if (b[at] === 0x5b /* [ */) {
    form = 'text';
    info = parseText(b.toString('latin1', at, close));
  } else {
    form = b.subarray(at, at + DATA_URL_PREFIX.length).equals(DATA_URL_PREFIX) ? 'data-url' : 'base64';
    const head = at + (form === 'data-url' ? DATA_URL_PREFIX.length : 0);
    if (!b.subarray(head, head + PNG_HEAD_B64.length).equals(PNG_HEAD_B64)) return null;
    const textAt = head + PNG_HEAD_B64.length;
    if (textAt + PNG_TEXT_B64 > close) return null;
    info = parseText(Buffer.from(b.toString('latin1', textAt, textAt + PNG_TEXT_B64), 'base64').toString('latin1'));
  }
  if (!info) return null;
  const m: Marker = { ...info, form };
  return markerBytes(m).equals(b.subarray(at, close)) ? m : null;
}

/** Whether the string contents starting at `at` begin like a marker (so are never taken for a blob). */
export function startsLikeMarker(b: Buffer, at: number): boolean {
  const head = b.subarray(at, at + DATA_URL_PREFIX.length).equals(DATA_URL_PREFIX) ? at + DATA_URL_PREFIX.length : at;
  return b.subarray(head, head + PNG_HEAD_B64.length).equals(PNG_HEAD_B64) || b.subarray(at, at + TEXT_HEAD.length).toString('latin1') === TEXT_HEAD;
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

// ---- Finding the markers in a file's bytes, wherever they are: a whole string, a copy inside a
// compaction, a marker quoted inside a tool's output. A look-alike can only add a name.

const TEXT = Buffer.from(TEXT_HEAD);
const FIELDS = /^\[rollout-slim v1 kind=[a-z-]+ media=\S+ bytes=\d+ sha256=([0-9a-f]{64})\]/;

// The fields' form is markerText's; this keeps the two from drifting apart unnoticed.
if (!FIELDS.test(markerText({ kind: 'image', media: 'image/png', bytes: 1, sha256: '0'.repeat(64) }))) throw new Error('the marker text cannot be read back');

/** The object names the markers in a stream of chunks refer to, chunk by chunk (the chunks may be reused after `push`). */
export class MarkedObjects {
  private tail: Buffer = Buffer.alloc(0);

  constructor(readonly names = new Set<string>()) {}

  push(c: Buffer): void {
    const w = this.tail.length ? Buffer.concat([this.tail, c]) : c;
    // A marker found whole in the part kept for the next window is found again there; a set does not mind.
    this.tail = Buffer.from(w.subarray(this.look(w, false)));
  }

  end(): Set<string> {
    if (this.tail.length) this.look(this.tail, true);
    this.tail = Buffer.alloc(0);
    return this.names;
  }

  /** Adds the names found in `w`; returns where the next window must start (bytes from there on may begin a marker). */
  private look(w: Buffer, final: boolean): number {
    let keepFrom = final ? w.length : Math.max(0, w.length - MARKER_MAX);
    for (const [p, png] of [
      [PNG_HEAD_B64, true],
      [TEXT, false],
    ] as const) {
      for (let h = w.indexOf(p); h !== -1; h = w.indexOf(p, h + 1)) {
        const text = png
          ? Buffer.from(w.toString('latin1', h + p.length, h + p.length + PNG_TEXT_B64), 'base64').toString('latin1')
          : w.toString('latin1', h, h + 200);
        const m = FIELDS.exec(text);
        if (m) this.names.add(m[1]!);
        else if (!final && w.length - h < MARKER_MAX) keepFrom = Math.min(keepFrom, h);
      }
    }
    return keepFrom;
  }
}

/** The object names the markers in a stream refer to. */
export async function markedObjects(chunks: AsyncIterable<Buffer>, into = new Set<string>()): Promise<Set<string>> {
  const m = new MarkedObjects(into);
  for await (const c of chunks) m.push(c);
  return m.end();
}

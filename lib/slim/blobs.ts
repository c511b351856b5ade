// Which strings of a line are blobs: found by a byte search for how they begin, never by parsing
// the line. Codex writes compact JSON, where an unescaped quote is always structure, so a quote
// followed by `data:image/` opens a string whose value is an image's data URL, wherever it sits
// (a message's `input_image`, a tool output's list, a user_message's `images`, a compaction's copy
// of the history, a paginated UserMessage). An image Codex stores as bare base64 (an image
// generation's `result`, an MCP tool's image `data`) starts with the base64 of the format's
// signature. A tool output is found by its member name in a line that is one.
import { MEDIA_RE, startsLikeMarker, type BlobKind, type MarkerForm } from '../core/blob-marker.js';

export interface BlobRules {
  kinds: ReadonlySet<BlobKind>;
  /** An image's string must be at least this long (bytes between the quotes) to be taken out. */
  minImage: number;
  /** The same for a tool output. */
  minToolOutput: number;
}

export const DEFAULT_RULES: BlobRules = { kinds: new Set(['image']), minImage: 4096, minToolOutput: 16384 };

/** A string that will be a blob if it is long enough: where its contents start, what it is. */
export interface Candidate {
  /** Index of the contents' first byte (just past the opening quote). */
  contents: number;
  kind: BlobKind;
  media: string;
  form: MarkerForm;
  min: number;
}

interface Pattern {
  bytes: Buffer;
  classify(b: Buffer, at: number, rules: BlobRules, lineHead: () => Buffer): Candidate | null;
}

const BS = 0x5c;

/** Whether the byte at `i` is preceded by an odd run of backslashes (null: the run reaches the start of `b`). */
export function escapedAt(b: Buffer, i: number): boolean | null {
  let k = i - 1;
  while (k >= 0 && b[k] === BS) k--;
  if (k < 0 && i > 0) return null;
  return (i - 1 - k) % 2 === 1;
}

const DATA_IMAGE = Buffer.from('"data:image/');
const BASE64_MARK = Buffer.from(';base64,');

/** `"data:image/<sub>;base64,`: an image as a data URL. */
const dataUrl: Pattern = {
  bytes: DATA_IMAGE,
  classify(b, at, rules) {
    if (escapedAt(b, at) !== false) return null;
    const from = at + DATA_IMAGE.length;
    const semi = b.subarray(from, from + 49).indexOf(0x3b);
    if (semi === -1) return null;
    const media = `image/${b.toString('latin1', from, from + semi)}`;
    if (!MEDIA_RE.test(media) || !b.subarray(from + semi, from + semi + BASE64_MARK.length).equals(BASE64_MARK)) return null;
    return { contents: at + 1, kind: 'image', media: media.toLowerCase(), form: 'data-url', min: rules.minImage };
  },
};

/** An image as bare base64, told by the base64 of its format's signature. */
const bare = (signature: string, media: string): Pattern => {
  const bytes = Buffer.from(`"${signature}`);
  return {
    bytes,
    classify(b, at, rules) {
      if (escapedAt(b, at) !== false) return null;
      return { contents: at + 1, kind: 'image', media, form: 'base64', min: rules.minImage };
    },
  };
};

const TOOL_OUTPUT_LINES = [
  Buffer.from('"type":"response_item","payload":{"type":"function_call_output"'),
  Buffer.from('"type":"response_item","payload":{"type":"custom_tool_call_output"'),
];

/** A string member of a tool output line: `output` when it is a string, `text` of an item of its list. */
const toolMember = (key: string): Pattern => {
  const bytes = Buffer.from(`"${key}":"`);
  return {
    bytes,
    classify(b, at, rules, lineHead) {
      if (at === 0 || (b[at - 1] !== 0x2c && b[at - 1] !== 0x7b)) return null;
      const head = lineHead();
      if (!TOOL_OUTPUT_LINES.some((p) => head.includes(p))) return null;
      return { contents: at + bytes.length, kind: 'tool-output', media: 'text/plain', form: 'text', min: rules.minToolOutput };
    },
  };
};

const IMAGE_PATTERNS: Pattern[] = [dataUrl, bare('iVBORw0KGgo', 'image/png'), bare('/9j/', 'image/jpeg'), bare('R0lGOD', 'image/gif')];
const TOOL_PATTERNS: Pattern[] = [toolMember('output'), toolMember('text')];

/** The searches a set of rules needs. */
export function patternsFor(rules: BlobRules): Pattern[] {
  return [...(rules.kinds.has('image') ? IMAGE_PATTERNS : []), ...(rules.kinds.has('tool-output') ? TOOL_PATTERNS : [])];
}

/**
 * Bytes past a pattern's start that must be at hand to decide on it (a data URL's media type, a
 * marker's head): a string that starts this close to a chunk's end waits for the next chunk.
 */
export const NEED = 192;

/** A found blob's candidate; `'marker'` when it is a marker already (slimming twice takes nothing more). */
export function candidateAt(p: Pattern, b: Buffer, at: number, rules: BlobRules, lineHead: () => Buffer): Candidate | 'marker' | null {
  const c = p.classify(b, at, rules, lineHead);
  if (!c) return null;
  return startsLikeMarker(b, c.contents) ? 'marker' : c;
}

export type { Pattern };

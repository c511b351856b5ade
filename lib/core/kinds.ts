// What a line's bytes are spent on, told from its types and a few byte searches, never by parsing
// it: inline images (base64 data URLs, and the raw base64 of generated images), tool output,
// reasoning, compaction, or anything else. Whether a line is history copied from a parent is the
// reader's to say (it depends on where the line sits in its file, see index/scan.ts).
import { memberValue, stringEnd } from './json-bytes.js';
import type { TypeInfo } from './record.js';

/** The kinds, in the order every output lists them. */
export const KINDS = ['images', 'tool_output', 'reasoning', 'compaction', 'copied', 'other'] as const;
export type Kind = (typeof KINDS)[number];
/** Bytes per kind. */
export type KindBytes = Record<Kind, number>;

export const noBytes = (): KindBytes => ({ images: 0, tool_output: 0, reasoning: 0, compaction: 0, copied: 0, other: 0 });

/** The kind a whole line goes to (its images aside): one of these, or `other`. */
export type OwnKind = 'tool_output' | 'reasoning' | 'compaction' | 'other';

const ITEM_KINDS: Record<string, OwnKind> = {
  function_call_output: 'tool_output',
  custom_tool_call_output: 'tool_output',
  tool_search_output: 'tool_output',
  local_shell_call_output: 'tool_output',
  reasoning: 'reasoning',
  compaction: 'compaction',
  compaction_summary: 'compaction',
  context_compaction: 'compaction',
};

/** Events that carry a tool's result, reasoning text, or a compaction (legacy UI events). */
const EVENT_KINDS: Record<string, OwnKind> = {
  exec_command_end: 'tool_output',
  mcp_tool_call_end: 'tool_output',
  patch_apply_end: 'tool_output',
  web_search_end: 'tool_output',
  view_image_tool_call: 'tool_output',
  agent_reasoning: 'reasoning',
  agent_reasoning_raw_content: 'reasoning',
  agent_reasoning_section_break: 'reasoning',
  context_compacted: 'compaction',
};

/** The TurnItems of a paginated file's `item_completed` events, by what they hold. */
const TURN_ITEM_KINDS: Record<string, OwnKind> = {
  CommandExecution: 'tool_output',
  McpToolCall: 'tool_output',
  DynamicToolCall: 'tool_output',
  FileChange: 'tool_output',
  WebSearch: 'tool_output',
  ImageView: 'tool_output',
  Reasoning: 'reasoning',
  ContextCompaction: 'compaction',
};

/**
 * The kind of a line from its types (`itemType`: the TurnItem type of an `item_completed` event).
 * Bare lines (generations A-C) are response items: pass `{type: 'response_item', payloadType}`.
 */
export function kindOf(info: TypeInfo | null, itemType?: string | null): OwnKind {
  if (!info) return 'other';
  if (info.type === 'compacted') return 'compaction';
  const p = info.payloadType;
  if (p === undefined) return 'other';
  if (info.type === 'response_item') return ITEM_KINDS[p] ?? 'other';
  if (info.type !== 'event_msg') return 'other';
  if (p === 'item_completed') return (itemType && TURN_ITEM_KINDS[itemType]) || 'other';
  return EVENT_KINDS[p] ?? 'other';
}

const ITEM_OPEN = Buffer.from('{"type":"');

/** The TurnItem type of an `item_completed` line, read from its bytes (null when it is shaped otherwise). */
export function turnItemType(b: Buffer): string | null {
  const v = memberValue(b, 'item', 40);
  if (v === -1) return null;
  for (let i = 0; i < ITEM_OPEN.length; i++) if (b[v + i] !== ITEM_OPEN[i]) return null;
  const start = v + ITEM_OPEN.length;
  const end = b.indexOf(0x22, start);
  return end === -1 || end - start > 40 ? null : b.toString('latin1', start, end);
}

const DATA_IMAGE = Buffer.from('data:image/');
const BASE64 = Buffer.from(';base64,');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** How far past `data:image/` the `;base64,` may come (the media type between). */
const MEDIA_TYPE_MAX = 64;
const GENERATED = new Set(['image_generation_call', 'image_generation_end']);

/**
 * Bytes of the inline images in a line: each base64 data URL (`data:image/...;base64,...`, from
 * `data:` to the quote or backslash that ends it: base64 holds neither, so a URL inside a string
 * inside a string ends there too), and the base64 `result` of a generated image.
 */
export function imageBytes(b: Buffer, info: TypeInfo | null = null): number {
  let n = 0;
  // Found by its `;base64,` (a `;` is rare in JSON text, so the search runs at memchr's speed), then
  // the `data:image/` it belongs to looked for just before it.
  for (let comma = b.indexOf(BASE64); comma !== -1; comma = b.indexOf(BASE64, comma + 1)) {
    const window = Math.max(0, comma - MEDIA_TYPE_MAX);
    const back = b.subarray(window, comma).lastIndexOf(DATA_IMAGE);
    if (back === -1) continue;
    const at = window + back;
    const quote = b.indexOf(QUOTE, at);
    if (quote !== -1 && quote < comma) continue;
    const from = comma + BASE64.length;
    let end = b.indexOf(QUOTE, from);
    if (end === -1) end = b.length;
    const slash = b.subarray(from, end).indexOf(BACKSLASH);
    if (slash !== -1) end = from + slash;
    n += end - at;
    comma = end;
  }
  if (info?.payloadType !== undefined && GENERATED.has(info.payloadType)) n += generatedImage(b);
  return n;
}

/** The bytes of a generated image's base64 `result` (0 when it is a data URL, counted already). */
function generatedImage(b: Buffer): number {
  const v = memberValue(b, 'result', 40);
  if (v === -1 || b[v] !== QUOTE) return 0;
  const end = stringEnd(b, v);
  if (end === -1 || startsWith(b, v + 1, DATA_IMAGE)) return 0;
  return end - v - 1;
}

function startsWith(b: Buffer, at: number, p: Buffer): boolean {
  for (let i = 0; i < p.length; i++) if (b[at + i] !== p[i]) return false;
  return true;
}

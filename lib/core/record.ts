// One line of a rollout as a record: the envelope, the generation of Codex that wrote it, a cheap
// way to learn a line's type without parsing it, and the adapter that turns the old bare-line
// generations into envelope lines.
import { isUtf8 } from 'node:buffer';

/**
 * Generations (spec 3): 0 the TypeScript CLI's pretty `.json`; A-C bare lines (first line a bare
 * meta, then bare response items); D envelope lines; E envelope lines in paginated history mode.
 */
export type Generation = '0' | 'A' | 'B' | 'C' | 'D' | 'E';

export interface Envelope {
  timestamp: string;
  ordinal?: number;
  type: string;
  payload: Record<string, any>;
  metadata?: Record<string, unknown>;
}

export interface SessionMetaPayload {
  id: string;
  session_id?: string;
  timestamp?: string;
  cwd?: string;
  originator?: string;
  cli_version?: string;
  source?: unknown;
  model_provider?: string | null;
  forked_from_id?: string;
  parent_thread_id?: string;
  history_mode?: string;
  history_base?: { thread_id: string; end_ordinal_exclusive: number; end_byte_offset: number };
  git?: { commit_hash?: string; branch?: string; repository_url?: string };
  [key: string]: unknown;
}

/** The line as JSON, or undefined when it is not valid UTF-8 JSON. */
export function parseLine(bytes: Buffer): any {
  if (!isUtf8(bytes)) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

export const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isEnvelope(v: unknown): v is Envelope {
  return isObject(v) && typeof v.type === 'string' && 'payload' in v;
}

/** What a line is, as far as a cheap look can tell. */
export type LineProblem = 'utf8' | 'json';

/**
 * A cheap validity check for passing lines through: valid UTF-8 (native, fast) and shaped like one
 * JSON object. A line that passes may still be malformed inside; `--strict` parses every line.
 */
export function quickCheck(bytes: Buffer): LineProblem | null {
  if (!isUtf8(bytes)) return 'utf8';
  return looksLikeObject(bytes) ? null : 'json';
}

/** Opens with `{` and closes with `}`, give or take spaces and tabs. */
export function looksLikeObject(bytes: Buffer): boolean {
  let i = 0;
  while (bytes[i] === 0x20 || bytes[i] === 0x09) i++;
  let j = bytes.length - 1;
  while (j > i && (bytes[j] === 0x20 || bytes[j] === 0x09)) j--;
  return bytes[i] === 0x7b && bytes[j] === 0x7d;
}

// ---------------------------------------------------------------------------------------------
// Peeking at the type. Codex serializes the envelope compactly with a fixed key order, so
// `{"timestamp":"…",("ordinal":N,)?"type":"T","payload":{"type":"P"` opens nearly every line.
// Reading those few bytes answers `--type` filters without decoding megabytes of payload; a line of
// any other shape falls back to a full parse.

const Q = 0x22;
/** How every canonical line opens (a line glued after a torn one shows where it starts, too). */
export const TIMESTAMP = Buffer.from('{"timestamp":"');
const ORDINAL = Buffer.from(',"ordinal":');
const TYPE = Buffer.from(',"type":"');
const PAYLOAD_TYPE = Buffer.from(',"payload":{"type":"');
const PAYLOAD = Buffer.from(',"payload":');

export interface TypeInfo {
  type?: string;
  payloadType?: string;
}

/** Whether `bytes` holds `prefix` at `at`. */
export function startsAt(bytes: Buffer, at: number, prefix: Buffer): boolean {
  if (bytes.length < at + prefix.length) return false;
  // A loop: for these few bytes, Buffer.compare's argument checks cost more than the comparison.
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/** Just past the closing quote of the canonical `{"timestamp":"…"`, or -1 when the line has another shape. */
export function timestampEnd(bytes: Buffer): number {
  if (!startsAt(bytes, 0, TIMESTAMP)) return -1;
  const close = bytes.indexOf(Q, TIMESTAMP.length);
  return close === -1 || close - TIMESTAMP.length > 64 ? -1 : close + 1;
}

/** An envelope's timestamp from the first bytes of its line, without parsing it (null: another shape). */
export function peekTimestamp(bytes: Buffer): string | null {
  const end = timestampEnd(bytes);
  return end === -1 ? null : bytes.toString('latin1', TIMESTAMP.length, end - 1);
}

/** Where the canonical prefix puts a paginated line's ordinal digits, or null when the line has another shape. */
export function ordinalSpan(bytes: Buffer): [number, number] | null {
  const at = timestampEnd(bytes);
  if (at === -1 || !startsAt(bytes, at, ORDINAL)) return null;
  const start = at + ORDINAL.length;
  let end = start;
  while (end < bytes.length && bytes[end]! >= 0x30 && bytes[end]! <= 0x39) end++;
  if (end === start || end - start > 15) return null;
  return startsAt(bytes, end, TYPE) ? [start, end] : null;
}

/** The ordinal of a line in Codex's canonical shape without parsing it; else from a parse. */
export function ordinalOf(bytes: Buffer): number | null {
  const span = ordinalSpan(bytes);
  if (span) return Number(bytes.toString('latin1', span[0], span[1]));
  const env = parseLine(bytes);
  return isObject(env) && Number.isSafeInteger(env.ordinal) ? env.ordinal : null;
}

/**
 * The line with its `ordinal` set to `n`. Lines in Codex's canonical shape get just the digits
 * replaced (or the key inserted), so every other byte, big numbers and key order included, stays as
 * it was. Other JSON lines are re-serialized, the only way to set a key in them; a line that is not
 * JSON is copied as it is and its ordinal left as a gap, which Codex tolerates for a line it rejects.
 */
export function renumbered(bytes: Buffer, n: number): Buffer[] {
  const digits = Buffer.from(String(n));
  const span = ordinalSpan(bytes);
  if (span) return [bytes.subarray(0, span[0]), digits, bytes.subarray(span[1])];
  const at = timestampEnd(bytes);
  if (at !== -1 && startsAt(bytes, at, TYPE)) {
    return [bytes.subarray(0, at), ORDINAL, digits, bytes.subarray(at)];
  }
  const value = parseLine(bytes);
  if (!isObject(value)) return [bytes];
  const { timestamp, ordinal: _old, ...rest } = value;
  const env = timestamp === undefined ? { ordinal: n, ...rest } : { timestamp, ordinal: n, ...rest };
  return [Buffer.from(JSON.stringify(env))];
}

/** A JSON string without escapes starting at `at` (just past the opening quote), or null. */
function plainString(bytes: Buffer, at: number): [string, number] | null {
  const end = bytes.indexOf(Q, at);
  if (end === -1 || end - at > 200) return null;
  for (let i = at; i < end; i++) if (bytes[i] === 0x5c) return null;
  return [bytes.toString('latin1', at, end), end + 1];
}

/** The envelope and payload types from the canonical prefix, or null when the line has another shape. */
export function peekType(bytes: Buffer): TypeInfo | null {
  if (!startsAt(bytes, 0, TIMESTAMP)) return null;
  let at = bytes.indexOf(Q, TIMESTAMP.length);
  if (at === -1) return null;
  at++;
  if (startsAt(bytes, at, ORDINAL)) {
    at += ORDINAL.length;
    while (at < bytes.length && bytes[at]! >= 0x30 && bytes[at]! <= 0x39) at++;
  }
  if (!startsAt(bytes, at, TYPE)) return null;
  const type = plainString(bytes, at + TYPE.length);
  if (!type) return null;
  at = type[1];
  if (startsAt(bytes, at, PAYLOAD_TYPE)) {
    const payloadType = plainString(bytes, at + PAYLOAD_TYPE.length);
    return payloadType ? { type: type[0], payloadType: payloadType[0] } : null;
  }
  // The payload does not open with its type (a session_meta, a turn_context): fine for `type` alone.
  return startsAt(bytes, at, PAYLOAD) ? { type: type[0] } : null;
}

/** The types of a line: by peeking when possible, else by parsing (an unparseable line has none). */
export function typeOf(bytes: Buffer): TypeInfo {
  const peeked = peekType(bytes);
  if (peeked && (peeked.payloadType !== undefined || !TYPES_WITH_TYPED_PAYLOAD.has(peeked.type!))) return peeked;
  const v = parseLine(bytes);
  if (!isEnvelope(v)) return {};
  const pt = isObject(v.payload) && typeof v.payload.type === 'string' ? v.payload.type : undefined;
  return { type: v.type, payloadType: pt };
}

/** Envelope types whose payload is tagged by its own `type`; the rest carry no payload type. */
const TYPES_WITH_TYPED_PAYLOAD = new Set(['event_msg', 'response_item']);

/**
 * A filter from `--type` specs: `T` keeps lines whose envelope type is T; `T:P` also requires the
 * payload's type P. No specs keeps everything.
 */
export function typeFilter(specs: string[]): ((bytes: Buffer) => boolean) | null {
  if (!specs.length) return null;
  const wanted = specs.map((s) => {
    const i = s.indexOf(':');
    return i === -1 ? { type: s } : { type: s.slice(0, i), payloadType: s.slice(i + 1) };
  });
  const needPayload = wanted.some((w) => w.payloadType !== undefined);
  return (bytes) => {
    let info = peekType(bytes);
    if (!info || (needPayload && info.payloadType === undefined && TYPES_WITH_TYPED_PAYLOAD.has(info.type!))) {
      info = typeOf(bytes);
    }
    return wanted.some((w) => w.type === info.type && (w.payloadType === undefined || w.payloadType === info.payloadType));
  };
}

// ---------------------------------------------------------------------------------------------
// Generations.

/**
 * How a rollout file is named (home/paths.ts tells it from a name and where it lies): which
 * generation of Codex wrote that form, when the content alone cannot say.
 */
export type NameForm =
  | 'json' //      TypeScript CLI:        sessions/rollout-YYYY-MM-DD-<uuid>.json
  | 'flat-date' // Rust, May 2025:        sessions/rollout-YYYY-MM-DD-<uuid>.jsonl
  | 'flat' //      Rust, May-July 2025:   sessions/rollout-YYYY-MM-DDThh-mm-ss-<uuid>.jsonl
  | 'nested'; //   Rust, July 2025 on:    sessions/YYYY/MM/DD/rollout-YYYY-MM-DDThh-mm-ss-<uuid>.jsonl

/** The generation of a file, from its first record (already parsed) and how the file is named. */
export function generationOf(first: unknown, form: NameForm): Generation | null {
  if (!isObject(first)) return null;
  if (isEnvelope(first)) {
    if (first.type !== 'session_meta') return 'D';
    return first.payload?.history_mode === 'paginated' || typeof first.ordinal === 'number' ? 'E' : 'D';
  }
  if (isObject(first.session) && Array.isArray(first.items)) return '0';
  if (typeof first.id === 'string' && typeof first.timestamp === 'string') {
    if (form === 'nested' || isObject(first.git)) return 'C';
    return form === 'flat-date' ? 'A' : 'B';
  }
  return null;
}

export const isBareGeneration = (g: Generation | null): boolean => g === '0' || g === 'A' || g === 'B' || g === 'C';

/**
 * Turns the bare lines of generations A-C (and the items of generation 0) into envelope lines:
 * the meta becomes a `session_meta`, each item a `response_item`, `record_type` state lines are
 * dropped. Bare lines carry no time, so every line takes the meta's timestamp.
 */
export class Normalizer {
  private timestamp = '';
  private seenMeta = false;

  /** The envelope line(s) for one bare record; empty when the record is dropped. */
  convert(record: unknown): string[] {
    if (!isObject(record)) return [];
    if (!this.seenMeta) {
      this.seenMeta = true;
      if (isObject(record.session) && Array.isArray(record.items)) return this.convertDocument(record);
      if (typeof record.id === 'string' && typeof record.type !== 'string') return [this.meta(record)];
    }
    if (typeof record.record_type === 'string') return [];
    return [envelopeLine(this.timestamp, 'response_item', record)];
  }

  private meta(m: Record<string, any>): string {
    this.timestamp = normalizeTimestamp(m.timestamp);
    const { id, timestamp, ...rest } = m;
    return envelopeLine(this.timestamp, 'session_meta', { id, timestamp, ...rest });
  }

  private convertDocument(doc: Record<string, any>): string[] {
    const out = [this.meta(doc.session)];
    for (const item of doc.items) if (isObject(item)) out.push(envelopeLine(this.timestamp, 'response_item', item));
    return out;
  }
}

function envelopeLine(timestamp: string, type: string, payload: unknown): string {
  return JSON.stringify({ timestamp, type, payload });
}

/** Old metas wrote local time with a literal `Z` and varying precision; keep the text, fix the shape. */
function normalizeTimestamp(t: unknown): string {
  if (typeof t !== 'string') return '';
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? t : new Date(ms).toISOString();
}

/**
 * The names a session source answers to: `cli`, `vscode`, `exec`, `mcp`, `unknown`, and for the
 * object forms their kind and kind:variant (`subagent`, `subagent:review`, `subagent:thread_spawn`,
 * `custom`, `custom:atlas`, `internal`, ...). A missing source is `vscode`, as Codex reads it.
 */
export function sourceKinds(meta: Pick<SessionMetaPayload, 'source' | 'thread_source'> | null): string[] {
  const source = meta?.source ?? 'vscode';
  const kinds: string[] = [];
  if (typeof source === 'string') kinds.push(source);
  else if (isObject(source)) {
    for (const [kind, value] of Object.entries(source)) {
      kinds.push(kind);
      if (typeof value === 'string') kinds.push(`${kind}:${value}`);
      else if (isObject(value)) for (const variant of Object.keys(value)) kinds.push(`${kind}:${variant}`);
    }
  }
  if (meta?.thread_source === 'subagent' && !kinds.includes('subagent')) kinds.push('subagent');
  return kinds;
}

/**
 * A session's first source kind from the index's columns, where an object source is stored as its
 * JSON text (null when the row has no source: an unread or unreadable file).
 */
export function sourceKindOf(source: string | null, threadSource: string | null): string | null {
  let v: unknown = source;
  if (source?.startsWith('{')) {
    try {
      const o: unknown = JSON.parse(source);
      if (isObject(o)) v = o;
    } catch {
      // Kept as the text it is.
    }
  }
  return sourceKinds({ source: v ?? undefined, thread_source: threadSource ?? undefined })[0] ?? null;
}

// What a session's model responses used, counted once each, as a file is read from start to end
// (or from where the last read stopped: the ledger carries what it needs as JSON).
//
// Codex records usage two ways. Recent releases (0.169 and 0.171 were seen doing it; when it began
// is not known) give every model response a `token_usage_record` line whose `usage` is that
// response's, with its `response_id`; a file that holds one is counted from those alone (its
// `token_count` events repeat the same responses). Before, the only record
// is the `token_count` event: `last_token_usage` is the last response's, `total_token_usage` the
// thread's running sum, and Codex writes the event again, unchanged, when nothing was asked of the
// model (at a turn's end, on resume, with new rate limits). An event whose two usages equal the
// previous event's is such a repeat, and one whose running sum did not move is no response either;
// any other adds its `last_token_usage` (or, where that is missing, what the running sum grew by
// since the last event).
//
// Lines copied from a parent (a legacy fork's copy, a sub-agent's inherited history) are not this
// session's usage: the reader says which lines they are, and they only move the repeat check on.
import { createHash } from 'node:crypto';
import { RolloutError } from '../cli/errors.js';
import { memberJson, memberValue, stringEnd, valueEnd } from './json-bytes.js';
import { isObject, TIMESTAMP, type TypeInfo } from './record.js';

const RATE_LIMITS = Buffer.from(',"rate_limits":');

/** Token counts of one response, or a sum of them. `input` includes `cached_input` and `cache_write_input`; `output` includes `reasoning_output`. */
export interface Tokens {
  input: number;
  cached_input: number;
  cache_write_input: number;
  output: number;
  reasoning_output: number;
  total: number;
}

export const TOKEN_FIELDS = ['input', 'cached_input', 'cache_write_input', 'output', 'reasoning_output', 'total'] as const;

/** The names Codex's TokenUsage gives each count. */
const FIELD_KEYS: Record<keyof Tokens, string> = {
  input: 'input_tokens',
  cached_input: 'cached_input_tokens',
  cache_write_input: 'cache_write_input_tokens',
  output: 'output_tokens',
  reasoning_output: 'reasoning_output_tokens',
  total: 'total_tokens',
};

export const noTokens = (): Tokens => ({ input: 0, cached_input: 0, cache_write_input: 0, output: 0, reasoning_output: 0, total: 0 });

export function addTokens(to: Tokens, t: Tokens): void {
  for (const k of TOKEN_FIELDS) to[k] += t[k];
}

const count = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : v === undefined || v === null ? 0 : null);

/** A TokenUsage object as Codex writes it, or null when it is not one (a field that is not a whole number). */
export function tokensOf(v: unknown): Tokens | null {
  if (!isObject(v)) return null;
  const t = noTokens();
  for (const k of TOKEN_FIELDS) {
    const n = count(v[FIELD_KEYS[k]]);
    if (n === null) return null;
    t[k] = n;
  }
  if (v.total_tokens === undefined || v.total_tokens === null) t.total = t.input + t.output;
  return t;
}

/** Time slots are 15 minutes: every time zone's offset is a whole number of them, so a day in any zone is whole slots. */
export const SLOT_MS = 15 * 60_000;

/** Above this many input tokens a response is long-context, which some models price higher. */
export const LONG_CONTEXT = 272_000;

/** One slot's usage by one model at one service tier, of responses of one context length. */
export interface Bucket extends Tokens {
  /** Start of the slot, ms since the epoch (UTC). */
  at: number;
  model: string | null;
  tier: string | null;
  /** Responses with more than LONG_CONTEXT input tokens. */
  long: boolean;
  responses: number;
}

/** What a file's usage is, as stored in the index (`sessions.usage`). */
export interface FileUsage {
  buckets: Bucket[];
  /** Responses counted. */
  responses: number;
}

/** What the ledger carries between reads of a growing file, besides its buckets. */
export interface UsageCarry {
  /** A token_usage_record was seen: token_count events are no longer counted. */
  perResponse?: boolean;
  /** A digest of the last token_count's usages, as written (the repeat check; kept short, as it is kept in every row). */
  lastEvent?: string;
  /** The last token_count's running sum, in TOKEN_FIELDS order (for an event without its last usage). */
  lastTotal?: number[];
  /** The last response ids counted, newest last (a repeated record is counted once). */
  lastIds?: string[];
}

/** How many response ids the repeat check of token_usage_record remembers (Codex repeats a record right after it, if at all). */
const IDS_KEPT = 4;

/** Where a response is counted: when, by which model, at which tier. */
export interface Place {
  at: number;
  model: string | null;
  tier: string | null;
}

export class UsageLedger {
  private readonly buckets = new Map<string, Bucket>();
  private responses: number;
  /**
   * The `info` of the last token_count of this read, copied (the reader reuses its buffers) into
   * one buffer kept for the whole read: an allocation per event made the index build's peak grow.
   */
  private info = Buffer.alloc(0);
  private infoLength = -1;

  private lastInfo(): Buffer | null {
    return this.infoLength === -1 ? null : this.info.subarray(0, this.infoLength);
  }

  private keepInfo(bytes: Buffer): void {
    if (bytes.length > this.info.length) this.info = Buffer.allocUnsafe(Math.max(bytes.length, 2 * this.info.length, 1024));
    bytes.copy(this.info);
    this.infoLength = bytes.length;
  }
  /** The bucket the last response went to. */
  private last: Bucket | undefined;

  /**
   * @param carry What the last read of the file left (changed in place, for the next).
   * @param each Told of every response as it is counted.
   */
  constructor(
    stored: FileUsage | null,
    private readonly carry: UsageCarry,
    private readonly each?: (t: Tokens, where: Place) => void,
  ) {
    for (const b of stored?.buckets ?? []) this.buckets.set(keyOf(b), { ...b });
    this.responses = stored?.responses ?? 0;
  }

  /** Whether the ledger counts from a line of this type (token_count events only while no token_usage_record was seen). */
  counts(info: TypeInfo | null): boolean {
    return info?.type === 'token_usage_record' || (info?.type === 'event_msg' && info.payloadType === 'token_count' && !this.carry.perResponse);
  }

  /**
   * A line `counts` accepted, read from its bytes: only the members counted are read (most of a
   * record is the turn's and the thread's sums, of an event its rate limits).
   */
  line(b: Buffer, info: TypeInfo | null, where: Place, copied: boolean): void {
    if (info?.type === 'token_usage_record') {
      const usage = memberJson(b, 'usage', TIMESTAMP.length);
      const id = memberValue(b, 'response_id', TIMESTAMP.length);
      const idEnd = id === -1 || b[id] !== 0x22 ? -1 : stringEnd(b, id);
      if (usage !== undefined) this.record({ response_id: idEnd === -1 ? null : b.toString('utf8', id + 1, idEnd), usage }, where, copied);
      return;
    }
    const from = memberValue(b, 'info', TIMESTAMP.length);
    // Codex writes the rate limits right after the info: found by a byte search, not a walk.
    const limits = from === -1 ? -1 : b.indexOf(RATE_LIMITS, from);
    const to = from === -1 ? -1 : limits !== -1 ? limits : valueEnd(b, from);
    if (to !== -1) this.event(b.subarray(from, to), where, copied);
  }

  /** A `token_usage_record` payload. `copied`: the line is a parent's history. */
  record(payload: unknown, where: Place, copied: boolean): void {
    if (!isObject(payload)) return;
    this.carry.perResponse = true;
    const id = typeof payload.response_id === 'string' ? payload.response_id : null;
    const seen = (this.carry.lastIds ??= []);
    if (id !== null && seen.includes(id)) return;
    if (id !== null) {
      seen.push(id);
      if (seen.length > IDS_KEPT) seen.shift();
    }
    const t = tokensOf(payload.usage);
    if (t && !copied) this.add(t, where);
  }

  /**
   * A `token_count` event, by the bytes of its `info` as written (the rest of the event, rate
   * limits, is not read: an event repeated with new rate limits is still a repeat). Read only when
   * it counts: a repeat is told by its bytes alone.
   */
  event(infoBytes: Buffer, where: Place, copied: boolean): void {
    // An interrupted turn writes info: null; it says nothing about any response.
    if (infoBytes.length === 4 && infoBytes.toString('latin1') === 'null') return;
    const before = this.lastInfo();
    const repeat = before ? before.equals(infoBytes) : this.carry.lastEvent !== undefined && digestOf(infoBytes) === this.carry.lastEvent;
    const counts = !repeat && !copied && !this.carry.perResponse;
    // Read before keepInfo writes over the previous event's bytes.
    const t = counts && !this.sumStill(infoBytes, before) ? this.usageOf(infoBytes, before) : null;
    this.keepInfo(infoBytes);
    if (t) this.add(t, where);
  }

  /**
   * Whether an event's running sum is the previous event's: then no response was made, whatever its
   * last usage says (after a compaction, Codex, 0.151 was seen doing it, writes the new history's
   * size there, with the sum as it was). Told by the bytes within a read; parsed only against a sum
   * carried from the last read.
   */
  private sumStill(info: Buffer, before: Buffer | null): boolean {
    if (before) {
      const now = memberBytes(info, 'total_token_usage');
      return now !== null && now.equals(memberBytes(before, 'total_token_usage') ?? EMPTY);
    }
    const previous = this.carry.lastTotal;
    const total = previous ? tokensIn(info, 'total_token_usage') : null;
    return total !== null && TOKEN_FIELDS.every((k, i) => total[k] === previous![i]);
  }

  /** An event's response: its last usage, or, where that is missing, what the running sum grew by. */
  private usageOf(info: Buffer, before: Buffer | null): Tokens | null {
    return tokensIn(info, 'last_token_usage') ?? grewBy(tokensIn(info, 'total_token_usage'), before ? totalOf(before) : this.carry.lastTotal);
  }

  private add(t: Tokens, where: Place): void {
    const at = Math.floor(where.at / SLOT_MS) * SLOT_MS;
    const long = t.input > LONG_CONTEXT;
    // Most responses go where the one before went.
    const last = this.last;
    let b = last && last.at === at && last.model === where.model && last.tier === where.tier && last.long === long ? last : undefined;
    if (!b) {
      const key = keyOf({ at, model: where.model, tier: where.tier, long });
      b = this.buckets.get(key);
      if (!b) this.buckets.set(key, (b = { at, model: where.model, tier: where.tier, long, responses: 0, ...noTokens() }));
      this.last = b;
    }
    addTokens(b, t);
    b.responses++;
    this.responses++;
    this.each?.(t, where);
  }

  /**
   * The file's usage so far, or null when no response of it was counted (the index column stays
   * NULL: unknown); and in the carry, what the next read of the file needs of the last event.
   */
  finish(): FileUsage | null {
    const last = this.lastInfo();
    if (last) {
      this.carry.lastEvent = digestOf(last);
      const total = totalOf(last);
      if (total) this.carry.lastTotal = total;
      else delete this.carry.lastTotal;
    }
    if (!this.responses) return null;
    return { buckets: [...this.buckets.values()].sort((a, b) => a.at - b.at || keyOf(a).localeCompare(keyOf(b))), responses: this.responses };
  }
}

/** A short digest of an event's `info`: the repeat check across reads, kept in every row. */
const digestOf = (info: Buffer): string => createHash('sha256').update(info).digest('base64').slice(0, 16);

/**
 * A TokenUsage member of an event's `info`, read from its bytes: a home has one event per
 * response, and parsing each made the index build a tenth slower. Anything but plain whole
 * counts is parsed as JSON, and judged by tokensOf.
 */
function tokensIn(info: Buffer, key: string): Tokens | null {
  const usage = memberBytes(info, key);
  if (usage === null) return null;
  const t = noTokens();
  for (const k of TOKEN_FIELDS) {
    const v = memberValue(usage, FIELD_KEYS[k]);
    const n = v === -1 ? (k === 'total' ? t.input + t.output : 0) : wholeAt(usage, v);
    if (n === null) return parsedTokens(usage);
    t[k] = n;
  }
  return t;
}

const EMPTY = Buffer.alloc(0);

/** The bytes of an object member of `info`, or null when it has none. */
function memberBytes(info: Buffer, key: string): Buffer | null {
  const at = memberValue(info, key);
  const end = at === -1 || info[at] !== 0x7b ? -1 : valueEnd(info, at);
  return end === -1 ? null : info.subarray(at, end);
}

/** The whole number written at `at`, ended by a comma or a brace; null for anything else. */
function wholeAt(b: Buffer, at: number): number | null {
  let n = 0;
  let i = at;
  for (; i < b.length && b[i]! >= 0x30 && b[i]! <= 0x39; i++) n = n * 10 + (b[i]! - 0x30);
  return i > at && (b[i] === 0x2c || b[i] === 0x7d) && Number.isSafeInteger(n) ? n : null;
}

function parsedTokens(usage: Buffer): Tokens | null {
  try {
    return tokensOf(JSON.parse(usage.toString('utf8')));
  } catch {
    return null;
  }
}

/** An event's running sum, in TOKEN_FIELDS order. */
function totalOf(info: Buffer): number[] | undefined {
  const total = tokensIn(info, 'total_token_usage');
  return total ? TOKEN_FIELDS.map((k) => total[k]) : undefined;
}

/** What a running sum grew by since `before` (from nothing when there is none, or when the sum went down: it started again). */
function grewBy(total: Tokens | null, before: number[] | undefined): Tokens | null {
  if (!total) return null;
  const grown = noTokens();
  for (const [i, k] of TOKEN_FIELDS.entries()) grown[k] = total[k] - (before?.[i] ?? 0);
  if (TOKEN_FIELDS.some((k) => grown[k] < 0)) return total;
  return grown.total > 0 ? grown : null;
}

const keyOf = (b: Pick<Bucket, 'at' | 'model' | 'tier' | 'long'>): string => `${b.at}\t${b.model ?? ''}\t${b.tier ?? ''}\t${b.long ? 1 : 0}`;

/**
 * The index column's text, compact (a long session has a bucket for every quarter-hour it was
 * busy): `k` lists each [model, tier, long] once, and each bucket is [slot (the quarter-hours since
 * 1970), its index in `k`, responses, ...tokens].
 */
export function encodeUsage(u: FileUsage | null): string | null {
  if (!u) return null;
  const kinds = new Map<string, number>();
  const b = u.buckets.map((x) => {
    const kind = JSON.stringify([x.model, x.tier, x.long ? 1 : 0]);
    let k = kinds.get(kind);
    if (k === undefined) kinds.set(kind, (k = kinds.size));
    return [x.at / SLOT_MS, k, x.responses, ...TOKEN_FIELDS.map((f) => x[f])];
  });
  return JSON.stringify({ n: u.responses, k: [...kinds.keys()].map((kind) => JSON.parse(kind) as unknown), b });
}

export function decodeUsage(text: string | null): FileUsage | null {
  if (!text) return null;
  const v = JSON.parse(text) as { n: number; k: Array<[string | null, string | null, number]>; b: number[][] };
  if (typeof v?.n !== 'number' || !Array.isArray(v.k) || !Array.isArray(v.b))
    throw new RolloutError("the rollout index holds usage in a form this rollout does not read; run 'rollout-index --rebuild'");
  const buckets = v.b.map(([slot, k, responses, ...t]) => {
    const [model, tier, long] = v.k[k!]!;
    const b: Bucket = { at: slot! * SLOT_MS, model, tier, long: long === 1, responses: responses!, ...noTokens() };
    TOKEN_FIELDS.forEach((f, i) => (b[f] = t[i] ?? 0));
    return b;
  });
  return { buckets, responses: v.n };
}

// Reading one session file into an index row and its full-text documents. A row carries everything
// needed to continue when the file grows (rollouts are append-only): how far it was read, the turn
// tally, the latest model and token total, and where a copied fork's inherited lines end.
import { RolloutError } from '../cli/errors.js';
import { stampTime, type SessionFile } from '../home/paths.js';
import { lineBatches, newStats, type Line } from '../core/lines.js';
import {
  generationOf,
  isBareGeneration,
  isEnvelope,
  isObject,
  Normalizer,
  parseLine,
  peekType,
  quickCheck,
  type Envelope,
  type Generation,
  type SessionMetaPayload,
  type TypeInfo,
  TIMESTAMP,
} from '../core/record.js';
import { openSession } from '../core/session.js';
import { fileChunks, openSource, tailAt } from '../core/source.js';
import { mayOpenTurn, messageText, TurnTally, userTurnText, type LineKind } from '../core/turns.js';
import { memberValue, stringEnd, stringText, withoutMembers } from '../core/json-bytes.js';
import { imageBytes, kindOf, turnItemType, type OwnKind } from '../core/kinds.js';
import { Copies, lineTime, type CopyCarry } from '../core/copies.js';
import { decodeUsage, encodeUsage, UsageLedger, type UsageCarry } from '../core/token-usage.js';

/** One searchable text: a message, a reasoning summary, a tool call or its output. */
export interface Doc {
  line: number;
  ordinal: number | null;
  role: 'user' | 'assistant' | 'reasoning' | 'tool' | 'output' | 'agent';
  text: string;
}

/** The row of one session file, as stored (timestamps in ms since the epoch). */
export interface Row {
  id: string;
  rollout_id: string;
  path: string;
  root: string;
  archived: number;
  compressed: number;
  generation: Generation | null;
  history_mode: string | null;
  size: number;
  mtime_ms: number;
  ino: number;
  name_at: number;
  created_at: number;
  updated_at: number;
  last_line_at: number;
  cwd: string | null;
  originator: string | null;
  source: string | null;
  thread_source: string | null;
  model_provider: string | null;
  model: string | null;
  effort: string | null;
  cli_version: string | null;
  git_branch: string | null;
  git_sha: string | null;
  git_origin_url: string | null;
  forked_from_id: string | null;
  parent_thread_id: string | null;
  history_base: string | null;
  title: string | null;
  turns: number;
  own_turns: number;
  tokens: number;
  bad_lines: number;
  read_offset: number;
  read_line: number;
  tail: string | null;
  doc_count: number;
  state: string | null;
  /** The file's bytes decompressed (its size on disk is `size`). */
  uncompressed: number;
  /**
   * What those bytes are spent on (core/kinds.ts); together they make `uncompressed`. Images count
   * wherever they are; the rest of a line goes to `copied` when the line is history copied from a
   * parent (see core/copies.ts), else to its own kind.
   */
  images: number;
  tool_output: number;
  reasoning: number;
  compaction: number;
  copied: number;
  other: number;
  /** What its model responses used (core/token-usage.ts, encoded), or null when no response of it was counted. */
  usage: string | null;
}

/** What a row needs beyond its columns to carry on reading (kept as JSON in `state`). */
interface Carry extends CopyCarry {
  /** A referenced fork's `history_base`, and the turns and title it inherits through it. */
  base?: { thread_id: string; end_byte_offset: number };
  baseTurns?: number;
  baseTitle?: string | null;
  /** The service tier of the latest `thread_settings_applied` (fast, flex, ...), when not the default. */
  tier?: string;
  /** The usage ledger's own (core/token-usage.ts). */
  usage?: UsageCarry;
}

/** A message longer than this is indexed by its first part. */
const MAX_DOC = 64 << 10;
/**
 * Tool calls and outputs (most of a rollout's text: logs, file listings, patches) are indexed by
 * their first and last part, where commands, errors and exit codes are; the whole of them would be
 * most of the indexing time for little to find.
 */
const TOOL_HEAD = 1024;
const TOOL_TAIL = 512;
/** Bulky members no row or document reads: dropped before a line is parsed. */
const BULK: Record<string, readonly string[]> = {
  session_meta: ['base_instructions', 'dynamic_tools'],
  reasoning: ['encrypted_content', 'content'],
  message: ['image_url'],
};
const OUTPUTS = new Set(['function_call_output', 'custom_tool_call_output']);

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);
const lower = (v: unknown): string | null => str(v)?.toLowerCase() ?? null;

/** Event payloads that matter to the row; everything else is passed over unparsed. */
const EVENTS_ALWAYS = new Set(['thread_settings_applied', 'token_count', 'thread_rolled_back']);
const EVENTS_FOR_TITLE = new Set(['user_message', 'item_completed']);
const ITEMS = new Set([
  'message',
  'agent_message',
  'reasoning',
  'function_call',
  'function_call_output',
  'custom_tool_call',
  'custom_tool_call_output',
  'local_shell_call',
]);
const TYPES = new Set(['session_meta', 'turn_context', 'inter_agent_communication']);

/** A new row for `file`, before any of its lines are read. */
export function freshRow(file: SessionFile): Row {
  const nameAt = file.name.stamp ? stampTime(file.name.stamp) : 0;
  return {
    id: file.name.threadId,
    rollout_id: file.name.rolloutId,
    path: file.path,
    root: file.root,
    archived: file.root === 'archived_sessions' ? 1 : 0,
    compressed: file.compressed ? 1 : 0,
    generation: null,
    history_mode: null,
    size: file.size,
    mtime_ms: file.mtimeMs,
    ino: file.ino,
    name_at: nameAt,
    created_at: nameAt,
    updated_at: file.mtimeMs,
    last_line_at: 0,
    cwd: null,
    originator: null,
    source: null,
    thread_source: null,
    model_provider: null,
    model: null,
    effort: null,
    cli_version: null,
    git_branch: null,
    git_sha: null,
    git_origin_url: null,
    forked_from_id: null,
    parent_thread_id: null,
    history_base: null,
    title: null,
    turns: 0,
    own_turns: 0,
    tokens: 0,
    bad_lines: 0,
    read_offset: 0,
    read_line: 0,
    tail: null,
    doc_count: 0,
    state: null,
    uncompressed: 0,
    images: 0,
    tool_output: 0,
    reasoning: 0,
    compaction: 0,
    copied: 0,
    other: 0,
    usage: null,
  };
}

/** Streams the lines of one file into a row; `emit` receives its documents as they are found. */
export class FileScan {
  private readonly tally: TurnTally;
  private readonly carry: Carry;
  private readonly copies: Copies;
  private readonly ledger: UsageLedger;
  private normalizer: Normalizer | null = null;
  private first: boolean;
  /** This batch's token_count lines, valid until the batch ends. */
  private readonly tokenLines: Line[] = [];
  /** Bytes consumed through the last complete line. */
  bytesRead = 0;
  /** The types of the line being read, when they had to be parsed (peekType could not tell). */
  private parsedInfo: TypeInfo | null = null;

  constructor(
    readonly row: Row,
    private readonly emit: (doc: Doc) => void,
  ) {
    this.tally = new TurnTally(row.own_turns, row.title);
    this.carry = row.state ? (JSON.parse(row.state) as Carry) : {};
    this.copies = new Copies(this.carry, () => this.row.created_at);
    this.ledger = new UsageLedger(decodeUsage(row.usage), (this.carry.usage ??= {}));
    this.first = row.read_line === 0;
  }

  start(generation: Generation | null): void {
    if (this.first) this.row.generation = generation;
    if (isBareGeneration(this.row.generation)) this.normalizer = new Normalizer();
  }

  batch(lines: Line[]): void {
    for (const line of lines) {
      if (this.normalizer) this.bare(line);
      else {
        const head = this.first;
        const info = peekType(line.bytes);
        this.parsedInfo = null;
        this.envelopeLine(line, info);
        const seen = this.parsedInfo ?? info;
        this.weigh(line, seen, head);
        if (!head) this.countUsage(line, seen);
      }
    }
    this.tokenTotal();
    const last = lines[lines.length - 1];
    if (!last) return;
    this.row.read_line = last.no;
    this.row.read_offset = last.end;
    const at = lineTime(last.bytes);
    if (!Number.isNaN(at)) this.row.last_line_at = Math.max(this.row.last_line_at, at);
  }

  finish(): Row {
    const r = this.row;
    r.own_turns = this.tally.turns;
    r.turns = (this.carry.baseTurns ?? 0) + this.tally.turns;
    r.title = this.tally.title ?? this.carry.baseTitle ?? null;
    r.updated_at = Math.max(r.last_line_at, r.mtime_ms);
    r.usage = encodeUsage(this.ledger.finish());
    if (this.carry.usage && !Object.keys(this.carry.usage).length) delete this.carry.usage;
    r.state = Object.keys(this.carry).length ? JSON.stringify(this.carry) : null;
    return r;
  }

  /**
   * Adds a line's bytes (its terminator with them) to the kinds: its images, then the rest to
   * `copied` or to its own kind (`other` is what is left over, made up by `settle`).
   */
  private weigh(line: Line, info: TypeInfo | null, head: boolean): void {
    const r = this.row;
    const images = imageBytes(line.bytes, info);
    const rest = line.end - line.offset - images;
    r.images += images;
    if (!head && this.copies.copied(line)) r.copied += rest;
    else {
      const kind = kindOf(info, info?.payloadType === 'item_completed' ? turnItemType(line.bytes) : null);
      if (kind !== 'other') r[kind] += rest;
    }
  }

  /**
   * A usage line (token_usage_record, or a token_count event unless the file has the former) into
   * the ledger, at the line's time, under the model and tier in force.
   */
  private countUsage(line: Line, info: TypeInfo | null): void {
    if (!this.ledger.counts(info)) return;
    const at = lineTime(line.bytes);
    const where = { at: Number.isNaN(at) ? this.row.last_line_at || this.row.created_at : at, model: this.row.model, tier: this.carry.tier ?? null };
    this.ledger.line(line.bytes, info, where, this.copies.copied(line));
  }

  /** A bare line's kind: it is a response item (or the meta, which is `other`). */
  private weighBare(line: Line, record: unknown): void {
    const images = imageBytes(line.bytes);
    this.row.images += images;
    const p = isObject(record) && typeof record.type === 'string' ? record.type : undefined;
    const kind: OwnKind = kindOf({ type: 'response_item', payloadType: p });
    if (kind !== 'other') this.row[kind] += line.end - line.offset - images;
  }

  private bare(line: Line): void {
    const record = parseLine(line.bytes);
    this.weighBare(line, record);
    if (record === undefined) {
      this.row.bad_lines++;
      return;
    }
    for (const text of this.normalizer!.convert(record)) this.envelope(JSON.parse(text) as Envelope, line);
  }

  private envelopeLine(line: Line, info: TypeInfo | null): void {
    if (info && !this.first) {
      const t = info.type!;
      const p = info.payloadType;
      const wanted =
        TYPES.has(t) ||
        (t === 'response_item' && (p === undefined || ITEMS.has(p))) ||
        (t === 'event_msg' && (p === undefined || EVENTS_ALWAYS.has(p) || (EVENTS_FOR_TITLE.has(p) && this.tally.needsTitle)));
      // Only the last cumulative total counts: a batch's token counts are read from its end.
      const deferred = t === 'event_msg' && p === 'token_count';
      if (!wanted || deferred || (t === 'response_item' && OUTPUTS.has(p!))) {
        this.tally.see(info);
        this.copies.clock(line, null);
        if (quickCheck(line.bytes)) this.row.bad_lines++;
        else if (deferred) this.tokenLines.push(line);
        else if (wanted && !this.outputDoc(line)) this.parsed(line, line.bytes);
        return;
      }
    }
    const bulk = info && BULK[info.payloadType ?? info.type!];
    this.parsed(line, bulk ? withoutMembers(line.bytes, bulk) : line.bytes);
  }

  private parsed(line: Line, bytes: Buffer): void {
    const env = parseLine(bytes);
    if (!isEnvelope(env)) {
      this.row.bad_lines++;
      this.first = false;
      return;
    }
    const p = isObject(env.payload) ? env.payload : {};
    this.parsedInfo = { type: env.type, payloadType: typeof p.type === 'string' ? p.type : undefined };
    this.envelope(env, line);
  }

  private envelope(env: Envelope, line: Line): void {
    const p = isObject(env.payload) ? env.payload : {};
    if (this.first) {
      this.first = false;
      if (env.type === 'session_meta') this.meta(p as SessionMetaPayload);
      return;
    }
    this.copies.clock(line, env);
    switch (env.type) {
      case 'session_meta':
        return this.laterMeta(p as SessionMetaPayload, line);
      case 'turn_context':
        this.row.model = str(p.model) ?? this.row.model;
        this.row.effort = str(p.effort) ?? this.row.effort;
        return;
      case 'event_msg':
        if (p.type === 'token_count') {
          this.tokenLines.push(line);
          return;
        }
        if (p.type === 'thread_settings_applied') {
          const s = isObject(p.thread_settings) ? p.thread_settings : {};
          this.row.model = str(s.model) ?? this.row.model;
          this.row.effort = str(s.reasoning_effort) ?? this.row.effort;
          const tier = str(s.service_tier);
          if (tier) this.carry.tier = tier;
          else delete this.carry.tier;
          this.copies.settingsApplied();
          return;
        }
        return this.tally.add(env);
      case 'response_item':
        this.tally.add(env);
        return this.doc(line, env.ordinal, itemDoc(p));
      case 'inter_agent_communication':
        this.tally.add(env);
        return this.doc(line, env.ordinal, typeof p.content === 'string' ? ['agent', p.content] : null);
    }
  }

  private doc(line: Line, ordinal: number | undefined, d: [Doc['role'], string] | null): void {
    if (!d || this.copies.copying) return;
    const text = clip(d[0], d[1]);
    if (!text.trim()) return;
    this.row.doc_count++;
    this.emit({ line: line.no, ordinal: typeof ordinal === 'number' ? ordinal : null, role: d[0], text });
  }

  /**
   * A tool output's document, read from the line's bytes when its output is a plain string (it
   * nearly always is; the rest of the line is ids). False when the line needs a full parse.
   */
  private outputDoc(line: Line): boolean {
    if (this.copies.copying) return true;
    const b = line.bytes;
    const v = memberValue(b, 'output', TIMESTAMP.length);
    if (v === -1 || b[v] !== 0x22) return false;
    const end = stringEnd(b, v);
    if (end === -1) return false;
    const text = stringText(b, v, end, TOOL_HEAD, TOOL_TAIL);
    if (text === null) return false;
    this.doc(line, ordinalOf(b), ['output', text]);
    return true;
  }

  /** The total of the last token count of the batch that has one. */
  private tokenTotal(): void {
    for (let i = this.tokenLines.length - 1; i >= 0; i--) {
      const env = parseLine(this.tokenLines[i]!.bytes);
      if (!isEnvelope(env)) {
        this.row.bad_lines++;
        continue;
      }
      const total = Number(env.payload?.info?.total_token_usage?.total_tokens);
      if (Number.isFinite(total)) {
        this.row.tokens = total;
        break;
      }
    }
    this.tokenLines.length = 0;
  }

  private meta(m: SessionMetaPayload): void {
    const r = this.row;
    const id = lower(m.id);
    if (!r.id && id) r.id = id;
    if (!r.rollout_id) r.rollout_id = r.id;
    const created = typeof m.timestamp === 'string' ? Date.parse(m.timestamp) : NaN;
    if (!Number.isNaN(created)) r.created_at = created;
    r.cwd = str(m.cwd);
    r.originator = str(m.originator);
    r.cli_version = str(m.cli_version);
    r.source = typeof m.source === 'string' ? m.source : isObject(m.source) ? JSON.stringify(m.source) : null;
    r.thread_source = str(m.thread_source);
    r.model_provider = str(m.model_provider);
    r.forked_from_id = lower(m.forked_from_id);
    const spawn = isObject(m.source) && isObject(m.source.subagent) ? m.source.subagent.thread_spawn : undefined;
    r.parent_thread_id = lower(m.parent_thread_id) ?? lower(isObject(spawn) ? spawn.parent_thread_id : undefined);
    r.history_base = isObject(m.history_base) ? lower(m.history_base.thread_id) : null;
    if (r.history_base) this.carry.base = { thread_id: r.history_base, end_byte_offset: Number(m.history_base!.end_byte_offset) };
    r.history_mode = str(m.history_mode) ?? (r.generation === 'E' ? 'paginated' : 'legacy');
    this.copies.own(m);
    this.git(m);
  }

  private git(m: SessionMetaPayload): void {
    if (!isObject(m.git)) return;
    this.row.git_branch = str(m.git.branch) ?? this.row.git_branch;
    this.row.git_sha = str(m.git.commit_hash) ?? this.row.git_sha;
    this.row.git_origin_url = str(m.git.repository_url) ?? this.row.git_origin_url;
  }

  /**
   * A later session_meta with the file's own id updates git info (Codex appends one); one with
   * another id, before any turn of the file's own, is a legacy fork's copy of its parent.
   */
  private laterMeta(m: SessionMetaPayload, line: Line): void {
    if (lower(m.id) === this.row.id) return this.git(m);
    this.copies.otherMeta(line, this.tally.turns === 0 && !this.row.history_base);
  }
}

const ORDINAL = Buffer.from(',"ordinal":');

/** A paginated line's ordinal, from its envelope prefix. */
function ordinalOf(b: Buffer): number | undefined {
  const at = b.indexOf(ORDINAL, TIMESTAMP.length);
  if (at === -1 || at > 64) return undefined;
  const n = Number.parseInt(b.toString('latin1', at + ORDINAL.length, at + ORDINAL.length + 16), 10);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A document's text within its role's limits. */
function clip(role: Doc['role'], text: string): string {
  if (role === 'tool' || role === 'output') {
    return text.length > TOOL_HEAD + TOOL_TAIL ? `${text.slice(0, TOOL_HEAD)}\n…\n${text.slice(-TOOL_TAIL)}` : text;
  }
  return text.length > MAX_DOC ? text.slice(0, MAX_DOC) : text;
}

/** The searchable text of a response item, with its role; null when it has none worth indexing. */
function itemDoc(p: Record<string, any>): [Doc['role'], string] | null {
  switch (p.type) {
    case 'message':
      if (p.role === 'user') return userTurnText(p) === null ? null : ['user', messageText(p)];
      return p.role === 'assistant' ? ['assistant', messageText(p)] : null;
    case 'reasoning':
      return Array.isArray(p.summary) ? ['reasoning', p.summary.map((s: any) => (typeof s?.text === 'string' ? s.text : '')).join('\n')] : null;
    case 'function_call':
      return ['tool', `${p.name ?? ''} ${typeof p.arguments === 'string' ? p.arguments : ''}`];
    case 'custom_tool_call':
      return ['tool', `${p.name ?? ''} ${typeof p.input === 'string' ? p.input : ''}`];
    case 'local_shell_call':
      return Array.isArray(p.action?.command) ? ['tool', p.action.command.join(' ')] : null;
    case 'function_call_output':
    case 'custom_tool_call_output':
      return ['output', outputText(p.output)];
  }
  return null;
}

function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return output.map((o) => (isObject(o) && typeof o.text === 'string' ? o.text : '')).join('\n');
  if (isObject(output) && typeof output.content === 'string') return output.content;
  return '';
}

/**
 * How a scan reads: into reused buffers, a megabyte at a time. Larger reads made larger batches,
 * whose lines were still alive at more of the reading thread's young-generation collections.
 */
const READ = { transient: true, chunk: 1 << 20 };

/** The `history_base` a row's file starts from, when it is a referenced fork or revert. */
export function baseOf(row: Row): Carry['base'] | null {
  return row.state ? ((JSON.parse(row.state) as Carry).base ?? null) : null;
}

/** Gives a referenced fork its ancestors' turns, and their title when it has none of its own. */
export function inherit(row: Row, turns: number, title: string | null): void {
  const carry = JSON.parse(row.state ?? '{}') as Carry;
  carry.baseTurns = turns;
  carry.baseTitle = title;
  row.state = JSON.stringify(carry);
  row.turns = turns + row.own_turns;
  row.title ??= title;
}

export interface ScanResult {
  row: Row;
  bytes: number;
  /** Whether the file was read from where the previous run stopped. */
  appended: boolean;
}

/**
 * Whether `file` is `prev`'s file grown by appends: same plain file (inode), at least as long, and
 * the bytes just before where the last read stopped are the ones seen then.
 */
export async function canAppend(file: SessionFile, prev: Row): Promise<boolean> {
  if (file.compressed || file.form === 'json' || prev.compressed || prev.ino !== file.ino) return false;
  if (prev.read_offset <= 0 || file.size < prev.read_offset || prev.tail === null) return false;
  return (await tailAt(file.path, prev.read_offset).catch(() => null)) === prev.tail;
}

/**
 * Reads `file` into a row: with `prev` (see canAppend), only the lines after where that read
 * stopped, carrying its aggregates on; without, the whole file.
 */
export async function scanFile(file: SessionFile, prev: Row | null, emit: (doc: Doc) => void): Promise<ScanResult> {
  if (prev) {
    const row: Row = {
      ...prev,
      path: file.path,
      root: file.root,
      archived: file.root === 'archived_sessions' ? 1 : 0,
      size: file.size,
      mtime_ms: file.mtimeMs,
    };
    const scan = new FileScan(row, emit);
    scan.start(row.generation);
    const stats = newStats();
    const chunks = fileChunks(file.path, { start: row.read_offset, ...READ });
    for await (const batch of lineBatches(chunks, stats, { startOffset: row.read_offset, startLine: row.read_line, transient: true })) {
      scan.batch(batch);
    }
    const done = settle(scan.finish(), stats.bytes);
    done.tail = await tailAt(file.path, done.read_offset);
    return { row: done, bytes: stats.bytes - prev.read_offset, appended: true };
  }
  const scan = new FileScan(freshRow(file), emit);
  if (file.form === 'json') {
    // Generation 0 is one JSON document, which openSession turns into one line.
    const session = await openSession(file.path, { form: file.form });
    try {
      scan.start(session.generation);
      for await (const batch of session.batches) scan.batch(batch);
    } finally {
      await session.close();
    }
    return { row: settle(scan.finish(), session.stats.bytes), bytes: session.stats.bytes, appended: false };
  }
  const stats = newStats();
  let first = true;
  // A scan keeps nothing of a line past its batch, so chunks can share one buffer.
  for await (const batch of lineBatches(openSource(file.path, READ), stats, { transient: true })) {
    if (first) {
      first = false;
      scan.start(generationOf(parseLine(withoutMembers(batch[0]!.bytes, BULK.session_meta!)), file.form));
    }
    scan.batch(batch);
  }
  const row = settle(scan.finish(), stats.bytes);
  if (!file.compressed) row.tail = await tailAt(file.path, row.read_offset);
  return { row, bytes: stats.bytes, appended: false };
}

/**
 * A row given its file's decompressed length: what the kinds read did not claim is `other` (lines
 * of no particular kind, blank lines, a torn last line until it is finished and read again).
 */
function settle(row: Row, bytes: number): Row {
  row.uncompressed = bytes;
  row.other = Math.max(0, bytes - row.images - row.tool_output - row.reasoning - row.compaction - row.copied);
  return row;
}

/** Turns and title of the lines of a history prefix (a referenced fork's ancestors). */
export async function tallyPrefix(path: string, limit: number | undefined, form: SessionFile['form'] | undefined, into: TurnTally): Promise<void> {
  const session = await openSession(path, { form, limit });
  try {
    for await (const batch of session.batches) {
      for (const line of batch) {
        const info = peekType(line.bytes);
        if (info && !turnLine(line.bytes, info, into.needsTitle)) {
          into.see(info);
          continue;
        }
        const env = parseLine(line.bytes);
        if (isEnvelope(env)) into.add(env);
      }
    }
  } finally {
    await session.close();
  }
}

/** Whether a line (by its types) can open or drop a turn, or give the title while there is none. */
function turnLine(bytes: Buffer, info: LineKind, needTitle: boolean): boolean {
  const pt = info?.payloadType;
  if (info?.type === 'event_msg') return pt === undefined || pt === 'thread_rolled_back' || (needTitle && EVENTS_FOR_TITLE.has(pt));
  return mayOpenTurn(bytes, info);
}

/**
 * Why a file could not be read (a broken .zst, a permission), or null when `err` is anything else: a
 * bug, or a failure of the index itself (an SQLite error from a document insert, a full disk), which
 * must stop the run rather than leave the file listed without its contents.
 */
export function unreadable(err: unknown): string | null {
  if (err instanceof RolloutError) return err.message;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return (err as Error).message.replace(/^[A-Z0-9]+: /, '');
  return null;
}

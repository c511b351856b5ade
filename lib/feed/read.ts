// One session file, read from where the feed stopped last time to its last complete line, into
// records. What the next read needs (the turn being read, the model in force, the calls waiting
// for their output, the usage ledger's and the copy tracker's state) is carried as JSON in the
// checkpoint, so a read never goes back over what an earlier one read.
import { warn } from '../cli/errors.js';
import { Copies, lineTime, type CopyCarry } from '../core/copies.js';
import { lineBatches, newStats, type Line } from '../core/lines.js';
import {
  isBareGeneration,
  isEnvelope,
  isObject,
  Normalizer,
  parseLine,
  peekType,
  quickCheck,
  typeOf,
  type SessionMetaPayload,
  type TypeInfo,
} from '../core/record.js';
import { openSession } from '../core/session.js';
import { fileChunks, tailAt } from '../core/source.js';
import { UsageLedger, type Tokens, type UsageCarry } from '../core/token-usage.js';
import { mayOpenTurn, TurnBoundaries } from '../core/turns.js';
import { ItemReader, type ItemOptions, type Waiting } from '../items/reader.js';
import { parseLean } from '../items/lean.js';
import type { Item, TurnItem } from '../items/model.js';

/**
 * What the feed writes for each model response: the tokens it used, counted as rollout-usage counts
 * them, under Codex's own names (a tool call's `input` and `output` are texts).
 */
export interface UsageItem {
  kind: 'usage';
  session: string;
  turn: number;
  time: string | null;
  model: string | null;
  tier: string | null;
  input_tokens: number;
  cached_input_tokens: number;
  cache_write_input_tokens: number;
  output_tokens: number;
  reasoning_output_tokens: number;
  total_tokens: number;
}

export type FeedItem = Item | UsageItem;

/** What a read leaves for the next one. */
export interface FeedCarry extends CopyCarry {
  /** Turns opened so far, copied ones included (the number of the turn being read). */
  turn: number;
  /** The model, working directory and service tier in force. */
  model: string | null;
  cwd: string | null;
  tier?: string;
  /** Ms since the epoch of the session's start, and of the last line that said when it was written (0: not known). */
  created: number;
  last: number;
  /** A `history_base`: lines before the fork's own are not in this file, so no copy can begin. */
  based?: boolean;
  /** A task begun, before the user message that opens its turn: the turn starts there. */
  task?: { pos: number; turn_id: string | null; time: string | null };
  /** The turn being read, written (again, when `sent`) with its outcome when it ends. */
  open?: { pos: number; item: TurnItem; sent?: boolean };
  waiting?: Waiting[];
  usage?: UsageCarry;
}

/** How far a file has been read. */
export interface Progress {
  /** Bytes (of the decompressed file) read: the end of its last complete line. */
  sent: number;
  /** Lines read (blank ones included): where to go on by line when the file was rewritten. */
  line: number;
  /** The bytes before `sent` (see tailAt): the file only grew while they are the same. */
  tail: string | null;
  carry: FeedCarry;
}

export interface FileToRead {
  session: string;
  /** The file is shorter than the feed's last read of it says (rewritten). */
  rewritten: boolean;
  path: string;
  compressed: boolean;
  generation: string | null;
  /** The session's own working directory (a call outside any turn ran there). */
  cwd: string | null;
  history_base: string | null;
}

/** A record and the position of the line it begins at. */
export type Emit = (item: FeedItem, pos: number) => void;

const freshCarry = (f: FileToRead): FeedCarry => ({ turn: 0, model: null, cwd: null, created: 0, last: 0, based: f.history_base !== null || undefined });

/**
 * Reads the lines of `file` after `from` (all of them without), emitting their records, and returns
 * how far it read. With `early`, a tool call is emitted as soon as it is seen, and again with its
 * output.
 */
export async function readFile(file: FileToRead, from: Progress | null, opts: ItemOptions & { early: boolean }, emit: Emit): Promise<Progress> {
  const carry: FeedCarry = from ? from.carry : freshCarry(file);
  const reader = new FileReader(file, carry, opts, emit);
  const bare = isBareGeneration(file.generation as never) || file.path.endsWith('.json');
  const progress: Progress = { sent: from?.sent ?? 0, line: from?.line ?? 0, tail: from?.tail ?? null, carry };
  const plain = !file.compressed && !bare;
  // A file rewritten since (by rollout-slim, or a repair) keeps its lines' numbers, not their
  // offsets: it is read on from the same line.
  const rewritten = from !== null && from.sent > 0 && (file.rewritten || (plain && (await tailAt(file.path, from.sent)) !== from.tail));
  if (rewritten) warn(`rewritten since rollout-feed last read it; going on from line ${from.line + 1}`, { file: file.path });
  const take = (line: Line): boolean => {
    if (from && line.no <= from.line) return false;
    progress.sent = line.end;
    progress.line = line.no;
    return true;
  };
  if (from && from.sent > 0 && plain && !rewritten) {
    // A plain file of envelopes goes on from where the last read stopped.
    const chunks = fileChunks(file.path, { start: from.sent, transient: true });
    for await (const batch of lineBatches(chunks, newStats(), { startOffset: from.sent, startLine: from.line, transient: true })) {
      for (const line of batch) if (take(line)) reader.line(line);
    }
  } else {
    // The rest are read from the start, passing over the lines read: a compressed file is one
    // stream, and a bare 2025 file is normalized from its first line on.
    const session = await openSession(file.path, { form: file.path.endsWith('.json') ? 'json' : undefined, transient: true });
    try {
      const normalizer = bare ? new Normalizer() : null;
      for await (const batch of session.batches) {
        for (const line of batch) {
          if (!normalizer) {
            if (take(line)) reader.line(line);
          } else {
            // The normalizer sees every line: what it makes of one depends on those before.
            const made = reader.normalize(line, normalizer);
            if (take(line)) reader.bare(line, made);
          }
        }
      }
    } finally {
      await session.close();
    }
  }
  if (progress.sent !== from?.sent) progress.tail = plain ? await tailAt(file.path, progress.sent) : null;
  reader.finish();
  return progress;
}

class FileReader {
  private readonly items: ItemReader;
  private readonly copies: Copies;
  private readonly boundaries = new TurnBoundaries();
  private readonly ledger: UsageLedger;
  /** Position of the line being read. */
  private pos = 0;
  private copied = false;
  private warned = 0;
  private readonly early: boolean;

  constructor(
    private readonly file: FileToRead,
    private readonly carry: FeedCarry,
    opts: ItemOptions & { early: boolean },
    private readonly emit: Emit,
  ) {
    this.early = opts.early;
    this.items = new ItemReader(file.session, file.cwd, opts, emit, opts.early ? emit : undefined);
    if (carry.waiting) this.items.restore(carry.waiting);
    this.copies = new Copies(carry, () => carry.created);
    this.ledger = new UsageLedger(null, (carry.usage ??= {}), (t, where) => this.usage(t, where.model, where.tier));
  }

  line(line: Line): void {
    if (quickCheck(line.bytes)) return this.bad(line);
    this.envelopeLine(line.bytes, line, line.offset);
  }

  /** The envelope lines a bare 2025 line becomes (null when it is not JSON). */
  normalize(line: Line, normalizer: Normalizer): string[] | null {
    const record = parseLine(line.bytes);
    return record === undefined ? null : normalizer.convert(record);
  }

  /** A bare line: each envelope line it became is read at the line's offset plus its index (a line is longer than what it makes). */
  bare(line: Line, made: string[] | null): void {
    if (made === null) return this.bad(line);
    made.forEach((text, k) => this.envelopeLine(Buffer.from(text), line, line.offset + k));
  }

  private bad(line: Line): void {
    if (this.warned++ < 10) warn('not a valid JSON line; left out', { file: this.file.path, line: line.no });
  }

  private envelopeLine(bytes: Buffer, line: Line, pos: number): void {
    const c = this.carry;
    this.pos = pos;
    const info = peekType(bytes) ?? typeOf(bytes);
    const at = lineTime(bytes);
    if (!Number.isNaN(at)) c.last = at;
    if (pos === 0 && info.type === 'session_meta') return this.ownMeta(bytes);
    if (info.type !== 'session_meta') this.copies.clock(line, null);
    this.copied = this.copies.copied(line);
    if (mayOpenTurn(bytes, info)) {
      const env = parseLean(bytes);
      if (isEnvelope(env) && this.boundaries.opens(env)) this.openTurn(env.timestamp);
    } else this.boundaries.see(info);
    this.context(bytes, info, line);
    if (this.ledger.counts(info)) this.ledger.line(bytes, info, { at: c.last || c.created, model: c.model, tier: c.tier ?? null }, this.copied);
    if (!this.copied) this.items.line(bytes, { pos, turn: c.turn, cwd: c.cwd });
  }

  private ownMeta(bytes: Buffer): void {
    const p = parseLine(bytes)?.payload;
    if (!isObject(p)) return;
    const created = typeof p.timestamp === 'string' ? Date.parse(p.timestamp) : NaN;
    this.carry.created = Number.isNaN(created) ? 0 : created;
    this.carry.cwd ??= typeof p.cwd === 'string' ? p.cwd : null;
    this.copies.own(p as SessionMetaPayload);
  }

  /** What changes the turn, model, directory or tier in force. */
  private context(bytes: Buffer, info: TypeInfo, line: Line): void {
    const c = this.carry;
    const pt = info.payloadType;
    if (info.type === 'turn_context') {
      const p = parseLine(bytes)?.payload;
      if (!isObject(p)) return;
      c.model = typeof p.model === 'string' ? p.model : c.model;
      c.cwd = typeof p.cwd === 'string' ? p.cwd : c.cwd;
    } else if (info.type === 'session_meta') {
      const p = parseLine(bytes)?.payload;
      if (isObject(p) && String(p.id).toLowerCase() !== this.file.session) this.copies.otherMeta(line, c.turn === 0 && !c.based);
    } else if (info.type === 'event_msg' && (pt === 'task_started' || pt === 'task_complete' || pt === 'turn_aborted' || pt === 'thread_settings_applied')) {
      const env = pt === 'task_complete' ? parseLean(bytes, ['last_agent_message']) : parseLine(bytes);
      const p = env?.payload;
      if (!isObject(p)) return;
      if (pt === 'task_started')
        c.task = { pos: this.pos, turn_id: typeof p.turn_id === 'string' ? p.turn_id : null, time: typeof env.timestamp === 'string' ? env.timestamp : null };
      else if (pt === 'thread_settings_applied') {
        const s = isObject(p.thread_settings) ? p.thread_settings : {};
        c.model = typeof s.model === 'string' ? s.model : c.model;
        c.cwd = typeof s.cwd === 'string' ? s.cwd : c.cwd;
        if (typeof s.service_tier === 'string' && s.service_tier) c.tier = s.service_tier;
        else delete c.tier;
        this.copies.settingsApplied();
      } else this.endTurn(pt, p);
    }
  }

  private openTurn(time: unknown): void {
    const c = this.carry;
    this.items.release();
    this.flushTurn();
    c.turn++;
    const start = c.task?.pos ?? this.pos;
    const item: TurnItem = {
      kind: 'turn',
      session: this.file.session,
      turn: c.turn,
      time: c.task ? c.task.time : typeof time === 'string' ? time : null,
      turn_id: c.task?.turn_id ?? null,
      status: c.task ? 'open' : 'unknown',
      duration_ms: null,
      error: null,
      model: c.model,
      cwd: c.cwd,
      inherited: false,
    };
    delete c.task;
    if (this.copied) return void delete c.open;
    c.open = { pos: start, item };
    // Written when it ends (or when the read does); with `early`, also now.
    if (this.early) this.items.add({ ...item }, start);
  }

  /** A task's end: the turn it ends is written again, with its outcome. */
  private endTurn(pt: string, p: Record<string, any>): void {
    const c = this.carry;
    const id = typeof p.turn_id === 'string' ? p.turn_id : null;
    // A task that ends before any user message (a manual compaction, say) opened no turn.
    if (c.task && (!c.task.turn_id || c.task.turn_id === id)) return void delete c.task;
    const open = c.open;
    if (!open || (id && open.item.turn_id && open.item.turn_id !== id)) return;
    const failed = pt === 'task_complete' && isObject(p.error);
    open.item.status = pt === 'turn_aborted' ? 'aborted' : failed ? 'failed' : 'completed';
    open.item.duration_ms =
      typeof p.duration_ms === 'number'
        ? p.duration_ms
        : typeof p.started_at === 'number' && typeof p.completed_at === 'number'
          ? (p.completed_at - p.started_at) * 1000
          : null;
    open.item.error = failed ? (typeof p.error.message === 'string' ? p.error.message : JSON.stringify(p.error)) : null;
    this.items.add({ ...open.item }, open.pos);
    delete c.open;
  }

  private usage(t: Tokens, model: string | null, tier: string | null): void {
    const at = this.carry.last;
    const item: UsageItem = {
      kind: 'usage',
      session: this.file.session,
      turn: this.carry.turn,
      time: at ? new Date(at).toISOString() : null,
      model,
      tier,
      input_tokens: t.input,
      cached_input_tokens: t.cached_input,
      cache_write_input_tokens: t.cache_write_input,
      output_tokens: t.output,
      reasoning_output_tokens: t.reasoning_output,
      total_tokens: t.total,
    };
    this.emit(item, this.pos);
  }

  /** Writes the turn being read as it stands, unless it was written already. */
  private flushTurn(): void {
    const open = this.carry.open;
    if (!open || this.early || open.sent) return;
    this.items.add({ ...open.item }, open.pos);
    open.sent = true;
  }

  /** What the next read needs; a turn still open is written as it stands (and again when it ends). */
  finish(): void {
    this.flushTurn();
    const waiting = this.items.waiting();
    if (waiting.length) this.carry.waiting = waiting;
    else delete this.carry.waiting;
    this.ledger.finish();
  }
}

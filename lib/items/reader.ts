// The normalized items a session's lines make, one line at a time: what rollout-export's second
// pass and rollout-feed share. A tool call waits for its output (paired by call_id) and is handed on
// with it; a caller may also take it as soon as it is seen (`onCall`), and releases what still waits
// when a turn ends.
import { isObject, parseLine, peekType, typeOf, peekTimestamp } from '../core/record.js';
import { isContextualText } from '../core/turns.js';
import {
  contentText,
  cutOutput,
  describeCall,
  durationMs,
  isContent,
  OUTPUT_HEAD,
  OUTPUT_TYPES,
  pathOfUrl,
  readOutput,
  SELF_CONTAINED_CALLS,
  WRAPPED_OUTPUT,
  type Item,
  type MessageItem,
  type ToolCallItem,
  type TurnItem,
  type TurnOutcome,
} from './model.js';
import { parseLean, parseStringHead, type StringHead } from './lean.js';
import { redactDeep } from './redact.js';

export interface ItemOptions {
  /** Include injected context and developer messages. */
  all: boolean;
  reasoning: boolean;
  /** Characters of tool output to keep; null keeps all. */
  maxOutput: number | null;
  redact: boolean;
}

/** Tool calls still waiting for their output past this many are handed on without it. */
const MAX_PENDING_CALLS = 1000;

const COMMAND_EXECUTION = Buffer.from('"type":"CommandExecution"');
const ITEM_TYPE = Buffer.from('"item":{"type":"');
/** Where a canonical event says what its item is at the latest. */
const HEAD = 400;

const MESSAGE_ROLE = Buffer.from('"payload":{"type":"message","role":"');
/** Where a canonical line's payload opens at the latest (after its timestamp, ordinal and type). */
const PAYLOAD_WITHIN = 160;

/** A message's role from the first bytes of its line, or null when they do not say. */
export function peekRole(bytes: Buffer): string | null {
  const at = bytes.indexOf(MESSAGE_ROLE);
  if (at === -1 || at > PAYLOAD_WITHIN) return null;
  const from = at + MESSAGE_ROLE.length;
  const end = bytes.indexOf(0x22, from);
  return end === -1 || end - from > 32 ? null : bytes.toString('latin1', from, end);
}

/** A developer or system message, from the line's first bytes (false when they do not say). */
function contextRole(bytes: Buffer): boolean {
  const role = peekRole(bytes);
  return role === 'developer' || role === 'system';
}

/** Where a line sits in what is read: what the caller numbers lines by, and the turn it belongs to. */
export interface LinePlace {
  pos: number;
  turn: number;
  /** The turn's working directory (null before the first turn). */
  cwd: string | null;
}

/** An item, finished (masked, cut), with the position of the line it began at. */
export type Emit = (item: Item, pos: number) => void;

/** A tool call waiting for its output, and the position of its line. */
export interface Waiting {
  call: ToolCallItem;
  pos: number;
}

export class ItemReader {
  private readonly pending = new Map<string, Waiting>();
  private readonly finish: (item: Item) => Item;

  /**
   * @param session The session id every item carries.
   * @param sessionCwd Where a call outside any turn ran, as far as is known.
   * @param onCall Takes each call that waits for its output as soon as it is seen (it is emitted
   *   again, with its output, when that comes).
   */
  constructor(
    private readonly session: string,
    private readonly sessionCwd: string | null,
    private readonly opts: ItemOptions,
    private readonly emit: Emit,
    private readonly onCall?: Emit,
  ) {
    this.finish = finisher(opts);
  }

  /** Hands on an item made elsewhere (a turn's), finished as the reader's own are. */
  add(item: Item, pos: number): void {
    this.emit(this.finish(item), pos);
  }

  /** Hands on every call still waiting for its output (its turn is over), without it. */
  release(): void {
    for (const { call, pos } of this.pending.values()) this.add(call, pos);
    this.pending.clear();
  }

  /** The calls still waiting for their output, oldest first: what a reader that stops here carries to the next read. */
  waiting(): Waiting[] {
    return [...this.pending.values()];
  }

  /** Calls an earlier read left waiting, as `waiting` gave them. */
  restore(calls: Waiting[]): void {
    for (const w of calls) if (w.call.call_id !== null) this.pending.set(w.call.call_id, w);
  }

  /** The items of one envelope line, at `at`. */
  line(bytes: Buffer, at: LinePlace): void {
    const { session, opts } = this;
    const { turn, pos } = at;
    const info = peekType(bytes) ?? typeOf(bytes);
    const pt = info.payloadType;
    if (info.type === 'response_item') {
      if (pt === 'message') {
        if (!opts.all && contextRole(bytes)) return;
        // Injected context only ever comes as the user's.
        const item = message(session, turn, parseLean(bytes));
        if (item && (opts.all || !item.context)) this.add(item, pos);
      } else if (pt === 'reasoning') {
        if (!opts.reasoning) return;
        const env = parseLine(bytes);
        const text = reasoningText(env?.payload);
        if (text) this.add({ kind: 'reasoning', session, turn, time: env.timestamp ?? null, text }, pos);
      } else if (pt !== undefined && OUTPUT_TYPES.has(pt)) {
        const cut = outputHead(bytes, opts);
        const env = cut?.env ?? parseOutput(bytes);
        const p = env?.payload;
        if (!isObject(p)) return;
        const id = typeof p.call_id === 'string' ? p.call_id : null;
        const waiting = id === null ? undefined : this.pending.get(id);
        const call = waiting?.call ?? orphan(session, turn, env.timestamp, p);
        if (id !== null) this.pending.delete(id);
        const out = readOutput(cut ? { ...p, output: cut.head } : p);
        call.output = out.text;
        // What the head leaves out; the finisher cuts the head itself to --max-output.
        if (cut) call.omitted_chars = cut.length - cut.head.length;
        call.exit_code ??= out.exit_code;
        call.duration_ms ??= out.duration_ms;
        this.add(call, waiting?.pos ?? pos);
      } else if (pt !== undefined) {
        const env = parseLine(bytes);
        const p = env?.payload;
        const described = isObject(p) ? describeCall(p) : null;
        if (!described) return;
        const call: ToolCallItem = {
          kind: 'tool_call',
          session,
          turn,
          time: env.timestamp ?? null,
          ...described,
          output: null,
          omitted_chars: 0,
          exit_code: null,
          duration_ms: null,
        };
        call.cwd ??= (turn > 0 ? at.cwd : null) ?? this.sessionCwd;
        if (SELF_CONTAINED_CALLS.has(pt) || call.call_id === null) return this.add(call, pos);
        this.pending.set(call.call_id, { call, pos });
        this.onCall?.(this.finish({ ...call }), pos);
        if (this.pending.size > MAX_PENDING_CALLS) {
          const [oldestId, oldest] = this.pending.entries().next().value!;
          this.pending.delete(oldestId);
          this.add(oldest.call, oldest.pos);
        }
      }
    } else if (info.type === 'event_msg') {
      // Command results carry what the call's output text may not: exit code, duration, directory.
      if (pt === 'exec_command_end' || (pt === 'item_completed' && isCommandExecution(bytes))) {
        // The command's output is in its call's output record already.
        const p = parseLean(bytes, ['aggregated_output'])?.payload;
        const r = pt === 'exec_command_end' ? p : p?.item;
        const call = isObject(r) ? this.pending.get(String(r.call_id ?? r.id))?.call : undefined;
        if (!call || !isObject(r)) return;
        if (Number.isInteger(r.exit_code)) call.exit_code = r.exit_code;
        call.duration_ms = durationMs(r.duration_ms ?? r.duration) ?? call.duration_ms;
        call.cwd = pathOfUrl(r.cwd) ?? call.cwd;
      }
    } else if (info.type === 'compacted') {
      const env = parseLine(bytes);
      const p = env?.payload;
      if (!isObject(p)) return;
      this.add(
        {
          kind: 'compaction',
          session,
          turn,
          time: env.timestamp ?? null,
          summary: typeof p.message === 'string' ? p.message : '',
          replaced_by: Array.isArray(p.replacement_history) ? p.replacement_history.length : null,
        },
        pos,
      );
    }
  }
}

/** An `item_completed` of a command: the item's type is in the first bytes when the line is canonical. */
function isCommandExecution(bytes: Buffer): boolean {
  const head = bytes.subarray(0, HEAD);
  return head.includes(ITEM_TYPE) ? head.includes(COMMAND_EXECUTION) : bytes.includes(COMMAND_EXECUTION);
}

/**
 * With --redact, a cut output's head reaches this far past the cut: a secret the cut would halve is
 * still recognised whole, and it is the mask that gets cut. (Longer tokens than this are unheard of.)
 */
const REDACT_MARGIN = 512;

/**
 * A long text output that `--max-output` cuts, read without decoding what is cut: its head (enough
 * for the cut, for masking around it, and for the header readOutput looks at) and its length. Null
 * when the whole record must be read: no cut, the 2025 JSON wrapper, or a line not shaped for it.
 */
function outputHead(bytes: Buffer, opts: ItemOptions): StringHead | null {
  if (opts.maxOutput === null) return null;
  const cut = parseStringHead(bytes, 'output', Math.max(opts.maxOutput + (opts.redact ? REDACT_MARGIN : 0), OUTPUT_HEAD));
  return cut && !cut.head.startsWith(WRAPPED_OUTPUT) ? cut : null;
}

/**
 * A call's output record with its images left out, unless the output is other JSON (which the
 * model keeps as written, images and all).
 */
function parseOutput(bytes: Buffer): any {
  const env = parseLean(bytes);
  const p = env?.payload;
  const out = p?.output ?? p?.tools;
  return out === undefined || out === null || typeof out === 'string' || isContent(out) ? env : parseLine(bytes);
}

export function turnItem(session: string, turn: number, t: TurnOutcome, first: Buffer | null): TurnItem {
  let time: string | null = null;
  let turnId: string | null = null;
  if (first) {
    const info = peekType(first) ?? typeOf(first);
    // A turn opened by a task_started carries the task's turn id; one opened by a message has none.
    const env = info.payloadType === 'task_started' || peekTimestamp(first) === null ? parseLine(first) : null;
    time = peekTimestamp(first) ?? (typeof env?.timestamp === 'string' ? env.timestamp : null);
    if (info.type === 'event_msg' && info.payloadType === 'task_started' && typeof env?.payload?.turn_id === 'string') turnId = env.payload.turn_id;
  }
  return {
    kind: 'turn',
    session,
    turn,
    time,
    turn_id: turnId,
    status: t.status,
    duration_ms: t.duration_ms,
    error: t.error,
    model: t.model,
    cwd: t.cwd,
    inherited: t.inherited,
  };
}

const ROLES = new Set(['user', 'assistant', 'developer', 'system']);

function message(session: string, turn: number, env: any): MessageItem | null {
  const p = env?.payload;
  if (!isObject(p) || !ROLES.has(p.role)) return null;
  const { text, images } = contentText(p.content);
  const parts = Array.isArray(p.content) ? p.content : [];
  const injected = p.role === 'user' && parts.some((x: any) => typeof x?.text === 'string' && isContextualText(x.text));
  return {
    kind: 'message',
    session,
    turn,
    time: env.timestamp ?? null,
    role: p.role,
    phase: typeof p.phase === 'string' ? p.phase : null,
    text,
    images,
    context: injected || p.role === 'developer' || p.role === 'system',
  };
}

function reasoningText(p: unknown): string {
  if (!isObject(p)) return '';
  const from = (parts: unknown) => (Array.isArray(parts) ? parts.filter((x) => typeof x?.text === 'string').map((x) => x.text as string) : []);
  const summary = from(p.summary);
  return (summary.length ? summary : from(p.content)).join('\n\n');
}

/** An output whose call is not in the history (cut off by a fork's base, say). */
function orphan(session: string, turn: number, time: unknown, p: Record<string, any>): ToolCallItem {
  return {
    kind: 'tool_call',
    session,
    turn,
    time: typeof time === 'string' ? time : null,
    call_id: typeof p.call_id === 'string' ? p.call_id : null,
    tool: typeof p.name === 'string' ? p.name : 'unknown',
    command: null,
    input: null,
    cwd: null,
    output: null,
    omitted_chars: 0,
    exit_code: null,
    duration_ms: null,
  };
}

/**
 * Redaction, then truncation: a secret is masked before it could be cut into an unrecognizable half.
 * Every string of the item is masked, whatever its field, so that no format can show one that was
 * missed; an output is masked only as far as it can be shown (plus a margin for a secret across the cut).
 */
function finisher(opts: ItemOptions): (item: Item) => Item {
  if (!opts.redact) return (item) => cutOutput(item, opts.maxOutput);
  const margin = opts.maxOutput === null ? null : opts.maxOutput + REDACT_MARGIN;
  return (item) => cutOutput(redactDeep(cutOutput(item, margin)), opts.maxOutput);
}

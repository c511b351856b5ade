// What a "turn" is (spec 6.1): a real user message, not the context Codex injects dressed as one,
// nor an image a tool showed. The one definition the index (turn counts, titles), fork (where to
// cut) and export (grouping) all use, through TurnBoundaries.
import { isObject, type Envelope } from './record.js';

/** Injected fragments: a user message with any text part that opens and closes like one of these is context. */
const CONTEXT_MARKERS: Array<[open: string, close: string]> = [
  ['<environment_context>', '</environment_context>'],
  ['# agents.md instructions', '</instructions>'],
  ['<user_instructions>', '</user_instructions>'],
  ['<skill>', '</skill>'],
  ['<user_shell_command>', '</user_shell_command>'],
  ['<turn_aborted>', '</turn_aborted>'],
  ['<subagent_notification>', '</subagent_notification>'],
  ['<recommended_plugins>', '</recommended_plugins>'],
  ['<codex_internal_context', '</codex_internal_context>'],
  ['<goal_context>', '</goal_context>'],
  ['<hook_prompt', '</hook_prompt>'],
];

const LEGACY_WARNINGS = [
  'Warning: apply_patch was requested via ',
  'Warning: Your account was flagged for potentially high-risk cyber activity',
  'Warning: The maximum number of unified exec processes you can keep open is',
];

export function isContextualText(text: string): boolean {
  const t = text.trim();
  const lower = t.toLowerCase();
  if (CONTEXT_MARKERS.some(([open, close]) => lower.startsWith(open) && lower.endsWith(close))) return true;
  if (/^<external_[a-z0-9_-]*[\s>]/.test(lower) && /<\/external_[a-z0-9_-]*>$/.test(lower)) return true;
  return LEGACY_WARNINGS.some((w) => t.startsWith(w));
}

type Part = { type?: string; text?: string; image_url?: string };

/** The content parts of a message item (a `response_item` payload or a bare item). */
function parts(item: Record<string, any>): Part[] {
  return Array.isArray(item.content) ? item.content.filter(isObject) : [];
}

/** The text parts Codex wraps an attached image in (`<image name=[Image #1] path="a.png">`, `</image>`): not what the user said. */
const IMAGE_TAG = /^\s*(?:<image(?:\s[^>]*)?>|<\/image>)\s*$/;

const isImage = (p: Part) => p.type === 'input_image' || p.type === 'image' || p.type === 'local_image';

/** The text of a message's parts, joined (image wrappers left out); images stand in as `[Image]` when there is no text. */
export function messageText(item: Record<string, any>): string {
  const ps = parts(item);
  const text = ps
    .filter((p) => typeof p.text === 'string' && !IMAGE_TAG.test(p.text))
    .map((p) => p.text)
    .join('\n');
  if (text.trim()) return text;
  return ps.some(isImage) ? '[Image]' : text;
}

/** A message of images alone (with their wrappers, if any). */
function imagesOnly(item: Record<string, any>): boolean {
  const ps = parts(item);
  return ps.some(isImage) && ps.every((p) => isImage(p) || (typeof p.text === 'string' && (IMAGE_TAG.test(p.text) || !p.text.trim())));
}

/**
 * The text of a real user turn when `item` (a response item) opens one, else null. Multi-agent
 * messages addressed to this agent open turns too.
 */
export function userTurnText(item: unknown): string | null {
  if (!isObject(item)) return null;
  if (item.type === 'agent_message') return '';
  if (item.type !== 'message' || item.role !== 'user') return null;
  if (parts(item).some((p) => typeof p.text === 'string' && isContextualText(p.text))) return null;
  return messageText(item);
}

/** A line's types, as peekType reads them without parsing (null: a shape it cannot read). */
export type LineKind = { type?: string; payloadType?: string } | null;

/** Tool results: before mid-2026, an image a tool showed (view_image) came back after one as a user message. */
const TOOL_OUTPUTS = new Set(['function_call_output', 'custom_tool_call_output', 'tool_search_output']);

/**
 * Whether a line is worth parsing to learn if it opens a turn: an inter-agent line, an agent
 * message, a message that carries the JSON string "user" (however the JSON is spaced), or a line
 * whose types could not be read. Every other line can only be noted (TurnBoundaries.see).
 */
export function mayOpenTurn(bytes: Buffer, kind: LineKind): boolean {
  if (!kind?.type) return true;
  if (kind.type === 'inter_agent_communication') return true;
  if (kind.type !== 'response_item') return false;
  const pt = kind.payloadType;
  return pt === undefined || pt === 'agent_message' || (pt === 'message' && bytes.includes('"user"'));
}

/**
 * Where user turns start, line by line, in history order (spec 6.1). One rule beyond Codex's own
 * count: a user message of images alone right after a tool's output is that tool's image (Codex
 * put view_image's result there, without a user_message event), part of the turn that called it.
 * Codex itself counts it as a boundary; a rollback across one can then drop one turn less here.
 */
export class TurnBoundaries {
  private afterToolOutput = false;

  /** Notes a line that was not parsed (it cannot open a turn: see mayOpenTurn). */
  see(kind: LineKind): void {
    if (kind?.type === 'response_item') this.afterToolOutput = TOOL_OUTPUTS.has(kind.payloadType ?? '');
    else if (kind?.type === 'event_msg' && (kind.payloadType === 'task_started' || kind.payloadType === 'user_message')) this.afterToolOutput = false;
  }

  /** Whether a parsed line opens a user turn (a real user message or an inter-agent message). */
  opens(env: Envelope): boolean {
    const p = env.payload;
    const payloadType = isObject(p) && typeof p.type === 'string' ? p.type : undefined;
    const afterToolOutput = this.afterToolOutput;
    this.see({ type: env.type, payloadType });
    if (env.type === 'inter_agent_communication') return true;
    if (env.type !== 'response_item' || userTurnText(p) === null) return false;
    return !(afterToolOutput && payloadType === 'message' && imagesOnly(p));
  }
}

/** `event_msg thread_rolled_back`: how many user turns it drops, else 0. */
export function rolledBack(env: Envelope): number {
  if (env.type !== 'event_msg' || env.payload?.type !== 'thread_rolled_back') return 0;
  const n = Number(env.payload.num_turns);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

const REQUEST_HEADER = '## My request for Codex:';

/** A title as Codex derives a preview: text after the old request header, trimmed. */
export function titleFrom(text: string): string {
  const at = text.indexOf(REQUEST_HEADER);
  return (at === -1 ? text : text.slice(at + REQUEST_HEADER.length)).trim();
}

/**
 * The user-visible text of a record that carries what the user typed: a `user_message` event
 * (legacy files), an `item_completed` UserMessage (paginated files), or a real user message item.
 * Null for anything else, and for injected context.
 */
export function userText(env: Envelope): string | null {
  const p = env.payload;
  if (!isObject(p)) return null;
  if (env.type === 'event_msg' && p.type === 'user_message' && typeof p.message === 'string') {
    if (p.kind && p.kind !== 'plain') return null;
    if (isContextualText(p.message)) return null;
    const images = (Array.isArray(p.images) && p.images.length) || (Array.isArray(p.local_images) && p.local_images.length);
    return p.message.trim() || !images ? p.message : '[Image]';
  }
  if (env.type === 'event_msg' && p.type === 'item_completed' && isObject(p.item) && p.item.type === 'UserMessage') {
    const text = messageText(p.item);
    return isContextualText(text) ? null : text;
  }
  if (env.type === 'response_item') {
    const text = userTurnText(p);
    return text === null || p.type !== 'message' ? null : text;
  }
  return null;
}

/**
 * A session's title, as Codex takes its first user message (spec 5 and 7.3): the first user-message
 * event (`user_message`, or a paginated `item_completed` UserMessage) with text once the old request
 * header is stripped (`[Image]` for images alone). Files that have no such events (the earliest
 * generations) are titled by their first real user message item. A rollback leaves it as it was,
 * as it leaves Codex's.
 */
export class TitleFinder {
  private fromEvent: string | null;
  private fromItem: string | null = null;

  /** `saved`: a title found earlier (an index carrying on where it stopped); it is final. */
  constructor(saved: string | null = null) {
    this.fromEvent = saved;
  }

  get title(): string | null {
    return this.fromEvent ?? this.fromItem;
  }

  /** Whether a user-message event could still give (or change) the title. */
  get open(): boolean {
    return this.fromEvent === null;
  }

  add(env: Envelope): void {
    if (!this.open) return;
    const text = userText(env);
    const title = text === null ? '' : titleFrom(text);
    if (!title) return;
    if (env.type === 'response_item') this.fromItem ??= title;
    else this.fromEvent = title;
  }
}

/**
 * Counts real user turns and finds the title as records stream by. What it keeps is two plain
 * values, so an index can save it and carry on when the file grows (a tool's image message right
 * at the point it carries on from would then count as a turn).
 */
export class TurnTally {
  private readonly boundaries = new TurnBoundaries();
  private readonly titles: TitleFinder;

  constructor(
    public turns = 0,
    title: string | null = null,
  ) {
    this.titles = new TitleFinder(title);
  }

  get title(): string | null {
    return this.titles.title;
  }

  /** Whether a user-message event is still worth parsing for the title. */
  get needsTitle(): boolean {
    return this.titles.open;
  }

  /** Notes a line that was not parsed (see TurnBoundaries.see). */
  see(kind: LineKind): void {
    this.boundaries.see(kind);
  }

  add(env: Envelope): void {
    if (this.boundaries.opens(env)) this.turns++;
    else {
      const n = rolledBack(env);
      if (n) this.turns = Math.max(0, this.turns - n);
    }
    this.titles.add(env);
  }
}

// What a "turn" is (spec 6.1): a real user message, not the context Codex injects dressed as one.
// Shared by the index (turn counts, titles), fork (where to cut) and export (grouping).
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

/** The text of a message's parts, joined; images stand in as `[Image]` when there is no text. */
export function messageText(item: Record<string, any>): string {
  const ps = parts(item);
  const text = ps
    .filter((p) => typeof p.text === 'string')
    .map((p) => p.text)
    .join('\n');
  if (text.trim()) return text;
  return ps.some((p) => p.type === 'input_image' || p.type === 'image') ? '[Image]' : text;
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

/** Whether an envelope line opens a user turn (a real user message or an inter-agent message). */
export function opensTurn(env: Envelope): boolean {
  if (env.type === 'response_item') return userTurnText(env.payload) !== null;
  return env.type === 'inter_agent_communication';
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
 * Counts real user turns and finds the title as records stream by. Its state is two plain values,
 * so an index can save it and carry on when the file grows.
 */
export class TurnTally {
  constructor(
    public turns = 0,
    public title: string | null = null,
  ) {}

  add(env: Envelope): void {
    if (opensTurn(env)) this.turns++;
    else {
      const n = rolledBack(env);
      if (n) this.turns = Math.max(0, this.turns - n);
    }
    if (this.title === null) {
      const text = userText(env);
      const title = text === null ? '' : titleFrom(text);
      if (title) this.title = title;
    }
  }
}

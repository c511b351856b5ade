// What each generation of Codex writes, where and record by record: the one description that the
// tests' sessions (fixtures.ts) and the bench's homes (bench/gen-home.ts) are both written from.
// Payloads are JSON text built from strings already escaped for JSON (`esc`), so that the bench
// can write gigabytes without a JSON.stringify per line, and the tests get the very same shapes.
import { join } from 'node:path';

export type Kind = '0' | 'A' | 'B' | 'C' | 'D' | 'E';
type Old = '0' | 'A' | 'B' | 'C';

/** A string's JSON escaping, without the quotes. */
export const esc = (s: string): string => JSON.stringify(s).slice(1, -1);
export const iso = (ms: number): string => new Date(ms).toISOString();
/** The time in a rollout's file name (Codex writes local digits; these homes use UTC's). */
export const stampOf = (ms: number): string => iso(ms).slice(0, 19).replace(/:/g, '-');

/** The folder a session of `kind` goes to: flat for the first three generations, dated since. */
export function dirFor(home: string, kind: Kind, ms: number, archived: boolean): string {
  if (archived) return join(home, 'archived_sessions');
  if (kind === '0' || kind === 'A' || kind === 'B') return join(home, 'sessions');
  const s = stampOf(ms);
  return join(home, 'sessions', s.slice(0, 4), s.slice(5, 7), s.slice(8, 10));
}

/** The file name of a session of `kind` (a revert's second id after `_`). */
export function fileName(kind: Kind, ms: number, id: string, rolloutId?: string): string {
  const s = stampOf(ms);
  if (kind === '0') return `rollout-${s.slice(0, 10)}-${id}.json`;
  if (kind === 'A') return `rollout-${s.slice(0, 10)}-${id}.jsonl`;
  return `rollout-${s}-${id}${rolloutId ? `_${rolloutId}` : ''}.jsonl`;
}

// ---- The bare generations (2025): a meta object, then bare items.

/** A message item as the 2025 CLIs wrote it. */
export const bareMessage = (role: 'user' | 'assistant', text: string, id: string | null = null) => ({
  type: 'message',
  id,
  role,
  content: [{ type: role === 'user' ? 'input_text' : 'output_text', text }],
});

/**
 * A bare-generation session's bytes: generation 0 one pretty-printed document `{session, items}`;
 * A, B and C a meta line, then an item a line, C with a state line after each answer.
 */
export function bareSession(kind: Old, meta: Record<string, unknown>, items: unknown[]): string {
  if (kind === '0') return JSON.stringify({ session: meta, items }, null, 2) + '\n';
  const lines = [JSON.stringify(meta)];
  for (const item of items) {
    lines.push(JSON.stringify(item));
    if (kind === 'C' && (item as { role?: string }).role === 'assistant') lines.push('{"record_type":"state"}');
  }
  return lines.join('\n') + '\n';
}

// ---- The envelope generations (D legacy, E paginated): a line, and each record's payload.

/** One envelope line: the canonical key order every reader's fast path expects. */
export const envelope = (ms: number, ordinal: number | null, type: string, payload: string, metadata?: string): string =>
  `{"timestamp":"${iso(ms)}",${ordinal === null ? '' : `"ordinal":${ordinal},`}"type":"${type}","payload":${payload}${metadata ? `,"metadata":${metadata}` : ''}}`;

export const taskStarted = (turnId: string, startedAt?: number): string =>
  `{"type":"task_started","turn_id":"${turnId}",${startedAt === undefined ? '' : `"started_at":${startedAt},`}"model_context_window":258400,"collaboration_mode_kind":"default"}`;

/** A message item; `texts` escaped; a user message may carry an image after them. */
export function message(role: 'user' | 'developer' | 'assistant', texts: string[], opts: { image?: string | null; phase?: string } = {}): string {
  const kind = role === 'assistant' ? 'output_text' : 'input_text';
  const parts = texts.map((t) => `{"type":"${kind}","text":"${t}"}`);
  if (opts.image) parts.push(`{"type":"input_image","image_url":"${opts.image}"}`);
  return `{"type":"message","role":"${role}","content":[${parts.join(',')}]${opts.phase ? `,"phase":"${opts.phase}"` : ''}}`;
}

/** The context Codex injects before the first turn: permissions, then AGENTS.md and the environment. */
export const permissions = (text: string): string => message('developer', [`<permissions instructions>\\n${text}\\n</permissions instructions>`]);
export const agentsAndEnvironment = (cwd: string, instructions: string, environment: string): string =>
  message('user', [
    `# AGENTS.md instructions for ${cwd}\\n\\n<INSTRUCTIONS>\\n${instructions}</INSTRUCTIONS>`,
    `<environment_context>\\n  <cwd>${cwd}</cwd>\\n${environment}</environment_context>`,
  ]);

export interface TurnContext {
  turnId: string;
  cwd: string;
  model: string;
  effort: string;
  /** The sandbox policy's JSON. */
  sandbox: string;
  /** `"current_date":…,"timezone":…,` when the Codex wrote them. */
  dateAndZone?: { date: string; timezone: string };
}

export const turnContext = (c: TurnContext): string =>
  `{"turn_id":"${c.turnId}","cwd":"${c.cwd}",${c.dateAndZone ? `"current_date":"${c.dateAndZone.date}","timezone":"${c.dateAndZone.timezone}",` : ''}"approval_policy":"on-request","sandbox_policy":${c.sandbox},"model":"${c.model}","effort":"${c.effort}","summary":"auto"}`;

/** What a user said, as the UI mirrors it: `user_message` (legacy) or an `item_completed` UserMessage (paginated). */
export function userEvent(
  paginated: boolean,
  ids: { thread: string; turn: string; item: string; completedAt?: number },
  text: string,
  image: string | null = null,
): string {
  if (paginated) {
    const img = image ? `,{"type":"image","image_url":"${image}"}` : '';
    return `{"type":"item_completed","thread_id":"${ids.thread}","turn_id":"${ids.turn}","item":{"type":"UserMessage","id":"${ids.item}","content":[{"type":"text","text":"${text}","text_elements":[]}${img}]}${ids.completedAt === undefined ? '' : `,"completed_at_ms":${ids.completedAt}`}}`;
  }
  return `{"type":"user_message","message":"${text}","images":[${image ? `"${image}"` : ''}],"local_images":[],"text_elements":[]}`;
}

/** What the agent answered, as the UI mirrors it. */
export function agentEvent(paginated: boolean, ids: { thread: string; turn: string; item: string }, text: string): string {
  if (paginated)
    return `{"type":"item_completed","thread_id":"${ids.thread}","turn_id":"${ids.turn}","item":{"type":"AgentMessage","id":"${ids.item}","content":[{"type":"Text","text":"${text}"}],"phase":"final_answer"}}`;
  return `{"type":"agent_message","message":"${text}","phase":"final_answer","memory_citation":null}`;
}

export const reasoning = (summary: string, encrypted: string): string =>
  `{"type":"reasoning","summary":[{"type":"summary_text","text":"${summary}"}],"content":null,"encrypted_content":"${encrypted}"}`;

/** A shell call (`arguments` escaped JSON) and its output, as Codex's exec_command tool writes them. */
export const functionCall = (callId: string, args: string): string =>
  `{"type":"function_call","name":"exec_command","arguments":"${args}","call_id":"${callId}"}`;
export const functionCallOutput = (callId: string, code: number, output: string, wall?: string): string =>
  `{"type":"function_call_output","call_id":"${callId}","output":"Process exited with code ${code}\\n${wall === undefined ? '' : `Wall time: ${wall} seconds\\n`}Output:\\n${output}"}`;

/** Cumulative token usage (the event Codex writes after each response). */
export function tokenCount(usage: { input: number; cached: number; output: number; reasoning: number; total: number }, withLast: boolean): string {
  const u = `{"input_tokens":${usage.input},"cached_input_tokens":${usage.cached},"output_tokens":${usage.output},"reasoning_output_tokens":${usage.reasoning},"total_tokens":${usage.total}}`;
  return `{"type":"token_count","info":{"total_token_usage":${u},"last_token_usage":${withLast ? u : 'null'},"model_context_window":258400},"rate_limits":null}`;
}

export const taskComplete = (turnId: string, last: string, durationMs?: number): string =>
  `{"type":"task_complete","turn_id":"${turnId}","last_agent_message":"${last}"${durationMs === undefined ? '' : `,"duration_ms":${durationMs}`}}`;

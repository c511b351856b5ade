// The normalized export model: what a session is (its facts) and the items of its transcript, the
// same for every generation of rollout. Every format renders this one model; the JSON Schema in
// schema.ts describes it, so a change here is a change there.

export const MODEL_VERSION = 2;

/** The `format` of a `--format json` document. */
export const FORMAT_NAME = 'rollout-export';

export interface TokenTotals {
  input: number;
  cached_input: number;
  output: number;
  reasoning_output: number;
  total: number;
}

/** The facts of one session, known before its first item is written. */
export interface SessionFacts {
  kind: 'session';
  session: string;
  /** Its first user message, as every binary titles a session (null when it has none). */
  title: string | null;
  /** The name given it (`codex` /rename, rollout-name), or null. */
  name: string | null;
  /** Where the rollout was read from: a path, or `<stdin>`. */
  file: string;
  generation: string | null;
  history_mode: 'legacy' | 'paginated';
  created: string | null;
  /** Time of the last record. */
  updated: string | null;
  cwd: string | null;
  git: { branch: string | null; commit: string | null; repository: string | null } | null;
  /** The model of the latest turn. */
  model: string | null;
  provider: string | null;
  cli_version: string | null;
  originator: string | null;
  source: unknown;
  forked_from: string | null;
  /** Turns in the effective history (after rollbacks), inherited ones included. */
  turns: number;
  /** Of those, turns that come from the ancestors a fork or revert references. */
  inherited_turns: number;
  rolled_back_turns: number;
  compactions: number;
  /** Cumulative usage from the last token count. */
  tokens: TokenTotals | null;
}

export type TurnStatus = 'completed' | 'failed' | 'aborted' | 'open' | 'unknown';

interface Base {
  session: string;
  /** 1-based turn number in the effective history; 0 before the first user turn. */
  turn: number;
  time: string | null;
}

/** What is known of a turn once it is over: the plan's facts and the exported item share it. */
export interface TurnOutcome {
  status: TurnStatus;
  duration_ms: number | null;
  error: string | null;
  model: string | null;
  cwd: string | null;
  inherited: boolean;
}

export interface TurnItem extends Base, TurnOutcome {
  kind: 'turn';
  turn_id: string | null;
}

export interface MessageItem extends Base {
  kind: 'message';
  role: 'user' | 'assistant' | 'developer' | 'system';
  /** `commentary` or `final_answer` for assistant messages that say so. */
  phase: string | null;
  text: string;
  images: number;
  /** Injected context (environment, AGENTS.md, permissions) or a developer/system message. */
  context: boolean;
}

export interface ReasoningItem extends Base {
  kind: 'reasoning';
  text: string;
}

export interface ToolCallItem extends Base {
  kind: 'tool_call';
  call_id: string | null;
  tool: string;
  /** The shell command, for shell tools. */
  command: string | null;
  /** The call's input as the model wrote it (JSON text for function tools, raw text for custom ones). */
  input: string | null;
  cwd: string | null;
  output: string | null;
  /** Characters of output left out by `--max-output`. */
  omitted_chars: number;
  exit_code: number | null;
  duration_ms: number | null;
}

export interface CompactionItem extends Base {
  kind: 'compaction';
  /** The summary that replaced the earlier history for the model ('' for a remote compaction). */
  summary: string;
  /** Items in the model's replacement history. */
  replaced_by: number | null;
}

export type Item = TurnItem | MessageItem | ReasoningItem | ToolCallItem | CompactionItem;

/** Cuts a tool call's output to `limit` characters, counting what is left out; other items pass. */
export function cutOutput(item: Item, limit: number | null): Item {
  if (item.kind === 'tool_call' && item.output !== null && limit !== null && item.output.length > limit) {
    item.omitted_chars += item.output.length - limit;
    item.output = item.output.slice(0, limit);
  }
  return item;
}

// ---------------------------------------------------------------------------------------------
// Reading response items: pure helpers shared by the passes.

const SHELLS = new Set(['bash', 'sh', 'zsh', 'dash', 'fish', '/bin/bash', '/bin/sh', '/bin/zsh', '/usr/bin/bash', '/usr/bin/zsh']);
const SHELL_TOOLS = new Set(['shell', 'exec_command', 'shell_command', 'container.exec', 'local_shell', 'unified_exec']);

/** The text of a message's content parts; images stand in as `[Image]`. */
export function contentText(content: unknown): { text: string; images: number } {
  if (typeof content === 'string') return { text: content, images: 0 };
  if (!Array.isArray(content)) return { text: '', images: 0 };
  const out: string[] = [];
  let images = 0;
  for (const part of content) {
    if (typeof part !== 'object' || part === null) continue;
    if (typeof part.text === 'string') out.push(part.text);
    else if (/image/.test(String(part.type))) {
      images++;
      out.push('[Image]');
    }
  }
  return { text: out.join('\n'), images };
}

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** A command given as argv, as one line a shell would run (`bash -lc SCRIPT` is just SCRIPT). */
export function commandLine(argv: unknown): string | null {
  if (typeof argv === 'string') return argv;
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) return null;
  if (argv.length === 3 && SHELLS.has(argv[0]!) && /^-l?c$/.test(argv[1]!)) return argv[2]!;
  return argv.map(quoteArg).join(' ');
}

/** The tool, command, input and working directory of a call item, or null when it is not one. */
export function describeCall(p: Record<string, any>): Pick<ToolCallItem, 'call_id' | 'tool' | 'command' | 'input' | 'cwd'> | null {
  const callId = typeof p.call_id === 'string' ? p.call_id : typeof p.id === 'string' ? p.id : null;
  switch (p.type) {
    case 'function_call': {
      const name = [p.namespace, p.name].filter((s) => typeof s === 'string' && s).join('.') || 'function';
      const input = typeof p.arguments === 'string' ? p.arguments : p.arguments === undefined ? null : JSON.stringify(p.arguments);
      let args: any = null;
      try {
        args = typeof p.arguments === 'string' ? JSON.parse(p.arguments) : p.arguments;
      } catch {
        // Arguments the model got wrong stay as text.
      }
      const shell = SHELL_TOOLS.has(p.name) && args && typeof args === 'object';
      return {
        call_id: callId,
        tool: name,
        command: shell ? commandLine(args.cmd ?? args.command) : null,
        input,
        cwd: shell && typeof (args.workdir ?? args.cwd) === 'string' ? (args.workdir ?? args.cwd) : null,
      };
    }
    case 'local_shell_call': {
      const a = p.action ?? {};
      return {
        call_id: callId,
        tool: 'local_shell',
        command: commandLine(a.command),
        input: JSON.stringify(a),
        cwd: typeof a.working_directory === 'string' ? a.working_directory : null,
      };
    }
    case 'custom_tool_call':
      return { call_id: callId, tool: String(p.name ?? 'custom_tool'), command: null, input: typeof p.input === 'string' ? p.input : null, cwd: null };
    case 'tool_search_call':
      return { call_id: callId, tool: 'tool_search', command: null, input: JSON.stringify(p.arguments ?? null), cwd: null };
    case 'web_search_call': {
      const a = p.action ?? {};
      const what = a.query ?? (Array.isArray(a.queries) ? a.queries.join(' | ') : undefined) ?? a.url ?? a.pattern;
      return { call_id: callId, tool: 'web_search', command: null, input: typeof what === 'string' ? what : JSON.stringify(a), cwd: null };
    }
    case 'image_generation_call':
      return { call_id: callId, tool: 'image_generation', command: null, input: typeof p.revised_prompt === 'string' ? p.revised_prompt : null, cwd: null };
    default:
      return null;
  }
}

export const OUTPUT_TYPES = new Set(['function_call_output', 'custom_tool_call_output', 'tool_search_output']);

/** Calls that never get an output record: complete as soon as they are seen. */
export const SELF_CONTAINED_CALLS = new Set(['web_search_call', 'image_generation_call']);

/** Output given as content parts (text and images), not as other JSON. */
export const isContent = (out: unknown): out is unknown[] =>
  Array.isArray(out) && out.some((x) => x && (typeof x.text === 'string' || /image/.test(String(x.type))));

/** The part of an output whose header lines readOutput reads. */
export const OUTPUT_HEAD = 400;

/** How the 2025 JSON wrapper of a shell output opens. */
export const WRAPPED_OUTPUT = '{"output":';

export interface OutputFacts {
  text: string;
  exit_code: number | null;
  duration_ms: number | null;
}

/**
 * The text of a call's output and what its header says. Current shells write `Wall time: X seconds`
 * and `Process exited with code N` above `Output:`; 2025 shells wrote a JSON object
 * `{"output", "metadata": {"exit_code", "duration_seconds"}}`.
 */
export function readOutput(p: Record<string, any>): OutputFacts {
  const out = p.output ?? p.tools;
  let text: string;
  if (typeof out === 'string') text = out;
  else if (isContent(out)) text = contentText(out).text;
  else text = out === undefined || out === null ? '' : JSON.stringify(out);
  const facts: OutputFacts = { text, exit_code: null, duration_ms: null };
  if (text.startsWith(WRAPPED_OUTPUT)) {
    try {
      const j = JSON.parse(text);
      if (typeof j.output === 'string') {
        facts.text = j.output;
        if (Number.isInteger(j.metadata?.exit_code)) facts.exit_code = j.metadata.exit_code;
        if (typeof j.metadata?.duration_seconds === 'number') facts.duration_ms = Math.round(j.metadata.duration_seconds * 1000);
      }
    } catch {
      // Not the old wrapper after all.
    }
    return facts;
  }
  const head = text.slice(0, OUTPUT_HEAD);
  const exit = /^Process exited with code (-?\d+)$/m.exec(head);
  if (exit) facts.exit_code = Number(exit[1]);
  const wall = /^Wall time: ([\d.]+) seconds$/m.exec(head);
  if (wall) facts.duration_ms = Math.round(Number(wall[1]) * 1000);
  return facts;
}

/** `file:///a%20b` to `/a b`; a plain path stays as it is. */
export function pathOfUrl(u: unknown): string | null {
  if (typeof u !== 'string') return null;
  if (!u.startsWith('file://')) return u;
  try {
    return decodeURIComponent(new URL(u).pathname);
  } catch {
    return u;
  }
}

/** A `{secs, nanos}` duration (Rust's), or milliseconds, as milliseconds. */
export function durationMs(d: unknown): number | null {
  if (typeof d === 'number' && Number.isFinite(d)) return Math.round(d);
  if (d && typeof d === 'object') {
    const { secs, nanos } = d as { secs?: unknown; nanos?: unknown };
    if (typeof secs === 'number') return Math.round(secs * 1000 + (typeof nanos === 'number' ? nanos / 1e6 : 0));
  }
  return null;
}

export function tokenTotals(u: unknown): TokenTotals | null {
  if (!u || typeof u !== 'object') return null;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const t = u as Record<string, unknown>;
  return {
    input: n(t.input_tokens),
    cached_input: n(t.cached_input_tokens),
    output: n(t.output_tokens),
    reasoning_output: n(t.reasoning_output_tokens),
    total: n(t.total_tokens),
  };
}

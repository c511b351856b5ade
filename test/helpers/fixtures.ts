// Test fixtures: sessions of every generation, written into throwaway CODEX_HOMEs, shaped exactly as
// the spec (sections 2, 3 and 12) says Codex writes them. Also: running the built binaries.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  agentEvent,
  agentsAndEnvironment,
  bareMessage,
  bareSession,
  dirFor,
  envelope,
  esc,
  fileName,
  functionCall,
  functionCallOutput,
  iso,
  message,
  permissions,
  reasoning,
  taskComplete,
  taskStarted,
  tokenCount,
  turnContext,
  userEvent,
} from './generations.js';

// The repository root, whether this runs from test/ (tap) or compiled from dist/test/.
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..').replace(/\/dist$/, '');

/** A fresh empty directory, removed when `t` ends. */
export function tmpDir(t: { teardown(fn: () => void): void }, prefix = 'rollout-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A UUIDv7 whose time part is `ms` (ids sort by creation time, as Codex's do). */
export function uuidv7(ms = Date.now()): string {
  const hex = ms.toString(16).padStart(12, '0');
  const rand = randomUUID().replace(/-/g, '');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${rand.slice(13, 16)}-${((parseInt(rand[16], 16) & 3) | 8).toString(16)}${rand.slice(17, 20)}-${rand.slice(20, 32)}`;
}

export interface Turn {
  user: string;
  assistant?: string;
  /** A shell call in the turn: the command and its output. */
  tool?: { cmd: string; output: string };
  /** Leave the turn open (no task_complete): the session is mid-turn. */
  open?: boolean;
  turnId?: string;
}

export interface SessionSpec {
  id?: string;
  /** Session start; also the file name's time (written as UTC here, so names are predictable). */
  start?: Date;
  cwd?: string;
  history?: 'legacy' | 'paginated';
  source?: unknown;
  originator?: string;
  provider?: string;
  model?: string;
  effort?: string;
  git?: { commit_hash?: string; branch?: string; repository_url?: string };
  turns?: Turn[];
  /** Extra session_meta fields (forked_from_id, history_base, ...). */
  meta?: Record<string, unknown>;
  /** Skip the injected context messages at the start of the first turn. */
  noContext?: boolean;
  /** First ordinal (a referenced fork continues its parent's). */
  firstOrdinal?: number;
}

/** The lines of a generation D (legacy) or E (paginated) session. */
export function sessionLines(spec: SessionSpec = {}): { id: string; lines: string[] } {
  const start = spec.start ?? new Date('2026-08-20T14:03:07.391Z');
  const id = spec.id ?? uuidv7(start.getTime());
  const paginated = spec.history === 'paginated';
  const cwd = spec.cwd ?? '/home/ana/src/shop';
  let clock = start.getTime() + 1000;
  let ordinal = spec.firstOrdinal ?? 0;
  const lines: string[] = [];
  const push = (type: string, payload: string) => lines.push(envelope((clock += 7), paginated ? ordinal++ : null, type, payload));
  push(
    'session_meta',
    JSON.stringify({
      session_id: id,
      id,
      ...spec.meta,
      timestamp: iso(start.getTime()),
      cwd,
      originator: spec.originator ?? (paginated ? 'codex_exec' : 'codex_cli_rs'),
      cli_version: paginated ? '0.169.0' : '0.146.0',
      source: spec.source ?? (paginated ? 'exec' : 'cli'),
      model_provider: spec.provider ?? 'openai',
      base_instructions: { text: 'You are Codex, a coding agent.' },
      history_mode: paginated ? 'paginated' : 'legacy',
      ...(spec.git ? { git: spec.git } : {}),
    }),
  );
  let tokens = 0;
  (spec.turns ?? []).forEach((turn, n) => {
    const turnId = turn.turnId ?? uuidv7(clock);
    push('event_msg', taskStarted(turnId));
    if (n === 0 && !spec.noContext) {
      push('response_item', permissions('sandboxed'));
      push('response_item', agentsAndEnvironment(esc(cwd), 'be brief\\n', ''));
    }
    push(
      'turn_context',
      turnContext({ turnId, cwd: esc(cwd), sandbox: '{"type":"read-only"}', model: esc(spec.model ?? 'gpt-5.5'), effort: esc(spec.effort ?? 'medium') }),
    );
    const said = esc(turn.user);
    push('response_item', message('user', [said]));
    push('event_msg', userEvent(paginated, { thread: id, turn: turnId, item: paginated ? uuidv7(clock) : '' }, said));
    if (turn.tool) {
      const callId = `call_${n}_${randomUUID().slice(0, 8)}`;
      push('response_item', reasoning(esc(`**Running ${turn.tool.cmd}**`), 'gAAAA'));
      push('response_item', functionCall(callId, esc(JSON.stringify({ cmd: turn.tool.cmd, workdir: cwd }))));
      push('response_item', functionCallOutput(callId, 0, esc(turn.tool.output)));
    }
    if (turn.open) return;
    const answer = esc(turn.assistant ?? `Answer to: ${turn.user}`);
    push('response_item', message('assistant', [answer], { phase: 'final_answer' }));
    push('event_msg', agentEvent(paginated, { thread: id, turn: turnId, item: paginated ? uuidv7(clock) : '' }, answer));
    tokens += 1000 + n;
    push('event_msg', tokenCount({ input: tokens - 100, cached: 0, output: 100, reasoning: 0, total: tokens }, false));
    push('event_msg', taskComplete(turnId, answer));
  });
  return { id, lines };
}

export interface WriteOptions {
  root?: 'sessions' | 'archived_sessions';
  /** Also (or only, with `only`) write a `.jsonl.zst`, compressed by the real zstd. */
  zst?: boolean | 'only';
  /** Second part of a `<thread>_<rollout>` revision name. */
  rolloutId?: string;
  /** File mtime (defaults to now). */
  mtime?: Date;
  /** Bytes to put verbatim in place of the joined lines. */
  raw?: Buffer;
}

/** Writes a session into `home` where Codex would; returns its path (the plain one if written). */
export function writeSession(home: string, spec: SessionSpec, opts: WriteOptions = {}): { id: string; path: string; lines: string[] } {
  const start = spec.start ?? new Date('2026-08-20T14:03:07.391Z');
  const { id, lines } = sessionLines({ ...spec, start });
  const kind = spec.history === 'paginated' ? 'E' : 'D';
  const path = join(dirFor(home, kind, start.getTime(), opts.root === 'archived_sessions'), fileName(kind, start.getTime(), id, opts.rolloutId));
  const bytes = opts.raw ?? Buffer.from(lines.map((l) => l + '\n').join(''));
  writeFile(path, bytes, opts.zst === 'only' ? null : bytes, opts);
  return { id, path, lines };
}

/** A written session: its lines, and for a referenced fork its full history as Codex reads it. */
export interface Written {
  id: string;
  path: string;
  lines: string[];
  /** The ancestors' prefixes, then the lines after the head (spec 2.9); only for a referenced fork. */
  history?: string[];
}

/**
 * A referenced fork as Codex 0.169 writes one (spec 12.2): its `history_base` cuts `parent`'s file
 * before the parent's line `end` (that line's byte offset, and the ordinal after the last kept
 * line), and its own lines continue the ordinals from there. `spec` gives its turns (no injected
 * context by default), `opts` where and how it is written (a revision of the parent's thread: `spec.id`
 * the parent's and `opts.rolloutId`).
 */
export function writeReferencedFork(
  home: string,
  parent: Written,
  end: number,
  spec: SessionSpec = {},
  opts: WriteOptions = {},
): Written & { endByte: number } {
  const endOrdinal = (JSON.parse(parent.lines[end - 1]) as { ordinal: number }).ordinal + 1;
  const endByte = Buffer.byteLength(
    parent.lines
      .slice(0, end)
      .map((l) => l + '\n')
      .join(''),
  );
  const rolloutId = /([0-9a-f-]{36})(?:_([0-9a-f-]{36}))?\.jsonl$/.exec(parent.path)!;
  const base = { thread_id: rolloutId[2] ?? rolloutId[1], end_ordinal_exclusive: endOrdinal, end_byte_offset: endByte };
  const child = writeSession(
    home,
    {
      noContext: true,
      ...spec,
      history: 'paginated',
      firstOrdinal: endOrdinal,
      meta: { forked_from_id: parent.id, forked_from_ordinal_exclusive: endOrdinal, history_base: base, ...spec.meta },
    },
    opts,
  );
  // The parent's own history, cut where its file is: its lines after `end` are the last of it.
  const inherited = parent.history ? parent.history.slice(0, parent.history.length - (parent.lines.length - end)) : parent.lines.slice(0, end);
  return { ...child, endByte, history: [...inherited, ...child.lines.slice(1)] };
}

function writeFile(path: string, bytes: Buffer, plain: Buffer | null, opts: WriteOptions) {
  mkdirSync(dirname(path), { recursive: true });
  if (plain) writeFileSync(path, plain);
  if (opts.zst) writeFileSync(`${path}.zst`, zstd(bytes));
  const when = opts.mtime ?? null;
  if (when) {
    if (plain) utimesSync(path, when, when);
    if (opts.zst) utimesSync(`${path}.zst`, when, when);
  }
}

/** Writes raw bytes at a path under `home` (for hand-made and broken files). */
export function writeRaw(home: string, rel: string, bytes: Buffer | string): string {
  const path = join(home, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}

/** zstd level 3 through the real `zstd` command; `frames` > 1 splits the input into that many frames. */
export function zstd(bytes: Buffer, frames = 1): Buffer {
  if (frames === 1) return run1('zstd', ['-3', '-q', '-c'], bytes);
  const size = Math.ceil(bytes.length / frames);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(run1('zstd', ['-3', '-q', '-c'], bytes.subarray(i, i + size)));
  return Buffer.concat(out);
}

/** A skippable zstd frame (ignored by decoders) holding `payload`. */
export function skippableFrame(payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0x184d2a50, 0);
  head.writeUInt32LE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

function run1(cmd: string, args: string[], input: Buffer): Buffer {
  const r = spawnSync(cmd, args, { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** Generation A/B/C: a bare meta line, then bare response items (and C's record_type state lines). */
export function bareLines(gen: 'A' | 'B' | 'C', id: string, items: string[]): string[] {
  const meta: Record<string, unknown> = { id, timestamp: '2025-08-01T10:00:00.000Z', instructions: null };
  if (gen === 'C') meta.git = { commit_hash: 'abc123', branch: 'main' };
  const messages = items.map((text, i) => bareMessage(i % 2 ? 'assistant' : 'user', text));
  return bareSession(gen, meta, messages).trimEnd().split('\n');
}

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  out: string;
  err: string;
}

/**
 * Environment for binaries under test: without NODE_EXTRA_CA_CERTS, which some machines set to the
 * whole system CA bundle and Node then parses at every start (half of a short run's time). The
 * binaries make no TLS connection.
 */
export const QUICK_START = { NODE_EXTRA_CA_CERTS: undefined } as const;

/** Runs a built binary (`dist/cmd/<bin>.js`) as a real subprocess. */
export function run(bin: string, args: string[], opts: { input?: Buffer | string; env?: Record<string, string | undefined>; cwd?: string } = {}): RunResult {
  const r = spawnSync(process.execPath, [join(REPO, 'dist/cmd', `${bin}.js`), ...args], {
    input: opts.input ?? '',
    cwd: opts.cwd,
    env: { ...process.env, ...QUICK_START, NO_COLOR: '1', ...opts.env },
    maxBuffer: 1 << 30,
  });
  return { code: r.status, stdout: r.stdout, out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8') };
}

/** NDJSON text to values. */
export const ndjson = (text: string): any[] =>
  text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

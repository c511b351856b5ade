// A synthetic CODEX_HOME for the benchmark and the demo: deterministic (seeded), shaped like what
// Codex writes (spec sections 2, 3 and 12), at any scale. Files are streamed to disk in blocks of
// about a megabyte, so a session of a gigabyte never exists as one string.
//
// The home holds every generation (a few gen-0 `.json` and bare A/B/C files, then legacy D and
// paginated E files), a log-normal spread of sizes whose big sessions are many turns of long tool
// output with the odd megabyte-sized base64 screenshot, a quarter of the envelope files compressed
// by the real `zstd` (level 3), some archived, copied legacy forks, referenced paginated forks and
// reverts (with exact `history_base` byte offsets and ordinals), and names in session_index.jsonl.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, rmSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import {
  agentEvent,
  agentsAndEnvironment,
  bareMessage,
  bareSession,
  dirFor,
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
  turnContext,
  userEvent,
  type Kind,
} from '../test/helpers/generations.js';

export const GENERATOR_VERSION = 2;
const KB = 1024;
const MB = 1024 * KB;
const DAY = 86_400_000;

/** Files are dated up to this instant; a fixed anchor keeps every byte reproducible. */
export const ANCHOR = Date.parse('2026-11-15T18:00:00.000Z');

// ---------------------------------------------------------------------------------------------
// Randomness: mulberry32, seeded, so a given seed and scale always write the same bytes.

export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** Standard normal (Box-Muller). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }
  hex(n: number): string {
    let s = '';
    while (s.length < n)
      s += Math.floor(this.next() * 0x100000000)
        .toString(16)
        .padStart(8, '0');
    return s.slice(0, n);
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

const uuidOf = (h: string) => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;

/** UUIDv7 (Codex since 2025-09-18) with the time part `ms`. */
function uuidv7(rng: Rng, ms: number): string {
  const r = rng.hex(20);
  const variant = ((parseInt(r[3]!, 16) & 3) | 8).toString(16);
  return uuidOf(`${ms.toString(16).padStart(12, '0')}7${r.slice(0, 3)}${variant}${r.slice(4, 19)}`);
}

/** UUIDv4 (Codex before 2025-09-18). */
function uuidv4(rng: Rng): string {
  const r = rng.hex(32);
  const variant = ((parseInt(r[16]!, 16) & 3) | 8).toString(16);
  return uuidOf(`${r.slice(0, 12)}4${r.slice(13, 16)}${variant}${r.slice(17, 32)}`);
}

const V7_SINCE = Date.parse('2025-09-18T00:00:00Z');
const newId = (rng: Rng, ms: number) => (ms >= V7_SINCE ? uuidv7(rng, ms) : uuidv4(rng));

/** The file-name stamp; written as UTC (as if the machine's zone were UTC) so names are predictable. */
/** A JSON string literal's inside. */

// ---------------------------------------------------------------------------------------------
// Text. Pools are built once per run; long texts are slices of them, cut at line starts so an
// escaped pool slice is always a valid JSON string body.

const WORDS = (
  'cart basket price checkout order invoice customer session token cache queue worker retry timeout ' +
  'parser lexer schema migration index query cursor page limit offset stream buffer chunk frame ' +
  'render layout button modal form input field validation error warning test fixture mock spec ' +
  'build bundle config env secret deploy release branch commit merge rebase diff patch hunk ' +
  'logger metric trace span latency throughput memory leak handle socket request response header ' +
  'router middleware handler controller service repository model entity record column table row'
).split(' ');
const MODULES = ['cart', 'auth', 'api', 'db', 'ui', 'billing', 'search', 'jobs', 'core', 'utils'];
const PROJECTS = ['shop', 'billing-service', 'infra', 'blog', 'ml-pipeline', 'mobile-app', 'dotfiles', 'compiler', 'docs', 'scraper', 'game', 'cli-tools'];
const USERS = ['ana', 'ben', 'chloe'];
const MODELS = ['gpt-5.1-codex', 'gpt-5.2-codex', 'gpt-5.3-codex', 'gpt-5.5'];
const EFFORTS = ['low', 'medium', 'medium', 'high', 'xhigh'];
const COMMANDS = [
  'npm test',
  'npm run build',
  'git status',
  'git diff',
  'rg -n TODO src',
  'ls -la',
  'pytest -q',
  'cargo test',
  'make',
  'tsc --noEmit',
  'sed -n 1,200p src/index.ts',
  'cat package.json',
];
/** A few sessions mention this, and nothing else does: a search with a known answer. */
export const RARE_TERM = 'zebrafish';
/** Most sessions mention this somewhere in their conversation. */
export const COMMON_TERM = 'checkout';

function sentence(rng: Rng, n = rng.int(5, 14)): string {
  const w: string[] = [];
  for (let i = 0; i < n; i++) w.push(rng.pick(WORDS));
  const s = w.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1) + '.';
}

function prose(rng: Rng, sentences: number): string {
  const out: string[] = [];
  for (let i = 0; i < sentences; i++) out.push(sentence(rng));
  return out.join(' ');
}

function logLine(rng: Rng, cwd: string): string {
  const mod = rng.pick(MODULES);
  const file = rng.pick(WORDS);
  switch (rng.int(0, 9)) {
    case 0:
      return `PASS src/${mod}/${file}.test.ts (${rng.int(3, 900)} ms)`;
    case 1:
      return `  ✓ ${sentence(rng).slice(0, -1).toLowerCase()} (${rng.int(1, 90)} ms)`;
    case 2:
      return `    at ${rng.pick(WORDS)}${rng.pick(['Handler', 'Service', 'Parser'])}.${rng.pick(WORDS)} (${cwd}/src/${mod}/${file}.ts:${rng.int(1, 900)}:${rng.int(1, 80)})`;
    case 3:
      return `src/${mod}/${file}.ts(${rng.int(1, 900)},${rng.int(1, 80)}): error TS${rng.int(2000, 2800)}: Type '${rng.pick(WORDS)}' is not assignable to type "${rng.pick(WORDS)}".`;
    case 4:
      return `${rng.pick(['+', '-', ' '])}  const ${rng.pick(WORDS)} = ${rng.pick(WORDS)}(${rng.pick(WORDS)}, ${rng.int(0, 99)});`;
    case 5:
      return `@@ -${rng.int(1, 500)},${rng.int(3, 12)} +${rng.int(1, 500)},${rng.int(3, 12)} @@ export function ${rng.pick(WORDS)}() {`;
    case 6:
      return `-rw-r--r--  1 ana ana ${String(rng.int(100, 99999)).padStart(6)} Nov ${rng.int(1, 28)} ${rng.int(10, 23)}:${rng.int(10, 59)} ${file}.ts`;
    case 7:
      return `{"level":"${rng.pick(['info', 'warn', 'debug'])}","msg":"${sentence(rng)}","ts":${1763000000 + rng.int(0, 9999999)}}`;
    case 8:
      return `npm WARN deprecated ${rng.pick(WORDS)}@${rng.int(1, 9)}.${rng.int(0, 20)}.${rng.int(0, 9)}: ${sentence(rng)}`;
    default:
      return `${sentence(rng)} — naïve café ${rng.int(0, 999)}`;
  }
}

class TextPool {
  /** Escaped text (newlines as `\n`), and where each of its lines starts. */
  private readonly text: string;
  private readonly starts: number[];

  constructor(rng: Rng, bytes: number, line: (rng: Rng) => string) {
    const parts: string[] = [];
    this.starts = [];
    let at = 0;
    while (at < bytes) {
      const l = esc(line(rng) + '\n');
      this.starts.push(at);
      parts.push(l);
      at += l.length;
    }
    this.text = parts.join('');
  }

  /** About `chars` characters of escaped text, starting at a random line. */
  slice(rng: Rng, chars: number): string {
    const out: string[] = [];
    let left = chars;
    while (left > 0) {
      const i = rng.int(0, this.starts.length - 1);
      const from = this.starts[i]!;
      let j = i;
      while (j < this.starts.length && this.starts[j]! - from < left) j++;
      const to = j < this.starts.length ? this.starts[j]! : this.text.length;
      out.push(this.text.slice(from, to));
      left -= to - from;
    }
    return out.join('');
  }
}

interface Pools {
  log: TextPool;
  prose: TextPool;
  base64: string;
  instructions: string;
  shortInstructions: string;
}

function makePools(rng: Rng): Pools {
  const b64 = Buffer.allocUnsafe(1536 * KB);
  for (let i = 0; i < b64.length; i += 4) b64.writeUInt32LE(Math.floor(rng.next() * 0x100000000), i);
  return {
    log: new TextPool(rng, 1 * MB, (r) => logLine(r, `/home/${r.pick(USERS)}/src/${r.pick(PROJECTS)}`)),
    prose: new TextPool(rng, 256 * KB, (r) => prose(r, r.int(1, 4))),
    base64: b64.toString('base64'),
    // Every 0.169 session_meta carries about 22 KB of base instructions (spec 12.1).
    instructions: esc(`You are Codex, a coding agent based on GPT-5. ${prose(rng, 260)}`).slice(0, 22 * KB),
    shortInstructions: esc(`You are Codex, a coding agent. ${prose(rng, 110)}`).slice(0, 9 * KB),
  };
}

// ---------------------------------------------------------------------------------------------
// Writing.

/** Lines to a file descriptor in blocks; counts bytes exactly (offsets for history_base). */
class LineWriter {
  private parts: string[] = [];
  private pending = 0;
  bytes = 0;
  lines = 0;

  constructor(private readonly fd: number) {}

  line(s: string): void {
    this.parts.push(s);
    this.pending += s.length;
    this.bytes += Buffer.byteLength(s) + 1;
    this.lines++;
    if (this.pending >= MB) this.flush();
  }

  /** Bytes copied verbatim (a copied fork's inherited lines). */
  raw(buf: Buffer, lines: number): void {
    this.flush();
    writeSync(this.fd, buf);
    this.bytes += buf.length;
    this.lines += lines;
  }

  flush(): void {
    if (!this.parts.length) return;
    this.parts.push('');
    writeSync(this.fd, this.parts.join('\n'));
    this.parts = [];
    this.pending = 0;
  }
}

/** Where a turn ends: a valid fork or revert cut (ordinal null in legacy files). */
interface Cut {
  byte: number;
  ordinal: number | null;
}

class Rollout {
  ordinal: number | null;
  cuts: Cut[] = [];

  constructor(
    readonly w: LineWriter,
    public clock: number,
    readonly rng: Rng,
    firstOrdinal: number | null,
  ) {
    this.ordinal = firstOrdinal;
  }

  push(type: string, payload: string, metadata?: string): void {
    this.clock += this.rng.int(1, 40);
    const ord = this.ordinal === null ? '' : `"ordinal":${this.ordinal++},`;
    this.w.line(`{"timestamp":"${iso(this.clock)}",${ord}"type":"${type}","payload":${payload}${metadata ? `,"metadata":${metadata}` : ''}}`);
  }

  get paginated(): boolean {
    return this.ordinal !== null;
  }
}

interface Ctx {
  id: string;
  cwd: string;
  model: string;
  effort: string;
  pools: Pools;
  /** Probability that a turn carries a screenshot. */
  imageRate: number;
  /** Set on the first turn only when the session is the search's rare hit. */
  rare: boolean;
  /** The thread's running usage so far (`total_token_usage`), and the responses that made it. */
  tokens: Usage;
  responses: number;
  tools: Tools;
  turns: number;
  firstUser: string | null;
}

/** The tool calls a file's own lines make (history copied from a parent not included), for tests to check counts against. */
export interface Tools {
  calls: number;
  /** Calls whose command exited with another code than 0. */
  failed: number;
  /** Calls by the UTC day of their record. */
  byDay: Record<string, number>;
}

const noTools = (): Tools => ({ calls: 0, failed: 0, byDay: {} });

function countCall(t: Tools, day: string, code: number): void {
  t.calls++;
  if (code !== 0) t.failed++;
  t.byDay[day] = (t.byDay[day] ?? 0) + 1;
}

/** A response's usage, or a sum of them, as Codex's TokenUsage. */
export interface Usage {
  input: number;
  cached: number;
  output: number;
  reasoning: number;
}

const usageJson = (u: Usage): string =>
  `{"input_tokens":${u.input},"cached_input_tokens":${u.cached},"output_tokens":${u.output},"reasoning_output_tokens":${u.reasoning},"total_tokens":${u.input + u.output}}`;

function userPrompt(rng: Rng, ctx: Ctx): string {
  const mod = rng.pick(MODULES);
  const w = () => rng.pick(WORDS);
  const base = rng.pick([
    `Why does \`${rng.pick(COMMANDS)}\` fail in src/${mod}?`,
    `Refactor the ${w()} ${w()} in src/${mod} to use a ${w()} ${w()}.`,
    `Add tests for the ${w()} ${w()} around ${COMMON_TERM}.`,
    `The ${COMMON_TERM} page shows the wrong ${w()}: find out why and fix it.`,
    `Explain how ${w()} and ${w()} interact in src/${mod}/${w()}.ts`,
    `Review my last commit on the ${w()} branch.`,
  ]);
  return ctx.rare && ctx.turns === 0 ? `${base} The ${RARE_TERM} fixture is involved.` : base;
}

/** One complete turn, as the spec's examples lay it out (2.10 legacy, 2.11 and 12.1 paginated). */
function writeTurn(r: Rollout, ctx: Ctx): void {
  const { rng, pools } = { rng: r.rng, pools: ctx.pools };
  const turnId = uuidv7(rng, r.clock);
  const first = ctx.turns === 0;
  const user = userPrompt(rng, ctx);
  ctx.firstUser ??= user;
  const meta = r.paginated ? () => `{"history_sequence":${r.ordinal},"client_authored":false}` : () => undefined;
  r.clock += rng.int(20_000, 900_000);

  r.push('event_msg', taskStarted(turnId, Math.floor(r.clock / 1000)));
  if (first) {
    r.push('response_item', permissions('Filesystem sandboxing: workspace-write. Network access is restricted.'), meta());
    r.push('response_item', agentsAndEnvironment(esc(ctx.cwd), pools.prose.slice(rng, 600), '  <shell>bash</shell>\\n'), meta());
  }
  r.push(
    'turn_context',
    turnContext({
      turnId,
      cwd: esc(ctx.cwd),
      dateAndZone: { date: iso(r.clock).slice(0, 10), timezone: 'Europe/Berlin' },
      sandbox: '{"type":"workspace-write","network_access":false,"exclude_tmpdir_env_var":false,"exclude_slash_tmp":false}',
      model: ctx.model,
      effort: ctx.effort,
    }),
  );

  const image = rng.chance(ctx.imageRate) ? imageUrl(rng, pools) : null;
  const text = esc(user);
  r.push('response_item', message('user', [text], { image }), meta());
  const itemId = r.paginated ? uuidv7(rng, r.clock) : '';
  r.push('event_msg', userEvent(r.paginated, { thread: ctx.id, turn: turnId, item: itemId, completedAt: r.clock }, text, image));

  // Tool calls: most turns run a command or two; outputs are log-normal, truncated as Codex does.
  const calls = rng.chance(0.75) ? rng.int(1, 3) : 0;
  for (let c = 0; c < calls; c++) {
    const cmd = rng.pick(COMMANDS);
    const callId = `call_${rng.hex(24)}`;
    const summary = esc(`**Running ${cmd}**`);
    r.push('response_item', reasoning(summary, `gAAAAB${pools.base64.slice(rng.int(0, 1000) * 4, rng.int(1001, 1400) * 4)}`), meta());
    if (r.paginated)
      r.push(
        'event_msg',
        `{"type":"item_completed","thread_id":"${ctx.id}","turn_id":"${turnId}","item":{"type":"Reasoning","id":"rs_${rng.hex(16)}","summary_text":["${summary}"],"raw_content":[]}}`,
      );
    else r.push('event_msg', `{"type":"agent_reasoning","text":"${summary}"}`);
    r.push('response_item', functionCall(callId, esc(JSON.stringify({ cmd, workdir: ctx.cwd }))), meta());
    const day = iso(r.clock).slice(0, 10);
    const size = Math.min(41 * KB, Math.round(Math.exp(7.6 + 1.4 * rng.normal())));
    const output = pools.log.slice(rng, size);
    const code = rng.chance(0.8) ? 0 : 1;
    countCall(ctx.tools, day, code);
    r.clock += rng.int(200, 30_000);
    r.push('response_item', functionCallOutput(callId, code, output, `${rng.int(1, 90)}.${rng.int(0, 9)}`), meta());
    if (r.paginated) {
      r.push(
        'event_msg',
        `{"type":"item_completed","thread_id":"${ctx.id}","turn_id":"${turnId}","item":{"type":"CommandExecution","id":"${callId}","command":"${esc(cmd)}","cwd":"file://${esc(ctx.cwd)}","status":"completed","aggregated_output":"${output}","exit_code":${code}}}`,
      );
    }
    tokenLines(r, ctx, turnId);
  }

  const answer = pools.prose.slice(rng, Math.round(Math.exp(6.3 + 0.9 * rng.normal())));
  r.push('response_item', message('assistant', [answer], { phase: 'final_answer' }), meta());
  r.push('event_msg', agentEvent(r.paginated, { thread: ctx.id, turn: turnId, item: r.paginated ? `msg_${rng.hex(16)}` : '' }, answer));
  tokenLines(r, ctx, turnId);
  r.push('event_msg', taskComplete(turnId, answer.slice(0, 200).replace(/\\+$/, ''), rng.int(2000, 300_000)));
  ctx.turns++;
  r.cuts.push({ byte: r.w.bytes, ordinal: r.ordinal });

  // Long sessions get compacted now and then.
  if (ctx.turns % 150 === 0) {
    r.push(
      'compacted',
      `{"message":"${pools.prose.slice(rng, 1500)}","replacement_history":[{"type":"message","role":"user","content":[{"type":"input_text","text":"${esc(ctx.firstUser)}"}]}]}`,
    );
    if (!r.paginated) r.push('event_msg', '{"type":"context_compacted"}');
  }
}

/**
 * One model response's usage lines, as Codex writes them: a per-response record (paginated), then a
 * token_count with the running sum and the response's own usage; a legacy file sometimes repeats
 * the event unchanged, as Codex does at a turn's end or with new rate limits.
 */
function tokenLines(r: Rollout, ctx: Ctx, turnId: string): void {
  const input = r.rng.int(6000, 60_000);
  const output = r.rng.int(80, 2500);
  const u: Usage = { input, cached: Math.floor(input * (0.3 + 0.6 * r.rng.next())), output, reasoning: Math.floor(output * 0.4) };
  const t = ctx.tokens;
  for (const k of ['input', 'cached', 'output', 'reasoning'] as const) t[k] += u[k];
  ctx.responses++;
  if (r.paginated) {
    r.push(
      'token_usage_record',
      `{"thread_id":"${ctx.id}","turn_id":"${turnId}","session_id":"${ctx.id}","root_turn_id":"${turnId}","response_id":"resp_${r.rng.hex(24)}","usage":${usageJson(u)},"turn_token_usage":${usageJson(u)},"thread_token_usage":${usageJson(t)}}`,
    );
  }
  const event = `{"type":"token_count","info":{"total_token_usage":${usageJson(t)},"last_token_usage":${usageJson(u)},"model_context_window":258400},"rate_limits":null}`;
  r.push('event_msg', event);
  if (!r.paginated && r.rng.chance(0.3)) r.push('event_msg', event);
}

/** A screenshot as Codex stores it: a data URL of about a megabyte of base64. */
function imageUrl(rng: Rng, pools: Pools): string {
  const len = rng.int(600, 1200) * KB;
  const from = rng.int(0, (pools.base64.length - len) >> 2) << 2;
  return `data:image/png;base64,${pools.base64.slice(from, from + len)}`;
}

// ---------------------------------------------------------------------------------------------
// Sessions.

export type { Kind };

export interface SessionSpec {
  kind: Kind;
  start: number;
  /** Bytes to write at least (the file stops at the first turn boundary past it). */
  size: number;
  cwd: string;
  archived: boolean;
  compressed: boolean;
  /** Legacy copied fork (`copy`), paginated referenced fork (`ref`) or revert (`revert`) of `parent`. */
  fork?: { mode: ForkMode; parent: number };
  rare: boolean;
  name?: string[];
}

export interface SessionInfo {
  /** Thread id (in the name; the first session_meta's id). */
  id: string;
  /** Equals id except for revert files (`<thread>_<rollout>`). */
  rolloutId: string;
  kind: Kind;
  /** Relative to the home, as it is after compression (`.jsonl.zst` then). */
  path: string;
  /** Decompressed bytes. */
  bytes: number;
  lines: number;
  /** Turns in the file (a copied fork's inherited ones included). */
  turns: number;
  compressed: boolean;
  archived: boolean;
  fork?: { mode: ForkMode; parentId: string; parentRolloutId: string; endByteOffset?: number; endOrdinal?: number };
  name?: string;
  firstUserMessage: string | null;
  /** The session_meta cwd (null for the bare generations, which had none). */
  cwd: string | null;
  mtime: number;
  /** What the file's own model responses used (history copied from a parent not included); absent for the bare generations, which recorded none. */
  usage?: Usage & { responses: number };
  /** The model of every turn (absent for the bare generations, which recorded none). */
  model?: string;
  tools: Tools;
}

export interface HomeManifest {
  generator: number;
  seed: number;
  sessions: SessionInfo[];
  /** Decompressed bytes of every session. */
  bytes: number;
  /** Bytes on disk (compressed files as stored). */
  diskBytes: number;
  search: { rare: string; rareIds: string[]; common: string };
  ms: number;
}

interface Written extends SessionInfo {
  cuts: Cut[];
  abs: string;
}

function gitOf(rng: Rng, cwd: string): string {
  const project = cwd.split('/').pop();
  return `{"commit_hash":"${rng.hex(40)}","branch":"${rng.pick(['main', 'main', 'dev', 'fix/cart', 'feat/search'])}","repository_url":"git@github.com:acme/${project}.git"}`;
}

function cliVersion(kind: Kind, start: number): string {
  if (kind === 'E') return '0.169.0';
  // Roughly one minor release a week since 0.36 in September 2025.
  return `0.${36 + Math.floor((start - Date.parse('2025-09-10')) / (7 * DAY))}.0`;
}

/**
 * How a session came from another: a legacy fork's copy, a paginated fork or revert by reference,
 * or a subagent spawned with its parent's history copied in (below its `subagent_history_start_ordinal`).
 */
type ForkMode = 'copy' | 'ref' | 'revert' | 'subagent';

/** A legacy (D) or paginated (E) session, forks, reverts and subagents included. */
function writeEnvelope(home: string, spec: SessionSpec, pools: Pools, rng: Rng, parent: Written | null): Written {
  const paginated = spec.kind === 'E';
  const revert = spec.fork?.mode === 'revert';
  const id = revert ? parent!.id : newId(rng, spec.start);
  const rolloutId = revert ? uuidv7(rng, spec.start) : id;
  const abs = join(dirFor(home, spec.kind, spec.start, spec.archived), fileName(spec.kind, spec.start, id, revert ? rolloutId : undefined));
  mkdirSync(dirname(abs), { recursive: true });
  const fd = openSync(abs, 'w');
  const w = new LineWriter(fd);
  const ctx: Ctx = {
    id,
    cwd: parent?.cwd ?? spec.cwd,
    model: rng.pick(MODELS),
    effort: rng.pick(EFFORTS),
    pools,
    imageRate: spec.size > 20 * MB ? 0.006 : spec.size > 2 * MB ? 0.004 : 0.001,
    rare: spec.rare,
    tokens: { input: 0, cached: 0, output: 0, reasoning: 0 },
    responses: 0,
    tools: noTools(),
    turns: 0,
    firstUser: null,
  };
  // Forks and reverts cut their parent after a turn that leaves room for their own turns.
  let cut: Cut | undefined;
  if (parent) {
    const fits = parent.cuts.filter((c) => c.byte <= Math.max(spec.size * 0.7, parent.cuts[0]!.byte));
    cut = rng.pick(fits.length ? fits : parent.cuts);
  }
  const sub = spec.fork?.mode === 'subagent' ? cut : undefined;
  const ref = cut && spec.fork!.mode !== 'copy' && !sub ? cut : undefined;
  // A referenced fork's own ordinals continue from the cut.
  const r = new Rollout(w, spec.start + rng.int(200, 5000), rng, paginated ? (ref?.ordinal ?? 0) : null);

  const m: string[] = [`"session_id":"${id}"`, `"id":"${id}"`];
  if (parent && !revert) m.push(`"forked_from_id":"${parent.id}"`);
  if (ref && !revert) m.push(`"forked_from_ordinal_exclusive":${ref.ordinal}`);
  m.push(`"timestamp":"${iso(spec.start)}"`, `"cwd":"${esc(ctx.cwd)}"`);
  m.push(
    `"originator":"${paginated ? 'codex_exec' : rng.pick(['codex_cli_rs', 'codex_cli_rs', 'codex_vscode'])}"`,
    `"cli_version":"${cliVersion(spec.kind, spec.start)}"`,
  );
  if (sub) m.push(`"source":{"subagent":{"thread_spawn":{"parent_thread_id":"${parent!.id}","depth":1}}}`, `"thread_source":"subagent"`);
  else m.push(`"source":"${paginated ? 'exec' : rng.pick(['cli', 'cli', 'vscode', 'exec'])}"`);
  m.push(`"model_provider":"openai"`);
  if (sub) m.push(`"subagent_history_start_ordinal":${sub.ordinal}`);
  if (spec.start >= Date.parse('2026-01-19')) m.push(`"base_instructions":{"text":"${paginated ? pools.instructions : pools.shortInstructions}"}`);
  else m.push(`"instructions":null`);
  if (paginated) m.push(`"context_window":{"window_id":"${uuidv7(rng, spec.start)}"}`);
  if (rng.chance(0.8)) m.push(`"git":${gitOf(rng, ctx.cwd)}`);
  if (spec.start >= Date.parse('2026-06-26')) m.push(`"history_mode":"${paginated ? 'paginated' : 'legacy'}"`);
  if (ref) m.push(`"history_base":{"thread_id":"${parent!.rolloutId}","end_ordinal_exclusive":${ref.ordinal},"end_byte_offset":${ref.byte}}`);
  r.push('session_meta', `{${m.join(',')}}`);

  const copiedTurns = cut && !ref ? parent!.cuts.indexOf(cut) + 1 : 0;
  // A subagent's copy is its parent's records after the parent's session_meta, ordinals kept; its own go on from there.
  if (sub) {
    copyPrefix(w, parent!.abs, sub.byte, firstLineEnd(parent!.abs));
    r.ordinal = sub.ordinal;
  } else if (cut && !ref) copyPrefix(w, parent!.abs, cut.byte);
  if (paginated) {
    if (!ref)
      r.push(
        'world_state',
        `{"full":true,"state":{"environment":{"cwd":"${esc(ctx.cwd)}","shell":"bash"},"skills":[],"instructions":"${pools.prose.slice(rng, 1500)}"}}`,
      );
    r.push(
      'event_msg',
      `{"type":"thread_settings_applied","thread_settings":{"model":"${ctx.model}","model_provider_id":"openai","approval_policy":"on-request","approvals_reviewer":"user","permission_profile":{"type":"disabled"},"cwd":"${esc(ctx.cwd)}","reasoning_effort":"${ctx.effort}","reasoning_summary":"auto","collaboration_mode":"default"}}`,
    );
  }
  do writeTurn(r, ctx);
  while (w.bytes < spec.size);
  w.flush();
  closeSync(fd);
  const mtime = r.clock;
  utimesSync(abs, mtime / 1000, mtime / 1000);
  return {
    id,
    rolloutId,
    kind: spec.kind,
    path: relative(home, abs),
    abs,
    bytes: w.bytes,
    lines: w.lines,
    turns: ctx.turns + copiedTurns,
    compressed: false,
    archived: spec.archived,
    fork: parent
      ? { mode: spec.fork!.mode, parentId: parent.id, parentRolloutId: parent.rolloutId, endByteOffset: ref?.byte, endOrdinal: ref?.ordinal ?? undefined }
      : undefined,
    firstUserMessage: ctx.firstUser,
    usage: { ...ctx.tokens, responses: ctx.responses },
    model: ctx.model,
    tools: ctx.tools,
    cwd: ctx.cwd,
    mtime,
    cuts: r.cuts,
  };
}

/** A legacy fork copies its parent's lines, its session_meta included, up to a turn boundary (a subagent from `from`). */
function copyPrefix(w: LineWriter, path: string, bytes: number, from = 0): void {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(MB);
    for (let done = from; done < bytes;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, bytes - done), done);
      if (n === 0) throw new Error(`${path} is shorter than ${bytes} bytes`);
      const chunk = Buffer.from(buf.subarray(0, n));
      w.raw(chunk, countNewlines(chunk));
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** The byte just after a file's first line. */
function firstLineEnd(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(MB);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const nl = buf.subarray(0, n).indexOf(0x0a);
    if (nl === -1) throw new Error(`${path}: a first line longer than ${MB} bytes`);
    return nl + 1;
  } finally {
    closeSync(fd);
  }
}

function countNewlines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(0x0a); i !== -1; i = b.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** Generations 0, A, B and C: bare lines (or one pretty document), as the early CLIs wrote them. */
function writeOld(home: string, spec: SessionSpec, pools: Pools, rng: Rng): Written {
  const id = uuidv4(rng);
  const abs = join(dirFor(home, spec.kind, spec.start, false), fileName(spec.kind, spec.start, id));
  mkdirSync(dirname(abs), { recursive: true });
  // These timestamps are local time with a literal Z (spec 3): the same digits as the file name.
  const meta: Record<string, unknown> = { id, timestamp: iso(spec.start), instructions: rng.chance(0.5) ? null : prose(rng, 3) };
  if (spec.kind === 'C' && rng.chance(0.8)) meta.git = JSON.parse(gitOf(rng, spec.cwd));
  const items: unknown[] = [];
  let bytes = 0;
  let firstUser: string | null = null;
  let turns = 0;
  while (bytes < spec.size) {
    const user = `${rng.pick(['Fix', 'Explain', 'Test'])} the ${rng.pick(WORDS)} ${rng.pick(WORDS)} in src/${rng.pick(MODULES)}`;
    firstUser ??= user;
    const callId = `call_${rng.hex(24)}`;
    const output = JSON.parse(`"${pools.log.slice(rng, rng.int(200, 6000))}"`);
    const answer = JSON.parse(`"${pools.prose.slice(rng, rng.int(100, 1500))}"`);
    const turn = [
      bareMessage('user', user),
      spec.kind === 'A'
        ? {
            type: 'function_call',
            id: `fc_${rng.hex(16)}`,
            name: 'shell',
            arguments: JSON.stringify({ command: ['bash', '-lc', rng.pick(COMMANDS)] }),
            call_id: callId,
          }
        : {
            type: 'local_shell_call',
            id: `lsh_${rng.hex(16)}`,
            call_id: callId,
            status: 'completed',
            action: { type: 'exec', command: ['bash', '-lc', rng.pick(COMMANDS)], timeout_ms: 10000, working_directory: spec.cwd, env: null, user: null },
          },
      { type: 'function_call_output', call_id: callId, output: JSON.stringify({ output, metadata: { exit_code: 0, duration_seconds: 0.4 } }) },
      bareMessage('assistant', answer, `msg_${rng.hex(16)}`),
    ];
    for (const item of turn) bytes += JSON.stringify(item).length + 1;
    items.push(...turn);
    turns++;
  }
  const text = bareSession(spec.kind as '0' | 'A' | 'B' | 'C', meta, items);
  const lineCount = spec.kind === '0' ? 1 : text.split('\n').length - 1;
  writeFileSync(abs, text);
  const mtime = spec.start + turns * 60_000;
  utimesSync(abs, mtime / 1000, mtime / 1000);
  return {
    id,
    rolloutId: id,
    kind: spec.kind,
    path: relative(home, abs),
    abs,
    bytes: Buffer.byteLength(text),
    lines: lineCount,
    turns,
    compressed: false,
    archived: false,
    firstUserMessage: firstUser,
    cwd: null,
    mtime,
    // One call a turn, exit code 0; a bare file's records carry only the session's start as their time.
    tools: { calls: turns, failed: 0, byDay: turns ? { [iso(spec.start).slice(0, 10)]: turns } : {} },
    cuts: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Planning a home.

export interface GenOptions {
  /** The CODEX_HOME to create (emptied first). */
  dir: string;
  /** Factor on the default size (2,000 sessions, 2 GB). */
  scale?: number;
  sessions?: number;
  bytes?: number;
  /** Largest single session; the log-normal tail is clamped here. */
  maxSession?: number;
  seed?: number;
  log?: (msg: string) => void;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation; plenty for sizes). */
function probit(p: number): number {
  const a = [-39.6968302866538, 220.946098424521, -275.928510446969, 138.357751867269, -30.6647980661472, 2.50662827745924] as const;
  const b = [-54.4760987982241, 161.585836858041, -155.698979859887, 66.8013118877197, -13.2806815528857] as const;
  const c = [-0.00778489400243029, -0.322396458041136, -2.40076388304869, -2.54973253934373, 4.37466414146497, 2.93816398269878] as const;
  const d = [0.00778469570904146, 0.32246712907004, 2.445134137143, 3.75440866190742] as const;
  const q = Math.min(p, 1 - p);
  let x: number;
  if (q < 0.02425) {
    const u = Math.sqrt(-2 * Math.log(q));
    x = (((((c[0] * u + c[1]) * u + c[2]) * u + c[3]) * u + c[4]) * u + c[5]) / ((((d[0] * u + d[1]) * u + d[2]) * u + d[3]) * u + 1);
    return p < 0.5 ? x : -x;
  }
  const u = p - 0.5;
  const r = u * u;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * u) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** `n` log-normal sizes (exact quantiles, so the shape never depends on luck) summing to about `total`. */
export function sizeSpread(n: number, total: number, min: number, max: number, sigma = 2): number[] {
  const z = Array.from({ length: n }, (_, i) => probit((i + 0.5) / n));
  let mu = Math.log(total / n) - (sigma * sigma) / 2;
  let sizes: number[] = [];
  for (let round = 0; round < 30; round++) {
    sizes = z.map((q) => Math.min(max, Math.max(min, Math.exp(mu + sigma * q))));
    const sum = sizes.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - total) / total < 0.005) break;
    mu += Math.log(total / sum);
  }
  return sizes.map(Math.round);
}

const PERIODS: Record<Kind, [string, string]> = {
  '0': ['2025-04-16', '2025-05-06'],
  A: ['2025-05-07', '2025-05-12'],
  B: ['2025-05-13', '2025-07-16'],
  C: ['2025-07-17', '2025-09-08'],
  D: ['2025-09-10', '2026-08-03'],
  E: ['2026-08-04', '2026-11-15T17:00:00Z'],
};

function plan(n: number, total: number, maxSession: number, rng: Rng): SessionSpec[] {
  const old = Math.max(1, Math.round(n * 0.01));
  const kinds: Kind[] = [];
  kinds.push('0', ...Array<Kind>(old).fill('A'), ...Array<Kind>(old).fill('B'), ...Array<Kind>(old).fill('C'));
  const rest = Math.max(0, n - kinds.length);
  const e = Math.round(rest * 0.4);
  kinds.push(...Array<Kind>(rest - e).fill('D'), ...Array<Kind>(e).fill('E'));
  const sizes = rng.shuffle(sizeSpread(kinds.length, total, 5 * KB, maxSession));
  const cwds = PROJECTS.map((p, i) => `/home/${USERS[i % USERS.length]}/src/${p}`);
  const specs: SessionSpec[] = kinds.map((kind, i) => {
    const [from, to] = PERIODS[kind].map((d) => Date.parse(d.includes('T') ? d : `${d}T00:00:00Z`)) as [number, number];
    const old = kind !== 'D' && kind !== 'E';
    return {
      kind,
      start: from + Math.floor(rng.next() * (to - from)),
      size: old ? Math.min(sizes[i]!, 300 * KB) : sizes[i]!,
      cwd: rng.pick(cwds),
      archived: false,
      compressed: false,
      rare: false,
    };
  });
  specs.sort((a, b) => a.start - b.start);
  const envelope = specs.map((s, i) => [s, i] as const).filter(([s]) => s.kind === 'D' || s.kind === 'E');
  const unforked: Record<string, number[]> = { D: [], E: [] };
  for (const [s, i] of envelope) {
    s.archived = rng.chance(0.1);
    // Codex compresses files a week old or more.
    s.compressed = rng.chance(0.25) && s.start < ANCHOR - 8 * DAY;
    if (rng.chance(0.1)) s.name = rng.chance(0.2) ? [sentence(rng, 3), sentence(rng, 2)] : [sentence(rng, rng.int(2, 4))];
    // Forks of earlier sessions of the same mode (a fork's parent is always written first).
    const earlier = unforked[s.kind]!;
    const roll = rng.next();
    if (earlier.length && s.kind === 'D' && roll < 0.04) s.fork = { mode: 'copy', parent: rng.pick(earlier) };
    else if (earlier.length && s.kind === 'E' && roll < 0.05) s.fork = { mode: 'ref', parent: rng.pick(earlier) };
    else if (earlier.length && s.kind === 'E' && roll < 0.065) s.fork = { mode: 'revert', parent: rng.pick(earlier) };
    else if (earlier.length && s.kind === 'E' && roll < 0.1) s.fork = { mode: 'subagent', parent: rng.pick(earlier) };
    else earlier.push(i);
  }
  // Even a small home has one fork of each kind: the tests and the demo rely on it.
  for (const [mode, kind] of [
    ['copy', 'D'],
    ['ref', 'E'],
    ['revert', 'E'],
    ['subagent', 'E'],
  ] as const) {
    if (specs.some((s) => s.fork?.mode === mode)) continue;
    const parents = new Set(specs.map((s) => s.fork?.parent));
    const pool = unforked[kind]!;
    const child = pool.length > 2 ? pool[pool.length - 1]! : -1;
    if (child === -1 || parents.has(child)) continue;
    pool.pop();
    specs[child]!.fork = { mode, parent: pool[0]! };
  }
  const plain = envelope.map(([x]) => x).filter((x) => !x.fork);
  if (plain.length && !specs.some((x) => x.archived)) plain[plain.length - 1]!.archived = true;
  const cold = plain.filter((x) => x.start < ANCHOR - 8 * DAY);
  if (cold.length && !specs.some((x) => x.compressed)) cold[0]!.compressed = true;
  // A revert replaces its thread's file: the old one stays where it was (spec 12.2).
  for (const s of specs) if (s.fork?.mode === 'revert') s.archived = specs[s.fork.parent]!.archived;
  const rare = rng.shuffle(envelope.map(([s]) => s)).slice(0, 3);
  for (const s of rare) s.rare = true;
  return specs;
}

/** Writes a whole home; returns what is in it. The directory is emptied first. */
export function generateHome(opts: GenOptions): HomeManifest {
  const t0 = Date.now();
  const scale = opts.scale ?? 1;
  const n = opts.sessions ?? Math.max(12, Math.round(2000 * scale));
  const total = opts.bytes ?? Math.round(2 * 1024 * MB * scale);
  const maxSession = opts.maxSession ?? Math.max(MB, Math.min(400 * MB, total / 5));
  const seed = opts.seed ?? 7;
  const log = opts.log ?? (() => {});
  const rng = new Rng(seed);
  const pools = makePools(rng);
  rmSync(opts.dir, { recursive: true, force: true });
  mkdirSync(join(opts.dir, 'sessions'), { recursive: true });
  mkdirSync(join(opts.dir, 'archived_sessions'), { recursive: true });

  const specs = plan(n, total, maxSession, rng);
  const written: Written[] = [];
  let bytes = 0;
  let lastLog = Date.now();
  specs.forEach((spec, i) => {
    const parent = spec.fork ? written[spec.fork.parent]! : null;
    const s = spec.kind === 'D' || spec.kind === 'E' ? writeEnvelope(opts.dir, spec, pools, rng, parent) : writeOld(opts.dir, spec, pools, rng);
    written.push(s);
    bytes += s.bytes;
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      log(`  ${i + 1}/${specs.length} sessions, ${(bytes / MB).toFixed(0)} MB`);
    }
  });

  compress(
    written.filter((_, i) => specs[i]!.compressed),
    log,
  );

  const names: string[] = [];
  specs.forEach((spec, i) => {
    if (!spec.name || spec.fork?.mode === 'revert') return;
    const s = written[i]!;
    spec.name.forEach((name, k) =>
      names.push(JSON.stringify({ id: s.id, thread_name: name, updated_at: iso(s.mtime + (k + 1) * 60_000).replace(/\.\d{3}Z$/, 'Z') })),
    );
    s.name = spec.name[spec.name.length - 1]!;
  });
  const index = join(opts.dir, 'session_index.jsonl');
  writeFileSync(index, names.map((l) => l + '\n').join(''));
  utimesSync(index, ANCHOR / 1000, ANCHOR / 1000);

  const sessions: SessionInfo[] = written.map(({ cuts: _c, abs: _a, ...info }) => info);
  const diskBytes = sessions.reduce((a, s) => a + diskSize(opts.dir, s), 0);
  const manifest: HomeManifest = {
    generator: GENERATOR_VERSION,
    seed,
    sessions,
    bytes,
    diskBytes,
    search: { rare: RARE_TERM, rareIds: specs.map((s, i) => (s.rare ? written[i]!.id : '')).filter(Boolean), common: COMMON_TERM },
    ms: Date.now() - t0,
  };
  return manifest;
}

function diskSize(home: string, s: SessionInfo): number {
  if (!s.compressed) return s.bytes;
  const r = spawnSync('stat', ['-c', '%s', join(home, s.path)], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

/** Real zstd, level 3, one process for many files; `--rm` leaves only `X.jsonl.zst`, mtime kept. */
function compress(files: Written[], log: (msg: string) => void): void {
  if (!files.length) return;
  log(`  compressing ${files.length} sessions with zstd -3`);
  for (let i = 0; i < files.length; i += 200) {
    const batch = files.slice(i, i + 200);
    const r = spawnSync('zstd', ['-3', '-q', '-f', '--rm', ...batch.map((f) => f.abs)], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`zstd failed: ${r.error?.message ?? r.stderr}`);
    for (const f of batch) {
      f.abs += '.zst';
      f.path += '.zst';
      f.compressed = true;
      utimesSync(f.abs, f.mtime / 1000, f.mtime / 1000);
    }
  }
}

/**
 * One session of about `bytes` (legacy unless `paginated`) alone in a home of its own at `dir`:
 * the benchmark's probes for how time and memory grow with a session's size.
 */
export function generateProbe(dir: string, bytes: number, opts: { paginated?: boolean; seed?: number } = {}): SessionInfo & { abs: string } {
  const rng = new Rng(opts.seed ?? 11);
  const pools = makePools(rng);
  rmSync(dir, { recursive: true, force: true });
  const spec: SessionSpec = {
    kind: opts.paginated ? 'E' : 'D',
    start: Date.parse(opts.paginated ? '2026-10-02T09:30:00Z' : '2026-05-02T09:30:00Z'),
    size: bytes,
    cwd: '/home/ana/src/shop',
    archived: false,
    compressed: false,
    rare: false,
  };
  const { cuts: _c, ...info } = writeEnvelope(dir, spec, pools, rng, null);
  return info;
}

// `node dist/bench/gen-home.js DIR [SCALE]`: write a home and print its manifest summary.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const [dir, scale] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write('usage: gen-home.js DIR [SCALE]\n');
    process.exit(2);
  }
  const m = generateHome({ dir, scale: scale ? Number(scale) : Number(process.env.BENCH_SCALE ?? 1), log: (s) => process.stderr.write(s + '\n') });
  writeFileSync(join(dir, 'bench-manifest.json'), JSON.stringify(m, null, 1));
  process.stdout.write(
    `${m.sessions.length} sessions, ${(m.bytes / MB).toFixed(1)} MB (${(m.diskBytes / MB).toFixed(1)} MB on disk) in ${(m.ms / 1000).toFixed(1)} s\n`,
  );
}

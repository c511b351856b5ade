// Helpers to drive the real Codex CLI (pinned by scripts/install-codex.sh)
// against the loopback mock in mock-responses.ts.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpDir } from '../helpers/fixtures.js';
import { startMock, type Mock } from './mock-responses.js';

// The repository root, whether this runs from test/ (tap) or compiled into dist/test/ (the bench).
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..').replace(/\/dist$/, '');
/** The version under test: $CODEX_VERSION (`make interop CODEX_VERSION=x.y.z`), else the pin in install-codex.sh. */
export const CODEX_VERSION: string =
  process.env.CODEX_VERSION || /^PINNED=(\S+)$/m.exec(fs.readFileSync(path.join(repoRoot, 'scripts/install-codex.sh'), 'utf8'))![1];
/** The provider's env_key; Codex requires the variable to be set, the mock ignores its value. */
const API_KEY_ENV = 'ROLLOUT_MOCK_API_KEY';

let cachedBin: string | undefined;

/** Path of the pinned native codex binary, installing it on first use. Throws if it cannot. */
export function codexBin(): string {
  if (cachedBin) return cachedBin;
  let out: string;
  try {
    out = execFileSync('bash', [path.join(repoRoot, 'scripts/install-codex.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10 * 60_000,
    });
  } catch (err: any) {
    throw new Error(`cannot install the real Codex CLI ${CODEX_VERSION}: ${err.stderr || err.message}`, { cause: err });
  }
  const bin = out.trim().split('\n').pop() ?? '';
  if (!bin || !fs.existsSync(bin)) throw new Error(`install-codex.sh printed no usable binary path: ${JSON.stringify(out)}`);
  return (cachedBin = bin);
}

/**
 * Create a CODEX_HOME whose config sends every model call to the mock.
 * `extraToml` is appended verbatim (e.g. a [features] table). `provider` is the id the mock is
 * configured under, the only provider the home knows (a home on "another machine" uses another one).
 */
export function makeHome(dir: string, mockUrl: string, extraToml = '', provider = 'mock'): string {
  fs.mkdirSync(dir, { recursive: true });
  const config = `# Written by test/interop/codex.ts: every model call goes to a loopback mock.
model = "mock-model"
model_provider = "${provider}"
approval_policy = "never"
# The tool calls the mock asks for must run without bubblewrap/landlock, which CI sandboxes lack.
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[analytics]
enabled = false

[model_providers.${provider}]
name = "Rollout mock"
base_url = "${mockUrl}"
wire_api = "responses"
env_key = "${API_KEY_ENV}"
request_max_retries = 0
stream_max_retries = 0
stream_idle_timeout_ms = 20000
${extraToml}`;
  fs.writeFileSync(path.join(dir, 'config.toml'), config);
  return dir;
}

export interface RunOptions {
  cwd?: string;
  /** Point the `mock` provider at this URL for this run only (the home's config may name a stopped mock). */
  mockUrl?: string;
  /** Text for stdin; without it stdin is /dev/null so `codex exec` never waits for input. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// Codex honours these: its own outbound calls (update probe, analytics, plugin
// sync) then hit a dead loopback port instead of trying the internet.
const DEAD_PROXY = 'http://127.0.0.1:9';
const OFFLINE_ENV = {
  HTTPS_PROXY: DEAD_PROXY,
  HTTP_PROXY: DEAD_PROXY,
  ALL_PROXY: DEAD_PROXY,
  NO_PROXY: '127.0.0.1,localhost',
};

/** The environment every Codex child gets: CODEX_HOME, a dummy key, no real credentials, loopback only. */
export function codexEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...OFFLINE_ENV, CODEX_HOME: home, [API_KEY_ENV]: 'dummy', ...extra };
  for (const k of ['https_proxy', 'http_proxy', 'all_proxy', 'no_proxy']) delete env[k];
  // A real key in the developer's shell must never reach even a loopback server.
  delete env.OPENAI_API_KEY;
  delete env.CODEX_API_KEY;
  delete env.CODEX_SQLITE_HOME;
  return env;
}

/** Run the real binary to completion (killed, with its process group, after the timeout). */
export function runCodex(home: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const child = spawn(codexBin(), [...mockOverride(opts.mockUrl), ...args], {
    cwd: opts.cwd ?? home,
    env: codexEnv(home, opts.env),
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    // Own process group, so a timeout also ends any shell command the agent started.
    detached: true,
  });
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  return collect(child, opts.timeoutMs ?? 60_000, `codex ${args.join(' ')}`);
}

function mockOverride(mockUrl: string | undefined): string[] {
  return mockUrl ? ['-c', `model_providers.mock.base_url="${mockUrl}"`] : [];
}

function collect(child: ChildProcess, timeoutMs: number, what: string): Promise<RunResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`${what} timed out after ${timeoutMs} ms\nstderr: ${Buffer.concat(err).toString()}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** Like runCodex, but a non-zero exit is an error carrying Codex's stderr. */
export async function runCodexOk(home: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await runCodex(home, args, opts);
  if (r.code !== 0) {
    throw new Error(`codex ${args.join(' ')} exited ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r;
}

/** Every `ThreadSourceKind` of the 0.169 app-server protocol: without them thread/list hides exec threads. */
export const ALL_SOURCE_KINDS = [
  'cli',
  'vscode',
  'exec',
  'appServer',
  'subAgent',
  'subAgentReview',
  'subAgentCompact',
  'subAgentThreadSpawn',
  'subAgentOther',
  'unknown',
];

export interface AppServer {
  request(method: string, params?: unknown, timeoutMs?: number): Promise<any>;
  notify(method: string, params?: unknown): void;
  /** Notifications received so far, in order. */
  notifications: { method: string; params: any }[];
  /** Resolves with the first notification of that method (optionally matching) received from now on or already seen. */
  waitFor(method: string, match?: (params: any) => boolean, timeoutMs?: number): Promise<any>;
  stderr(): string;
  close(): Promise<void>;
}

/**
 * Start `codex app-server` (JSON-RPC 2.0, one JSON object per line over stdio) and
 * perform the initialize handshake. Server-to-client requests (approvals) are
 * declined, since the harness never wants a tool call to wait for a human.
 */
export async function appServer(home: string, opts: { cwd?: string; args?: string[]; mockUrl?: string } = {}): Promise<AppServer> {
  const child = spawn(codexBin(), [...mockOverride(opts.mockUrl), 'app-server', ...(opts.args ?? [])], {
    cwd: opts.cwd ?? home,
    env: codexEnv(home),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  const notifications: { method: string; params: any }[] = [];
  const waiters: { method: string; match: (p: any) => boolean; resolve: (p: any) => void }[] = [];
  let stderr = '';
  let nextId = 1;
  let buffered = '';
  child.stderr.on('data', (c: Buffer) => void (stderr += c.toString()));

  const send = (msg: object) => child.stdin.write(JSON.stringify({ jsonrpc: '2.0', ...msg }) + '\n');
  const onMessage = (msg: any) => {
    if (msg.id !== undefined && msg.method) {
      send({ id: msg.id, error: { code: -32601, message: 'the rollout test harness answers no server requests' } });
    } else if (msg.id !== undefined) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(`app-server error ${JSON.stringify(msg.error)}`));
      else p?.resolve(msg.result);
    } else if (msg.method) {
      notifications.push({ method: msg.method, params: msg.params });
      for (const w of [...waiters]) {
        if (w.method === msg.method && w.match(msg.params)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(msg.params);
        }
      }
    }
  };
  child.stdout.on('data', (c: Buffer) => {
    buffered += c.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) onMessage(JSON.parse(line));
    }
  });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  child.on('close', (code) => {
    for (const p of pending.values()) p.reject(new Error(`app-server exited (${code}) with a request pending\n${stderr}`));
    pending.clear();
  });

  const request = (method: string, params?: unknown, timeoutMs = 30_000) =>
    new Promise<any>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`app-server ${method} timed out\n${stderr}`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      send({ id, method, ...(params === undefined ? {} : { params }) });
    });

  const server: AppServer = {
    request,
    notify: (method, params) => send({ method, ...(params === undefined ? {} : { params }) }),
    notifications,
    waitFor: (method, match = () => true, timeoutMs = 30_000) => {
      const seen = notifications.find((n) => n.method === method && match(n.params));
      if (seen) return Promise.resolve(seen.params);
      return new Promise((resolve, reject) => {
        const w = { method, match, resolve: (p: any) => (clearTimeout(timer), resolve(p)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no ${method} notification within ${timeoutMs} ms\n${stderr}`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    stderr: () => stderr,
    close: async () => {
      child.stdin.end();
      const timer = setTimeout(() => killGroup(child), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await request('initialize', { clientInfo: { name: 'rollout-interop', title: 'rollout interop tests', version: '0' } });
    server.notify('initialized');
  } catch (err) {
    await server.close();
    throw err;
  }
  return server;
}

/**
 * Runs an interop test file's body, unless ROLLOUT_SKIP_INTEROP=1 leaves the real Codex out.
 * A cold install of Codex (~400 MB from npm) dominates, hence the long time limit.
 */
export async function interop(t: { plan(n: number, why: string): void; setTimeout(ms: number): void }, body: () => Promise<void>): Promise<void> {
  if (process.env.ROLLOUT_SKIP_INTEROP === '1') return t.plan(0, 'ROLLOUT_SKIP_INTEROP=1: real Codex CLI interop tests skipped');
  t.setTimeout(15 * 60_000);
  codexBin();
  await body();
}

/**
 * A throwaway CODEX_HOME wired to a fresh loopback mock, with an empty working directory for
 * `codex exec`; both are gone when `t` ends.
 */
export async function mockedHome(t: { teardown(fn: () => unknown): void }, prefix: string): Promise<{ mock: Mock; home: string; work: string }> {
  const mock = await startMock({ log: () => {} });
  t.teardown(() => mock.close());
  const tmp = tmpDir(t, prefix);
  const home = makeHome(path.join(tmp, 'home'), mock.url);
  const work = path.join(tmp, 'work');
  fs.mkdirSync(work);
  return { mock, home, work };
}

/** The thread id `codex exec` prints on stderr. */
export const sessionIdOf = (stderr: string): string => /^session id: ([0-9a-f-]{36})$/m.exec(stderr)![1];

/** What `codex doctor` finds of rollout files against its DB (its parity check's details); a tool's work should add none. */
export const PARITY_PROBLEMS = [
  'rollout DB missing active rows',
  'rollout DB missing archived rows',
  'rollout DB stale rows',
  'rollout DB archive mismatches',
  'rollout DB duplicate rollout thread ids',
  'rollout DB duplicate DB paths',
  'rollout DB malformed file names',
  'rollout DB scan errors',
];

/** `codex doctor --json`'s `state.rollout_db_parity` check, run in `cwd`. */
export async function doctorParity(home: string, cwd: string): Promise<{ status: string; summary: string; details: Record<string, string> }> {
  const r = await runCodex(home, ['doctor', '--json'], { cwd, timeoutMs: 60_000 });
  return JSON.parse(r.stdout).checks['state.rollout_db_parity'];
}

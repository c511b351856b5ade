// Build a CODEX_HOME full of sessions written by the real Codex CLI, so the
// toolkit is tested against what Codex really writes rather than what we think
// it writes. One build per test run: later callers reuse `root/.complete`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decompress } from 'fzstd';
import { startMock, userTexts, type Mock, type Reply } from './mock-responses.js';
import { appServer, CODEX_VERSION, makeHome, runCodexOk, type AppServer } from './codex.js';

export type SessionKey =
  'oneTurn' | 'toolTwoTurns' | 'longOutput' | 'multiTurn' | 'archived' | 'fork' | 'interrupted' | 'appFork' | 'compressed' | 'compressor';

export interface SessionInfo {
  key: SessionKey;
  id: string;
  /** Absolute path of the file as it is now (after archive/compression). */
  path: string;
  /** `path` relative to the home, with `/`. */
  relPath: string;
  cwd: string;
  /** `exec` for `codex exec`, `vscode` for threads started through the app-server. */
  source: 'exec' | 'vscode';
  /** The prompts this thread's own turns were started with, in order (not inherited ones). */
  userMessages: string[];
  firstUserMessage: string;
  /** Turns written to this file (task_started lines), interrupted ones included. */
  turns: number;
  toolCall: boolean;
  interrupted: boolean;
  archived: boolean;
  compressed: boolean;
  name: string | null;
  forkedFromId: string | null;
  gitRepo: boolean;
}

export interface RealHomeManifest {
  codexVersion: string;
  root: string;
  home: string;
  cwds: { plain: string; repo: string };
  git: { commit: string; branch: string; originUrl: string };
  sessions: Record<SessionKey, SessionInfo>;
  /** Model calls the mock answered, in order: which thread, and the user texts in its input. */
  modelCalls: { threadId: string; userTexts: string[] }[];
  builtAt: string;
  buildMs: number;
}

const ORIGIN_URL = 'https://git.example.invalid/acme/interop-repo.git';
const NAME = 'interop tool session';
const DAY_MS = 24 * 3600_000;

/** Where a test run keeps its real home: $ROLLOUT_REAL_HOME, else one folder per tap run under the cache. */
export function defaultRealHomeRoot(): string {
  if (process.env.ROLLOUT_REAL_HOME) return path.resolve(process.env.ROLLOUT_REAL_HOME);
  const cache = process.env.ROLLOUT_CODEX_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'rollout');
  // Test files of one tap run share the runner as parent, so they share the build.
  return path.join(cache, 'real-home', `run-${process.ppid}`);
}

/** Remove real homes of earlier runs whose runner process is gone. */
export function pruneStaleRealHomes(root = defaultRealHomeRoot()): void {
  const parent = path.dirname(root);
  for (const name of safeReaddir(parent)) {
    const pid = Number(/^run-(\d+)$/.exec(name)?.[1]);
    const dir = path.join(parent, name);
    if (pid && dir !== root && !isAlive(pid)) fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function buildRealHome(root: string): Promise<RealHomeManifest> {
  root = path.resolve(root);
  for (;;) {
    const done = readManifest(root);
    if (done) return done;
    fs.mkdirSync(root, { recursive: true });
    if (tryLock(root)) break;
    await waitForOtherBuilder(root);
  }
  try {
    for (const entry of fs.readdirSync(root)) {
      if (entry !== '.lock') fs.rmSync(path.join(root, entry), { recursive: true, force: true });
    }
    const manifest = await build(root);
    fs.writeFileSync(path.join(root, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    fs.writeFileSync(path.join(root, '.complete'), manifest.builtAt + '\n');
    return manifest;
  } finally {
    fs.rmSync(path.join(root, '.lock'), { recursive: true, force: true });
  }
}

function readManifest(root: string): RealHomeManifest | undefined {
  if (!fs.existsSync(path.join(root, '.complete'))) return undefined;
  return JSON.parse(fs.readFileSync(path.join(root, 'manifest.json'), 'utf8'));
}

// mkdir is atomic, so exactly one process of a parallel tap run builds.
function tryLock(root: string): boolean {
  const lock = path.join(root, '.lock');
  try {
    fs.mkdirSync(lock);
  } catch (err: any) {
    if (err.code !== 'EEXIST') throw err;
    const owner = Number(safeRead(path.join(lock, 'pid')));
    if (owner && isAlive(owner)) return false;
    fs.rmSync(lock, { recursive: true, force: true });
    return tryLock(root);
  }
  fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
  return true;
}

async function waitForOtherBuilder(root: string): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  while (fs.existsSync(path.join(root, '.lock')) && !fs.existsSync(path.join(root, '.complete'))) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for another process to build ${root}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function build(root: string): Promise<RealHomeManifest> {
  const started = Date.now();
  const home = path.join(root, 'home');
  const cwds = { plain: path.join(root, 'work', 'plain'), repo: path.join(root, 'work', 'repo') };
  fs.mkdirSync(cwds.plain, { recursive: true });
  const git = makeGitRepo(cwds.repo);
  const mock = await startMock();
  try {
    makeHome(home, mock.url);
    const b = new Builder(home, mock, cwds);
    await b.populate();
    const sessions = b.finish();
    return {
      codexVersion: CODEX_VERSION,
      root,
      home,
      cwds,
      git,
      sessions,
      modelCalls: mock.responses().map((r) => ({ threadId: String(r.headers['thread-id'] ?? ''), userTexts: userTexts(r.body) })),
      builtAt: new Date().toISOString(),
      buildMs: Date.now() - started,
    };
  } finally {
    await mock.close();
  }
}

function makeGitRepo(dir: string): RealHomeManifest['git'] {
  fs.mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync(
      'git',
      ['-c', 'user.name=Rollout Interop', '-c', 'user.email=interop@example.invalid', '-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } },
    ).trim();
  git('init', '-q');
  fs.writeFileSync(path.join(dir, 'README.md'), '# interop repo\n');
  git('add', 'README.md');
  git('commit', '-q', '-m', 'initial commit');
  git('remote', 'add', 'origin', ORIGIN_URL);
  return { commit: git('rev-parse', 'HEAD'), branch: git('rev-parse', '--abbrev-ref', 'HEAD'), originUrl: ORIGIN_URL };
}

type Draft = Omit<SessionInfo, 'path' | 'relPath' | 'turns' | 'compressed' | 'firstUserMessage'>;

class Builder {
  private drafts = new Map<SessionKey, Draft>();

  constructor(
    private home: string,
    private mock: Mock,
    private cwds: { plain: string; repo: string },
  ) {}

  async populate(): Promise<void> {
    await this.exec('oneTurn', 'plain', 'Say hello in exactly one turn.', [{ text: 'Hello from the one-turn session.' }]);
    await this.exec('toolTwoTurns', 'repo', 'Which files are in this repository?', [{ call: { cmd: 'ls -1' } }, { text: 'There is one file: README.md.' }]);
    await this.resume('toolTwoTurns', 'And what is in it?', [{ text: 'A heading: "interop repo".' }]);
    await this.exec('longOutput', 'plain', 'Count from 1 to 20000.', [{ call: { cmd: 'seq 1 20000' } }, { text: 'Counted to 20000.' }]);
    await this.exec('multiTurn', 'repo', 'First of three turns.', [{ text: 'Turn one answered.' }]);
    await this.resume('multiTurn', 'Second of three turns.', [{ text: 'Turn two answered.' }]);
    await this.resume('multiTurn', 'Third of three turns.', [{ text: 'Turn three answered.' }]);
    await this.exec('archived', 'repo', 'This session will be archived.', [{ text: 'Fine, archive me.' }]);
    await this.codex(['archive', this.id('archived')], this.cwds.repo);
    this.draft('archived').archived = true;
    await this.fork();
    await this.withAppServer(async (server) => {
      await this.name(server, 'toolTwoTurns', NAME);
      await this.interrupted(server);
      await this.appFork(server);
    });
    await this.compress();
  }

  finish(): Record<SessionKey, SessionInfo> {
    const out = {} as Record<SessionKey, SessionInfo>;
    for (const [key, d] of this.drafts) {
      const file = findRollout(this.home, d.id);
      const text = readRolloutText(file);
      out[key] = {
        ...d,
        path: file,
        relPath: path.relative(this.home, file).split(path.sep).join('/'),
        firstUserMessage: d.userMessages[0] ?? '',
        turns: text.split('\n').filter((l) => l.includes('"type":"task_started"')).length,
        compressed: file.endsWith('.zst'),
      };
    }
    return out;
  }

  private id(key: SessionKey): string {
    return this.draft(key).id;
  }

  private draft(key: SessionKey): Draft {
    const d = this.drafts.get(key);
    if (!d) throw new Error(`real-home: session ${key} was not created`);
    return d;
  }

  private async codex(args: string[], cwd: string): Promise<string> {
    const r = await runCodexOk(this.home, args, { cwd, timeoutMs: 90_000 });
    return r.stderr;
  }

  private async exec(key: SessionKey, where: 'plain' | 'repo', prompt: string, replies: Reply[], extra: string[] = []) {
    this.mock.enqueue(...replies);
    const stderr = await this.codex(['exec', '--skip-git-repo-check', ...extra, prompt], this.cwds[where]);
    this.drafts.set(key, {
      ...blankDraft(key, sessionIdFrom(stderr), this.cwds[where]),
      userMessages: [prompt],
      toolCall: replies.some((r) => 'call' in r),
      gitRepo: where === 'repo',
    });
  }

  private async resume(key: SessionKey, prompt: string, replies: Reply[]) {
    const d = this.draft(key);
    this.mock.enqueue(...replies);
    await this.codex(['exec', 'resume', '--skip-git-repo-check', d.id, prompt], d.cwd);
    d.userMessages.push(prompt);
    d.toolCall ||= replies.some((r) => 'call' in r);
  }

  // `codex exec fork` of a finished paginated thread: Codex writes a referenced fork.
  private async fork() {
    const prompt = 'Continue the one-turn session on a fork.';
    this.mock.enqueue({ text: 'Forked and answered.' });
    const stderr = await this.codex(['exec', 'fork', '--skip-git-repo-check', this.id('oneTurn'), prompt], this.cwds.plain);
    this.drafts.set('fork', {
      ...blankDraft('fork', sessionIdFrom(stderr), this.cwds.plain),
      userMessages: [prompt],
      forkedFromId: this.id('oneTurn'),
    });
  }

  private async withAppServer(fn: (server: AppServer) => Promise<void>) {
    const server = await appServer(this.home, { cwd: this.cwds.plain });
    try {
      await fn(server);
    } finally {
      await server.close();
    }
  }

  private async name(server: AppServer, key: SessionKey, name: string) {
    await server.request('thread/name/set', { threadId: this.id(key), name });
    this.draft(key).name = name;
  }

  // A turn interrupted while the model is still "thinking", then a normal turn.
  private async interrupted(server: AppServer) {
    const started = await server.request('thread/start', { cwd: this.cwds.plain });
    const threadId: string = started.thread.id;
    const first = 'Start something long, I will interrupt you.';
    const callsBefore = this.mock.responses().length;
    this.mock.enqueue({ stall: true });
    const turn = await server.request('turn/start', { threadId, input: [{ type: 'text', text: first }] });
    await until(() => this.mock.responses().length > callsBefore, 'the interrupted turn never reached the mock');
    await server.request('turn/interrupt', { threadId, turnId: turn.turn.id });
    await server.waitFor('turn/completed', (p) => p.turn?.id === turn.turn.id);
    const second = 'Sorry for interrupting; just answer briefly.';
    await this.appTurn(server, threadId, second, 'Answered after the interruption.');
    this.drafts.set('interrupted', {
      ...blankDraft('interrupted', threadId, this.cwds.plain),
      source: 'vscode',
      userMessages: [first, second],
      interrupted: true,
    });
  }

  // app-server thread/fork through the first of multiTurn's three turns, then a turn of its own.
  private async appFork(server: AppServer) {
    const parent = this.draft('multiTurn');
    const firstTurnId = turnIds(readRolloutText(findRollout(this.home, parent.id)))[0];
    const forked = await server.request('thread/fork', { threadId: parent.id, lastTurnId: firstTurnId, cwd: parent.cwd });
    const threadId: string = forked.thread.id;
    const prompt = 'A different second turn, on an app-server fork.';
    await this.appTurn(server, threadId, prompt, 'Answered on the app-server fork.');
    this.drafts.set('appFork', {
      ...blankDraft('appFork', threadId, parent.cwd),
      source: 'vscode',
      userMessages: [prompt],
      forkedFromId: parent.id,
      gitRepo: true,
    });
  }

  private async appTurn(server: AppServer, threadId: string, text: string, reply: string) {
    this.mock.enqueue({ text: reply });
    const turn = await server.request('turn/start', { threadId, input: [{ type: 'text', text }] });
    const done = await server.waitFor('turn/completed', (p) => p.turn?.id === turn.turn.id);
    if (done.turn.status !== 'completed') throw new Error(`app-server turn ended ${JSON.stringify(done.turn)}`);
  }

  // Codex compresses plain rollouts whose mtime is at least 7 days old, when the
  // (default off) feature is on; it runs at the start of the next exec.
  private async compress() {
    await this.exec('compressed', 'plain', 'This session will be compressed by Codex.', [{ text: 'Compress away.' }]);
    const file = findRollout(this.home, this.id('compressed'));
    const old = new Date(Date.now() - 8 * DAY_MS);
    fs.utimesSync(file, old, old);
    await this.exec(
      'compressor',
      'plain',
      'Run with the compression feature on.',
      [{ text: 'Compression ran.' }],
      ['--enable', 'local_thread_store_compression'],
    );
    if (fs.existsSync(file) || !fs.existsSync(file + '.zst')) {
      throw new Error(`Codex did not compress ${file} into ${file}.zst`);
    }
  }
}

function blankDraft(key: SessionKey, id: string, cwd: string): Draft {
  return {
    key,
    id,
    cwd,
    source: 'exec',
    userMessages: [],
    toolCall: false,
    interrupted: false,
    archived: false,
    name: null,
    forkedFromId: null,
    gitRepo: false,
  };
}

function sessionIdFrom(stderr: string): string {
  const id = /^session id: ([0-9a-f-]{36})$/m.exec(stderr)?.[1];
  if (!id) throw new Error(`no "session id:" line in codex exec output:\n${stderr}`);
  return id;
}

/** The one rollout file of a thread under sessions/ or archived_sessions/ (plain or .zst). */
export function findRollout(home: string, id: string): string {
  const hits = [...walk(path.join(home, 'sessions')), ...walk(path.join(home, 'archived_sessions'))].filter(
    (f) => /\.jsonl(\.zst)?$/.test(f) && path.basename(f).includes(id),
  );
  if (hits.length !== 1) throw new Error(`expected one rollout for ${id}, found ${JSON.stringify(hits)}`);
  return hits[0];
}

function* walk(dir: string): Generator<string> {
  for (const e of safeReaddir(dir, true)) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(full);
    else yield full;
  }
}

/** A rollout's text, plain or .zst (fzstd directly: the toolkit's own reader is what the tests check). */
export function readRolloutText(file: string): string {
  const bytes = fs.readFileSync(file);
  return Buffer.from(file.endsWith('.zst') ? decompress(bytes) : bytes).toString('utf8');
}

function turnIds(text: string): string[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((o) => o.type === 'event_msg' && o.payload?.type === 'task_started')
    .map((o) => o.payload.turn_id as string);
}

async function until(cond: () => boolean, message: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err: any) {
    return err.code === 'EPERM';
  }
}

function safeReaddir(dir: string): string[];
function safeReaddir(dir: string, withTypes: true): fs.Dirent[];
function safeReaddir(dir: string, withTypes = false): (string | fs.Dirent)[] {
  try {
    return withTypes ? fs.readdirSync(dir, { withFileTypes: true }) : fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function safeRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

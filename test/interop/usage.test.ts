// rollout-usage's proof against the real Codex CLI (the pinned release, or CODEX_VERSION): the loopback mock knows the usage of
// every response it served and which thread asked (the request's client_metadata.thread_id), so
// each thread's total is known exactly. Sessions made by the real Codex: a turn with a tool call,
// an exec resume, an exec fork, an app-server fork, a compaction, a revert and a turn after it, and
// a legacy session (written here) that the real Codex resumed. `rollout-usage --by session` gives
// each thread exactly what the mock served it, read incrementally or from scratch.
import { join } from 'node:path';
import t from 'tap';
import { ndjson, run, tmpDir, writeSession } from '../helpers/fixtures.js';
import { appServer, interop, mockedHome, runCodexOk, sessionIdOf } from './codex.js';
import type { Mock } from './mock-responses.js';

await interop(t, main);

interface Served {
  responses: number;
  input: number;
  output: number;
}

/**
 * What the mock served each thread: its n-th model call answers with usage input 1000 + n and
 * output 10 + n (mock-responses.ts), and every call here is answered in full.
 */
function served(mock: Mock): Map<string, Served> {
  const out = new Map<string, Served>();
  mock.responses().forEach((req, n) => {
    const thread = (req.body?.client_metadata?.thread_id ?? req.body?.prompt_cache_key) as string;
    const s = out.get(thread) ?? { responses: 0, input: 0, output: 0 };
    out.set(thread, { responses: s.responses + 1, input: s.input + 1000 + n, output: s.output + 10 + n });
  });
  return out;
}

async function main() {
  const { mock, home, work } = await mockedHome(t, 'rollout-usage-interop-');
  const codex = (args: string[]) => runCodexOk(home, ['exec', ...args], { cwd: work, timeoutMs: 90_000 });
  const usage = (index: string) => {
    const r = run('rollout-usage', ['--codex-home', home, '--index', index, '--by', 'session', '--json', '-q']);
    if (r.code !== 0) throw new Error(`rollout-usage: ${r.err}`);
    return new Map(
      ndjson(r.out)
        .filter((row) => !row.total)
        .map((row) => [row.session as string, { responses: row.responses, input: row.input_tokens, output: row.output_tokens }]),
    );
  };
  const kept = join(tmpDir(t), 'kept.sqlite');

  // A legacy session, as an older Codex wrote it: two responses (running sums 1000 and 2001).
  const legacy = writeSession(home, {
    cwd: work,
    provider: 'mock',
    model: 'mock-model',
    turns: [{ user: 'L1' }, { user: 'L2' }],
    start: new Date(Date.now() - 3600_000),
  });

  mock.enqueue({ call: { cmd: 'echo usage' } }, { text: 'ran it' });
  const main = sessionIdOf((await codex(['--skip-git-repo-check', 'U1 run a command'])).stderr);
  await codex(['resume', '--skip-git-repo-check', main, 'U2 once more']);
  usage(kept); // read now, and again at the end: what a file gains is added to what was read
  const execFork = sessionIdOf((await codex(['fork', '--skip-git-repo-check', main, 'F1 on the fork'])).stderr);
  await codex(['resume', '--skip-git-repo-check', legacy.id, 'L3 resumed by the real Codex']);

  const server = await appServer(home, { cwd: work });
  let appFork: string;
  try {
    await server.request('thread/resume', { threadId: main });
    appFork = (await server.request('thread/fork', { threadId: main })).thread.id;
    const forkTurn = await server.request('turn/start', { threadId: appFork, input: [{ type: 'text', text: 'AF1 on the app-server fork' }] });
    await server.waitFor('turn/completed', (p) => p.turn?.id === forkTurn.turn.id, 60_000);
    const compacting = mock.responses().length;
    await server.request('thread/compact/start', { threadId: main });
    await server.waitFor('turn/completed', () => mock.responses().length > compacting, 60_000);
    const turns = (await server.request('thread/read', { threadId: main, includeTurns: true })).thread.turns.map((x: any) => x.id);
    await server.request('thread/revert', { threadId: main, beforeTurnId: turns[1] });
    const after = await server.request('turn/start', { threadId: main, input: [{ type: 'text', text: 'U3 after the revert' }] });
    await server.waitFor('turn/completed', (p) => p.turn?.id === after.turn.id, 60_000);
  } finally {
    await server.close();
  }

  const truth = served(mock);
  // The legacy file's own two responses, from its running sums (the fixture writes no last usage).
  const legacyTruth = truth.get(legacy.id)!;
  truth.set(legacy.id, { responses: legacyTruth.responses + 2, input: legacyTruth.input + 1901, output: legacyTruth.output + 100 });

  t.test('the mock saw what the scenario asked for', async (t) => {
    t.same([...truth.keys()].sort(), [main, execFork, appFork, legacy.id].sort(), 'four threads asked the model');
    t.equal(truth.get(main)!.responses, 5, 'the main thread: a tool call (2), a resume, a compaction, a turn after the revert');
  });

  t.test('rollout-usage --by session: exactly what the mock served each thread', async (t) => {
    const fresh = usage(join(tmpDir(t), 'fresh.sqlite'));
    for (const [id, want] of truth) t.same(fresh.get(id), want, `thread ${id}`);
    t.equal(fresh.size, truth.size, 'and no other session');
  });

  t.test('an index read part-way and brought up to date says the same', async (t) => {
    const grown = usage(kept);
    for (const [id, want] of truth) t.same(grown.get(id), want, `thread ${id}`);
  });
}

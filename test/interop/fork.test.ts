// rollout-fork's proof against the real Codex CLI (the pinned release, or CODEX_VERSION) (offline, through the loopback mock): the
// forks it writes resume with exactly the kept turns in the model's input, and Codex lists them
// with the right parent.
import t from 'tap';
import { ndjson, run, writeSession } from '../helpers/fixtures.js';
import { ALL_SOURCE_KINDS, appServer, interop, mockedHome, runCodexOk, sessionIdOf } from './codex.js';
import { userTexts, type Mock } from './mock-responses.js';

await interop(t, main);

async function main() {
  const { mock, home, work } = await mockedHome(t, 'rollout-fork-interop-');
  const codex = (args: string[]) => runCodexOk(home, ['exec', ...args], { cwd: work, timeoutMs: 90_000 });

  // A paginated source made by real Codex: three turns.
  const prompts = ['P1 the first question', 'P2 the second question', 'P3 the third question'];
  const paginated = sessionIdOf((await codex(['--skip-git-repo-check', prompts[0]])).stderr);
  for (const p of prompts.slice(1)) await codex(['resume', '--skip-git-repo-check', paginated, p]);
  // A referenced fork made by real Codex, with one turn of its own.
  const codexFork = sessionIdOf((await codex(['fork', '--skip-git-repo-check', paginated, 'F1 a turn on the fork'])).stderr);
  // A legacy source (Codex 0.169 writes only paginated files), one turn left open mid-turn.
  const legacy = ['L1 legacy first', 'L2 legacy second', 'L3 legacy third'];
  const legacyId = writeSession(home, {
    cwd: work,
    provider: 'mock',
    turns: legacy.map((user, i) => ({ user, open: i === legacy.length - 1 })),
    start: new Date(Date.now() - 3600_000),
  }).id;
  const everyPrompt = new Set([...prompts, ...legacy, 'F1 a turn on the fork', 'next']);

  const fork = (args: string[]) => {
    const r = run('rollout-fork', [...args, '--codex-home', home]);
    if (r.code !== 0) throw new Error(`rollout-fork ${args.join(' ')}: ${r.err}`);
    return ndjson(r.out)[0];
  };

  /** Resumes `id` with "next" and returns the user texts of the model request it caused. */
  async function resumeSees(mock: Mock, id: string): Promise<string[]> {
    const before = mock.responses().length;
    await codex(['resume', '--skip-git-repo-check', id, 'next']);
    const request = mock.responses()[before];
    return userTexts(request.body).filter((text) => everyPrompt.has(text));
  }

  const cases: Array<[string, string[], string[]]> = [
    ['paginated, --keep-turns 2', [paginated, '--keep-turns', '2'], [prompts[0], prompts[1]]],
    ['paginated, --keep-turns 2 --reference', [paginated, '--keep-turns', '2', '--reference'], [prompts[0], prompts[1]]],
    ['paginated, --last-turns 1', [paginated, '--last-turns', '1'], [prompts[2]]],
    ['paginated, full --reference', [paginated, '--reference'], prompts],
    ["Codex's referenced fork, --drop-turns 1 (inherited lines copied in)", [codexFork, '--drop-turns', '1'], prompts],
    ["Codex's referenced fork, full", [codexFork], [...prompts, 'F1 a turn on the fork']],
    ["Codex's referenced fork, --keep-turns 1 --reference", [codexFork, '--keep-turns', '1', '--reference'], [prompts[0]]],
    ['legacy, --keep-turns 2', [legacyId, '--keep-turns', '2'], [legacy[0], legacy[1]]],
    ['legacy mid-turn, full --interrupted', [legacyId, '--interrupted'], legacy],
  ];
  const made = new Map<string, string>();
  for (const [name, args, kept] of cases) {
    t.test(name, async (t) => {
      const result = fork(args);
      made.set(result.id, result.forked_from_id);
      t.same(await resumeSees(mock, result.id), [...kept, 'next'], 'the resumed fork sends exactly the kept turns');
    });
  }

  t.test('the interrupt marker reaches the model', async (t) => {
    const result = fork([legacyId, '--interrupted']);
    made.set(result.id, result.forked_from_id);
    const before = mock.responses().length;
    await codex(['resume', '--skip-git-repo-check', result.id, 'next']);
    const texts = userTexts(mock.responses()[before].body);
    t.ok(texts.some((text) => text.startsWith('<turn_aborted>\nThe user interrupted the previous turn on purpose.')));
  });

  t.test('--name: Codex resumes the fork by its name', async (t) => {
    const result = fork([paginated, '--keep-turns', '1', '--name', 'rollout-fork interop branch']);
    made.set(result.id, result.forked_from_id);
    const before = mock.responses().length;
    await codex(['resume', '--skip-git-repo-check', 'rollout-fork interop branch', 'next']);
    t.same(
      userTexts(mock.responses()[before].body).filter((text) => everyPrompt.has(text)),
      [prompts[0], 'next'],
    );
  });

  t.test('thread/list shows every fork with its parent', async (t) => {
    const server = await appServer(home, { cwd: work });
    t.teardown(() => server.close());
    const list = await server.request('thread/list', { sourceKinds: ALL_SOURCE_KINDS, modelProviders: [], limit: 100 });
    const byId = new Map<string, any>(list.data.map((th: any) => [th.id, th]));
    for (const [id, parent] of made) {
      t.ok(byId.has(id), `${id} is listed`);
      const read = await server.request('thread/read', { threadId: id });
      t.equal(read.thread.forkedFromId, parent, `${id} is a fork of ${parent}`);
    }
  });
}

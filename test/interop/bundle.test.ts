// rollout-bundle and rollout-unbundle's proof against the real Codex CLI (the pinned release, or CODEX_VERSION) (offline, through the
// loopback mock): "moving machines". Sessions Codex wrote in home A (plain ones in two projects, a
// referencing fork, a named one, an archived one, a compressed one, an app-server thread) are bundled
// and imported into home B, whose projects live under another folder and whose only model provider
// has another id (--map-cwd, --provider). In B, Codex lists them where they now belong, resumes them
// with their whole history (the fork with its parent's turns, through its history_base), resumes the
// named one by its name, and its doctor finds files and DB as much in agreement as in A. A session
// that went on in A comes over again in an incremental bundle as an update, the others untouched.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ndjson, run, tmpDir } from '../helpers/fixtures.js';
import { ALL_SOURCE_KINDS, appServer, doctorParity, interop, makeHome, PARITY_PROBLEMS, runCodexOk, sessionIdOf, type AppServer } from './codex.js';
import { startMock, userTexts } from './mock-responses.js';

const P = {
  first: 'S1 the first question',
  second: 'S1 the second question',
  fork: 'F1 a turn on the fork',
  named: 'N1 a session with a name',
  tools: 'T1 a session in the other project',
  app: 'APP an interactive thread',
  archived: 'ARCH a session put away',
  compressed: 'ZST a session kept compressed',
  later: 'T2 the tools session went on at home',
};
const NAME = 'shop notes';

await interop(t, main);

async function main() {
  const mock = await startMock({ log: () => {} });
  t.teardown(() => mock.close());
  const tmp = tmpDir(t, 'rollout-bundle-interop-');
  // Machine A keeps its projects under aRoot and calls the mock "mock"; machine B keeps the same
  // projects under bRoot and calls it "other" (and knows no "mock").
  const aRoot = path.join(tmp, 'a', 'projects');
  const bRoot = path.join(tmp, 'b', 'src');
  const [a1, a2, b1, b2] = [path.join(aRoot, 'shop'), path.join(aRoot, 'tools'), path.join(bRoot, 'shop'), path.join(bRoot, 'tools')];
  for (const d of [a1, a2, b1, b2]) fs.mkdirSync(d, { recursive: true });
  const homeA = makeHome(path.join(tmp, 'a', 'codex'), mock.url);
  const homeB = makeHome(path.join(tmp, 'b', 'codex'), mock.url, '', 'other');
  const moveFlags = ['--map-cwd', `${aRoot}=${bRoot}`, '--provider', 'other'];

  const codex = (home: string, cwd: string, args: string[]) => runCodexOk(home, ['exec', ...args], { cwd, timeoutMs: 90_000 });
  const make = async (cwd: string, prompt: string) => sessionIdOf((await codex(homeA, cwd, ['--skip-git-repo-check', prompt])).stderr);
  const tool = (bin: string, args: string[], input = '') => {
    const r = run(bin, args, { input, env: { ROLLOUT_INDEX: '' } });
    return { ...r, lines: ndjson(r.out) };
  };

  // Home A, made by the real Codex.
  const s1 = await make(a1, P.first);
  await codex(homeA, a1, ['resume', '--skip-git-repo-check', s1, P.second]);
  const fork = sessionIdOf((await codex(homeA, a1, ['fork', '--skip-git-repo-check', s1, P.fork])).stderr);
  const named = await make(a1, P.named);
  const tools = await make(a2, P.tools);
  const archived = await make(a1, P.archived);
  await runCodexOk(homeA, ['archive', archived], { cwd: a1 });
  const compressed = await make(a1, P.compressed);
  const zst = tool('rollout-prune', ['--codex-home', homeA, '--stdin', '--compress', '--grace', '0'], compressed + '\n');
  if (zst.code !== 0 || zst.lines[0]?.action !== 'compress') throw new Error(`rollout-prune --compress: ${zst.err}`);
  let app = '';
  await withServer(homeA, a1, async (server) => {
    await server.request('thread/name/set', { threadId: named, name: NAME });
    app = (await server.request('thread/start', { cwd: a1 })).thread.id;
    const turn = await server.request('turn/start', { threadId: app, input: [{ type: 'text', text: P.app }] });
    const done = await server.waitFor('turn/completed', (p) => p.turn?.id === turn.turn.id);
    if (done.turn.status !== 'completed') throw new Error(`app-server turn ended ${JSON.stringify(done.turn)}`);
  });
  const cwdOf: Record<string, string> = { [s1]: b1, [fork]: b1, [named]: b1, [tools]: b2, [archived]: b1, [compressed]: b1, [app]: b1 };
  const active = [s1, fork, named, tools, compressed, app];
  const all = [...active, archived];
  const baseline = await doctorParity(homeA, a1);
  t.equal(baseline.details['rollout DB model providers'], `mock=${all.length}`, "A's rows: every thread on A's provider");

  const full = path.join(tmp, 'A.tar.zst');
  const incremental = path.join(tmp, 'A2.tar.zst');
  const unbundle = (file: string, extra: string[] = []) => tool('rollout-unbundle', ['--codex-home', homeB, ...moveFlags, ...extra, file]);

  /** Runs `codex exec resume` in B; returns the thread it resumed and the prompts the model was sent (context fragments left out). */
  async function resumeInB(cwd: string, args: string[]): Promise<{ id: string; sent: string[] }> {
    const before = mock.responses().length;
    const r = await codex(homeB, cwd, ['resume', '--skip-git-repo-check', ...args]);
    const known = new Set<string>([...Object.values(P), args[args.length - 1]]);
    return { id: sessionIdOf(r.stderr), sent: userTexts(mock.responses()[before].body).filter((text) => known.has(text)) };
  }

  t.test('rollout-bundle takes every session of the projects, the archived one included', async (t) => {
    const r = tool('rollout-bundle', ['--codex-home', homeA, '--include-archived', '--cwd', aRoot, '-o', full]);
    t.equal(r.code, 0, r.err);
    t.same(r.lines.map((l) => l.id).sort(), [...all].sort());
    const m = manifestOf(full);
    t.same(m.sessions.find((s: any) => s.id === fork).parents, [s1], 'the fork brings its parent');
    t.equal(m.sessions.find((s: any) => s.id === named).name, NAME);
    t.equal(m.sessions.find((s: any) => s.id === archived).archived, true);
    t.ok(
      m.sessions.find((s: any) => s.id === compressed).files.every((f: any) => f.path.endsWith('.jsonl.zst')),
      'the compressed session goes as it is kept',
    );
  });

  let imported = false;
  /** A check of B, which has nothing to check when the import failed. */
  const inB = (name: string, fn: (t: Test) => Promise<void>) => t.test(name, async (t) => (imported ? fn(t) : t.plan(0, 'not run: the import into B failed')));

  t.test('imported into B under its projects and its provider', async (t) => {
    const r = unbundle(full);
    t.equal(r.code, 0, r.err);
    imported = r.code === 0;
    t.same(r.lines.map((l) => [l.id, l.action]).sort(), all.map((id) => [id, 'import']).sort());
    t.equal(r.lines.find((l) => l.id === named)?.name, NAME);
    t.match(r.lines.find((l) => l.id === archived)?.paths, [/\/archived_sessions\/rollout-/], 'the archived one stays archived');
  });

  inB('thread/list in B: each thread where it now belongs', async (t) => {
    await withServer(homeB, b1, async (server) => {
      const ids = async (params: object) => (await server.request('thread/list', { limit: 100, ...params })).data.map((th: any) => th.id).sort();
      t.same(await ids({}), [app], "default filters (B's provider, interactive sources): the app-server thread");
      t.same(await ids({ sourceKinds: ALL_SOURCE_KINDS }), [...active].sort(), "B's provider: every active thread");
      t.same(await ids({ sourceKinds: ALL_SOURCE_KINDS, archived: true }), [archived], 'the archived one, archived');
      t.same(await ids({ sourceKinds: ALL_SOURCE_KINDS, cwd: b1 }), active.filter((id) => cwdOf[id] === b1).sort(), `cwd ${b1}`);
      t.same(await ids({ sourceKinds: ALL_SOURCE_KINDS, cwd: b2 }), [tools], `cwd ${b2}`);
      t.same(await ids({ sourceKinds: ALL_SOURCE_KINDS, modelProviders: [], cwd: a1 }), [], "nothing left under A's folder");
      // Without filters the page comes from Codex's threads rows, which it built from the files'
      // thread_settings_applied lines (FINDINGS 9): those must say B's cwd and provider too.
      for (const flag of [false, true]) {
        const list = await server.request('thread/list', { sourceKinds: ALL_SOURCE_KINDS, modelProviders: [], archived: flag, limit: 100 });
        for (const th of list.data) t.same([th.cwd, th.modelProvider], [cwdOf[th.id], 'other'], `Codex's row of ${th.id}`);
      }
      const read = await server.request('thread/read', { threadId: fork });
      t.equal(read.thread.forkedFromId, s1, 'the fork still names its parent');
    });
  });

  inB('codex exec resume in B: the whole history, the fork with its parent, the named one by name', async (t) => {
    const f = await resumeInB(b1, [fork, 'MORE on the fork']);
    t.same(f, { id: fork, sent: [P.first, P.second, P.fork, 'MORE on the fork'] }, "the fork reads its parent's turns");
    const s = await resumeInB(b1, [s1, 'MORE after the move']);
    t.same(s, { id: s1, sent: [P.first, P.second, 'MORE after the move'] });
    // A name Codex does not find starts a new thread (exit 0): the id printed is what tells.
    const n = await resumeInB(b1, [NAME, 'MORE by name']);
    t.same(n, { id: named, sent: [P.named, 'MORE by name'] }, 'the name resolves in the mapped folder');
    const z = await resumeInB(b1, [compressed, 'MORE on the compressed one']);
    t.same(z, { id: compressed, sent: [P.compressed, 'MORE on the compressed one'] });
  });

  inB("codex doctor in B: no problem that A's home did not have", async (t) => {
    const p = await doctorParity(homeB, b1);
    t.equal(p.status, baseline.status, `doctor: ${p.summary}`);
    for (const k of PARITY_PROBLEMS) t.equal(p.details[k] ?? '0', baseline.details[k] ?? '0', `doctor: no new "${k}"`);
    t.equal(p.details['rollout DB model providers'], `other=${all.length}`, "B's rows: every thread on B's provider");
  });

  inB('incremental: a session that went on in A comes over as an update, the others untouched', async (t) => {
    await codex(homeA, a2, ['resume', '--skip-git-repo-check', tools, P.later]);
    const r = tool('rollout-bundle', ['--codex-home', homeA, '--include-archived', '--cwd', aRoot, '--since-bundle', full, '-o', incremental]);
    t.equal(r.code, 0, r.err);
    t.same(
      manifestOf(incremental).sessions.map((s: any) => s.id),
      [tools],
      'the new bundle holds only that session',
    );
    const before = rollouts(homeB);
    const toolsInB = [...before.keys()].find((p) => p.includes(tools))!;
    const size = fs.statSync(toolsInB).size;
    // The files were written a moment ago, here and there: no grace period.
    const u = unbundle(incremental, ['--grace', '0']);
    t.equal(u.code, 0, u.err);
    t.same(
      u.lines.map((l) => [l.id, l.action]),
      [[tools, 'update']],
    );
    const after = rollouts(homeB);
    t.ok(fs.statSync(toolsInB).size > size, "B's file of it grew");
    t.ok(fs.readFileSync(toolsInB, 'utf8').includes(P.later), 'by the turn taken in A');
    for (const [file, digest] of before) if (file !== toolsInB) t.equal(after.get(file), digest, `untouched: ${path.relative(homeB, file)}`);

    // The first bundle again: everything is here already, or longer here (resumed in B), so all skip.
    const again = unbundle(full, ['--grace', '0']);
    t.equal(again.code, 0, again.err);
    t.same(
      again.lines.map((l) => l.action),
      all.map(() => 'skip'),
    );
    t.same(rollouts(homeB), after, 'no file of B changed');

    const res = await resumeInB(b2, [tools, 'MORE after the update']);
    t.same(res, { id: tools, sent: [P.tools, P.later, 'MORE after the update'] });
    const p = await doctorParity(homeB, b1);
    for (const k of PARITY_PROBLEMS) t.equal(p.details[k] ?? '0', baseline.details[k] ?? '0', `doctor after the update: no new "${k}"`);
  });
}

async function withServer(home: string, cwd: string, fn: (server: AppServer) => Promise<void>): Promise<void> {
  const server = await appServer(home, { cwd });
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/** A bundle's manifest, as GNU tar extracts it. */
function manifestOf(bundle: string): any {
  return JSON.parse(execFileSync('tar', ['--zstd', '-xOf', bundle, 'manifest.json'], { encoding: 'utf8' }));
}

/** Every rollout file of a home and the SHA-256 of its bytes. */
function rollouts(home: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const root of ['sessions', 'archived_sessions']) {
    const dir = path.join(home, root);
    if (!fs.existsSync(dir)) continue;
    for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      const file = path.join(dir, rel);
      if (/^rollout-.*\.jsonl(\.zst)?$/.test(path.basename(file)) && fs.statSync(file).isFile()) {
        out.set(file, createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
      }
    }
  }
  return out;
}

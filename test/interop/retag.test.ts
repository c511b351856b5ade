// rollout-prune --map-cwd / --set-provider's proof against the real Codex CLI (the pinned release, or CODEX_VERSION) (offline,
// through the loopback mock): "the project moved". In one home Codex wrote sessions in a project
// folder (one with two turns, a referencing fork of it, a named one, an app-server thread with turns,
// the newest one) and one in another project. Then the folder is renamed and the config calls the
// provider by another id. After rollout-prune rewrites the sessions in place (the moved ones for
// their folder, all for the provider), Codex lists them under the new folder and the new provider,
// resumes them with their whole history (the fork with its parent's turns, through its moved
// history_base), by id, by name and with --last, reads their turns from its byte-offset projection
// (whose offsets moved with the bytes) before and after it loads them, and its doctor finds files
// and DB as much in agreement as before. A second run has nothing left to do.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ndjson, run, tmpDir } from '../helpers/fixtures.js';
import { query } from '../helpers/prune.js';
import { ALL_SOURCE_KINDS, appServer, doctorParity, interop, makeHome, PARITY_PROBLEMS, runCodexOk, sessionIdOf, type AppServer } from './codex.js';
import { startMock, userTexts } from './mock-responses.js';

const P = {
  first: 'S1 the first question',
  second: 'S1 the second question',
  fork: 'F1 a turn on the fork',
  named: 'N1 a session with a name',
  tools: 'T1 a session in the other project',
  app1: 'APP the first turn',
  app2: 'APP the second turn',
  last: 'L1 the newest session',
};
const NAME = 'shop notes';
/** Codex's projection of paginated rollouts by byte offset (thread_history_1.sqlite). */
const PROJECTION = ['thread_turns', 'thread_items', 'thread_history_projection_state'];

await interop(t, main);

async function main() {
  const mock = await startMock({ log: () => {} });
  t.teardown(() => mock.close());
  const tmp = tmpDir(t, 'rollout-retag-interop-');
  // The shop project is renamed from p1 to q1 (a longer name: every rewritten line grows, so the
  // fork's offsets into its parent move); the tools project stays where it is.
  const [p1, q1, p2] = ['shop', 'storefront', 'tools'].map((d) => path.join(tmp, 'work', d));
  for (const d of [p1, p2]) fs.mkdirSync(d, { recursive: true });
  const homeDir = path.join(tmp, 'codex');
  const home = makeHome(homeDir, mock.url);
  const history = path.join(home, 'thread_history_1.sqlite');
  const flags = ['--grace', '0', '--map-cwd', `${p1}=${q1}`, '--set-provider', 'other'];

  const codex = (cwd: string, args: string[]) => runCodexOk(home, ['exec', ...args], { cwd, timeoutMs: 90_000 });
  const make = async (cwd: string, prompt: string) => sessionIdOf((await codex(cwd, ['--skip-git-repo-check', prompt])).stderr);
  const prune = (args: string[]) => {
    const r = run('rollout-prune', ['--codex-home', home, ...args], { env: { ROLLOUT_INDEX: '' } });
    return { ...r, lines: ndjson(r.out) };
  };
  const projected = (id: string) => PROJECTION.map((table) => query(history, `SELECT * FROM ${table} WHERE thread_id = ? ORDER BY 2, 3`, id));

  // The home, made by the real Codex.
  const s1 = await make(p1, P.first);
  await codex(p1, ['resume', '--skip-git-repo-check', s1, P.second]);
  const tools = await make(p2, P.tools);
  const fork = sessionIdOf((await codex(p1, ['fork', '--skip-git-repo-check', s1, P.fork])).stderr);
  const named = await make(p1, P.named);
  let app = '';
  let appTurns: string[][] = [];
  await withServer(home, p1, async (server) => {
    await server.request('thread/name/set', { threadId: named, name: NAME });
    app = (await server.request('thread/start', { cwd: p1 })).thread.id;
    for (const text of [P.app1, P.app2]) {
      const turn = await server.request('turn/start', { threadId: app, input: [{ type: 'text', text }] });
      const done = await server.waitFor('turn/completed', (p) => p.turn?.id === turn.turn.id);
      if (done.turn.status !== 'completed') throw new Error(`app-server turn ended ${JSON.stringify(done.turn)}`);
    }
    appTurns = turnTexts((await server.request('thread/read', { threadId: app, includeTurns: true })).thread);
  });
  const last = await make(p1, P.last);
  // The threads of the moved folder; the new provider is for every thread of the home.
  const moved = [s1, fork, named, app, last].sort();
  const all = [...moved, tools].sort();
  const placeOf = (id: string) => [id === tools ? p2 : q1, 'other'];
  const baseline = await doctorParity(home, p1);
  t.equal(baseline.details['rollout DB model providers'], `mock=${all.length}`, 'before: every thread on the old provider');
  // Codex projects every paginated thread as its turns end: offsets into the file as it was.
  const projectionBefore = new Map(all.map((id) => [id, projected(id)]));
  t.equal(projectionBefore.get(app)![0].length, 2, "Codex's projection of the app-server thread: its two turns");
  for (const id of all) t.equal(projectionBefore.get(id)![2].length, 1, `Codex has projected ${id}`);

  // The user moves the project and renames the provider.
  fs.renameSync(p1, q1);
  makeHome(homeDir, mock.url, '', 'other');

  /** Runs `codex exec resume` in q1; returns the thread it resumed and the prompts the model was sent (context fragments left out). */
  async function resume(args: string[], opts: { cwdFlag?: boolean } = {}): Promise<{ id: string; sent: string[] }> {
    const before = mock.responses().length;
    const argv = [...(opts.cwdFlag ? ['-C', q1] : []), 'resume', '--skip-git-repo-check', ...args];
    const r = await codex(opts.cwdFlag ? tmp : q1, argv);
    const known = new Set<string>([...Object.values(P), args[args.length - 1]]);
    return { id: sessionIdOf(r.stderr), sent: userTexts(mock.responses()[before].body).filter((text) => known.has(text)) };
  }

  t.test('-n: every session named (a new provider is for all), nothing written', async (t) => {
    const before = snapshot(home);
    const r = prune([...flags, '-n']);
    t.equal(r.code, 0, r.err);
    t.same(
      r.lines.map((l) => [l.action, l.id, l.dry_run]).sort(),
      all.map((id) => ['retag', id, true]),
    );
    t.same(snapshot(home), before, 'every file, every row of Codex as it was');
  });

  let retagged = false;
  /** A check of the moved home, which has nothing to check when the rewrite failed. */
  const after = (name: string, fn: (t: Test) => Promise<void>) =>
    t.test(name, async (t) => (retagged ? fn(t) : t.plan(0, 'not run: rollout-prune --map-cwd failed')));

  t.test("rewritten in place: the sessions, Codex's rows and its projection", async (t) => {
    const files = rollouts(home);
    const r = prune(flags);
    t.equal(r.code, 0, r.err);
    retagged = r.code === 0;
    t.same(
      r.lines.map((l) => [l.action, l.id]).sort(),
      all.map((id) => ['retag', id]),
    );
    const now = rollouts(home);
    t.same([...now.keys()], [...files.keys()], 'the same files');
    for (const [file, was] of files) {
      const rel = path.relative(home, file);
      t.not(now.get(file)!.sha, was.sha, `rewritten: ${rel}`);
      t.ok(Math.abs(now.get(file)!.mtimeMs - was.mtimeMs) < 0.001, `mtime kept, to the microsecond: ${rel}`);
    }
    const fileOf = (id: string) => [...now.keys()].find((f) => f.includes(id))!;
    const meta = (id: string) => JSON.parse(fs.readFileSync(fileOf(id), 'utf8').split('\n')[0]).payload;
    t.same([meta(tools).cwd, meta(tools).model_provider], [p2, 'other'], 'the other project keeps its folder, takes the new provider');
    t.equal(meta(fork).history_base.end_byte_offset, fs.statSync(fileOf(s1)).size, "the fork's cut moved to the end of its rewritten parent");
    for (const row of query(path.join(home, 'state_5.sqlite'), 'SELECT id, cwd, model_provider FROM threads')) {
      t.same([row.cwd, row.model_provider], placeOf(row.id), `Codex's row of ${row.id}`);
    }
    for (const id of all) {
      const [turns, items, state] = projected(id);
      const [turnsBefore, itemsBefore] = projectionBefore.get(id)!;
      t.equal(turns.length, turnsBefore.length, `${id}: Codex's projection keeps its turns`);
      t.same(items, itemsBefore, `${id}: and its items, as they were`);
      for (const turn of turns) {
        t.equal(lineAt(fileOf(id), turn.rollout_byte_offset), turn.rollout_ordinal, `${id}: turn ${turn.turn_id} starts at its line of the rewritten file`);
        if (turn.rollout_end_byte_offset !== null) t.ok(lineBefore(fileOf(id), turn.rollout_end_byte_offset).boundary, `${id}: and ends at a line boundary`);
      }
      t.equal(state[0]?.next_rollout_byte_offset, fs.statSync(fileOf(id)).size, `${id}: projected to the end of the rewritten file`);
    }
  });

  after('run again: nothing left to do, nothing changed', async (t) => {
    const before = snapshot(home);
    const r = prune(flags);
    t.equal(r.code, 0, r.err);
    t.same(r.lines, [], 'no line');
    t.same(snapshot(home), before, 'every file, every row of Codex as it was');
  });

  after('codex doctor: no new problem, every moved thread on the new provider', async (t) => {
    const p = await doctorParity(home, q1);
    t.equal(p.status, baseline.status, `doctor: ${p.summary}`);
    for (const k of PARITY_PROBLEMS) t.equal(p.details[k] ?? '0', baseline.details[k] ?? '0', `doctor: no new "${k}"`);
    t.equal(p.details['rollout DB model providers'], `other=${all.length}`, 'every thread on the new provider');
  });

  after('thread/list: the moved threads under the new folder, nothing under the old one', async (t) => {
    await withServer(home, q1, async (server) => {
      const ids = async (params: object) => (await server.request('thread/list', { limit: 100, ...params })).data.map((th: any) => th.id).sort();
      t.same(await ids({}), [app], 'default filters (the new provider, interactive sources): the app-server thread');
      t.same(await ids({ sourceKinds: ALL_SOURCE_KINDS }), all, 'the new provider: every thread');
      t.same(await ids({ sourceKinds: ALL_SOURCE_KINDS, cwd: q1 }), moved, `cwd ${q1}`);
      t.same(await ids({ sourceKinds: ALL_SOURCE_KINDS, modelProviders: [], cwd: p1 }), [], 'nothing left under the old folder');
      t.same(await ids({ sourceKinds: ALL_SOURCE_KINDS, modelProviders: [], cwd: p2 }), [tools], 'the other project as it was');
      // Without filters the page comes from Codex's threads rows (FINDINGS 9).
      const list = await server.request('thread/list', { sourceKinds: ALL_SOURCE_KINDS, modelProviders: [], limit: 100 });
      t.same(list.data.map((th: any) => th.id).sort(), all);
      for (const th of list.data) t.same([th.cwd, th.modelProvider], placeOf(th.id), `Codex's row of ${th.id}`);
    });
  });

  after('codex exec resume in the moved folder: --last, by id, the fork, by name', async (t) => {
    // First, while the sessions keep the activity times they had (the rewrite kept their mtimes).
    t.same(await resume(['--last', 'MORE on the newest']), { id: last, sent: [P.last, 'MORE on the newest'] }, '--last: the newest moved thread');
    const s = await resume([s1, 'MORE after the move'], { cwdFlag: true });
    t.same(s, { id: s1, sent: [P.first, P.second, 'MORE after the move'] }, 'exec -C q1 resume <id>: the whole history');
    const f = await resume([fork, 'MORE on the fork']);
    t.same(f, { id: fork, sent: [P.first, P.second, P.fork, 'MORE on the fork'] }, "the fork reads its parent's turns through its moved offset");
    // A name Codex does not find starts a new thread (exit 0): the id printed is what tells.
    const n = await resume([NAME, 'MORE by name']);
    t.same(n, { id: named, sent: [P.named, 'MORE by name'] }, 'the name resolves in the new folder');
  });

  after('the app-server thread: its turns read from the moved projection at once, and again once Codex loads it', async (t) => {
    const appFile = [...rollouts(home).keys()].find((f) => f.includes(app))!;
    await withServer(home, q1, async (server) => {
      // Codex reads turns only from its projection, and builds that only when it loads a thread
      // (FINDINGS 9): the projection whose offsets moved with the bytes serves at once.
      const unloaded = await server.request('thread/read', { threadId: app, includeTurns: true });
      t.same(turnTexts(unloaded.thread), appTurns, 'before Codex loads it, thread/read has its turns');
      t.same([unloaded.thread.cwd, unloaded.thread.modelProvider], [q1, 'other']);

      // A fork at a turn takes its cut from the projection: the moved offsets cut on a line boundary.
      const firstTurn = projectionBefore.get(app)![0].reduce((a, b) => (a.rollout_ordinal < b.rollout_ordinal ? a : b)).turn_id;
      const cut = await server.request('thread/fork', { threadId: app, lastTurnId: firstTurn });
      t.same(turnTexts(cut.thread), appTurns.slice(0, 1), 'thread/fork at the first turn: that turn');
      const base = JSON.parse(fs.readFileSync(cut.thread.path, 'utf8').split('\n')[0]).payload.history_base;
      t.same(
        lineBefore(appFile, base.end_byte_offset),
        { boundary: true, ordinal: base.end_ordinal_exclusive - 1 },
        'its cut is a line boundary of the rewritten file',
      );

      const resumed = await server.request('thread/resume', { threadId: app });
      t.same(turnTexts(resumed.thread), appTurns, 'thread/resume: its turns as before the move');
      const read = await server.request('thread/read', { threadId: app, includeTurns: true });
      t.same(turnTexts(read.thread), appTurns, 'thread/read, once loaded: its turns as before the move');
    });
    const [turns, items, state] = projected(app);
    t.equal(turns.length, 2, 'both turns in the projection');
    t.equal(items.length, projectionBefore.get(app)![1].length, 'and as many items');
    for (const turn of turns)
      t.equal(lineAt(appFile, turn.rollout_byte_offset), turn.rollout_ordinal, `turn ${turn.turn_id} at its line in the rewritten file`);
    t.equal(state[0]?.next_rollout_byte_offset, fs.statSync(appFile).size, 'projected to the end of the rewritten file');
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

/** The texts of a thread's turns (user and agent messages), turn by turn. */
function turnTexts(thread: any): string[][] {
  return (thread.turns ?? []).map((turn: any) => turn.items.map((i: any) => i.text ?? i.content?.[0]?.text));
}

/** The ordinal of the line that starts at byte `offset` of a rollout (null when no line starts there). */
function lineAt(file: string, offset: number): number | null {
  const bytes = fs.readFileSync(file);
  if (offset !== 0 && bytes[offset - 1] !== 0x0a) return null;
  return JSON.parse(bytes.subarray(offset, bytes.indexOf(0x0a, offset)).toString()).ordinal;
}

/** Whether byte `offset` of a rollout ends a line, and the ordinal of the line that ends there. */
function lineBefore(file: string, offset: number): { boundary: boolean; ordinal: number } {
  const bytes = fs.readFileSync(file);
  const start = bytes.lastIndexOf(0x0a, offset - 2) + 1;
  return { boundary: bytes[offset - 1] === 0x0a, ordinal: JSON.parse(bytes.subarray(start, offset).toString()).ordinal };
}

/** Every rollout file of a home, with the SHA-256 of its bytes and its mtime. */
function rollouts(home: string): Map<string, { sha: string; mtimeMs: number }> {
  const out = new Map<string, { sha: string; mtimeMs: number }>();
  for (const root of ['sessions', 'archived_sessions']) {
    const dir = path.join(home, root);
    if (!fs.existsSync(dir)) continue;
    for (const rel of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      const file = path.join(dir, rel);
      if (/^rollout-.*\.jsonl(\.zst)?$/.test(path.basename(file)) && fs.statSync(file).isFile()) {
        out.set(file, { sha: createHash('sha256').update(fs.readFileSync(file)).digest('hex'), mtimeMs: fs.statSync(file).mtimeMs });
      }
    }
  }
  return out;
}

/**
 * A home as Codex sees it: every file other than SQLite's (bytes and mtime), and the rows of
 * Codex's threads and of its projection. Our own index is not part of it.
 */
function snapshot(home: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const rel of fs.readdirSync(home, { recursive: true, encoding: 'utf8' }).sort()) {
    const file = path.join(home, rel);
    if (/\.sqlite(-wal|-shm|-journal)?$|^rollout-index\.sqlite/.test(rel) || !fs.lstatSync(file).isFile()) continue;
    out[rel] = [createHash('sha256').update(fs.readFileSync(file)).digest('hex'), fs.statSync(file).mtimeMs];
  }
  out['threads rows'] = query(path.join(home, 'state_5.sqlite'), 'SELECT * FROM threads ORDER BY id');
  for (const table of PROJECTION) out[`${table} rows`] = query(path.join(home, 'thread_history_1.sqlite'), `SELECT * FROM ${table} ORDER BY 1, 2, 3`);
  return out;
}

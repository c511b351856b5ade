// rollout-index --codex against the real Codex CLI (the pinned release, or CODEX_VERSION) (offline, through the loopback mock):
// "moving machines". Sessions Codex wrote are copied into a home whose Codex DB does not know them
// (all of them, then only some); thread/list misses them until `rollout-index --codex` runs, then lists
// exactly what Codex's own rebuild from the same files lists, with the right titles and names, while
// an app-server keeps listing throughout; doctor finds no new parity problem and a copied session resumes.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { ndjson, REPO, run, tmpDir } from '../helpers/fixtures.js';
import { ALL_SOURCE_KINDS, appServer, doctorParity, interop, makeHome, PARITY_PROBLEMS, runCodexOk, type AppServer } from './codex.js';
import { startMock, userTexts } from './mock-responses.js';
import { buildRealHome, defaultRealHomeRoot } from './real-home.js';

await interop(t, main);

async function main() {
  const m = await buildRealHome(defaultRealHomeRoot());
  const sessions = Object.values(m.sessions);
  const mock = await startMock({ log: () => {} });
  t.teardown(() => mock.close());
  const tmp = tmpDir(t, 'rollout-codex-sync-interop-');
  const work = path.join(tmp, 'work');
  fs.mkdirSync(work);

  /** Copies the real home's rollouts (mtimes kept) and its name log into `home`; only `ids` when given. */
  function copySessions(home: string, ids?: Set<string>) {
    for (const s of sessions) {
      if (ids && !ids.has(s.id)) continue;
      const to = path.join(home, s.relPath);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.cpSync(s.path, to, { preserveTimestamps: true });
    }
    fs.cpSync(path.join(m.home, 'session_index.jsonl'), path.join(home, 'session_index.jsonl'));
  }
  /** A home whose Codex DB exists (Codex made it, its backfill of the then empty home complete). */
  async function freshHome(name: string): Promise<string> {
    const home = makeHome(path.join(tmp, name), mock.url);
    const server = await appServer(home, { cwd: work });
    try {
      await list(server, false);
    } finally {
      await server.close();
    }
    return home;
  }
  async function list(server: AppServer, archived: boolean): Promise<Map<string, any>> {
    const r = await server.request('thread/list', { sourceKinds: ALL_SOURCE_KINDS, modelProviders: [], archived, limit: 100 });
    return new Map(r.data.map((th: any) => [th.id, th]));
  }
  async function listings(home: string) {
    const server = await appServer(home, { cwd: work });
    try {
      return { active: await list(server, false), archived: await list(server, true) };
    } finally {
      await server.close();
    }
  }
  const parity = (home: string) => doctorParity(home, work);
  const index = (home: string, ...args: string[]) => {
    const r = run('rollout-index', ['--codex', '--codex-home', home, ...args]);
    return { ...r, lines: ndjson(r.out) };
  };

  // What Codex itself lists when it rebuilds its DB from these files alone: the oracle.
  const oracleHome = makeHome(path.join(tmp, 'oracle'), mock.url);
  copySessions(oracleHome);
  const oracle = await listings(oracleHome);
  t.ok(
    oracle.active.size + oracle.archived.size >= sessions.filter((s) => s.firstUserMessage).length - 1,
    'Codex lists the copied sessions after its own rebuild',
  );

  async function listsLikeCodex(t: Test, home: string) {
    const got = await listings(home);
    for (const flag of ['active', 'archived'] as const) {
      t.same([...got[flag].keys()].sort(), [...oracle[flag].keys()].sort(), `thread/list ${flag}: what Codex's own rebuild lists`);
      for (const [id, th] of got[flag]) {
        const want = oracle[flag].get(id);
        if (!want) continue;
        for (const k of ['preview', 'cwd', 'source', 'modelProvider', 'model', 'historyMode', 'gitInfo', 'cliVersion', 'originator', 'createdAt']) {
          t.same(th[k], want[k], `${id} ${k}`);
        }
        // updated_at_ms ties are broken a millisecond up, in whichever order rows arrive: a second can tip over.
        t.ok(Math.abs(th.updatedAt - want.updatedAt) <= 1, `${id} updatedAt`);
        const s = sessions.find((x) => x.id === id)!;
        t.equal(th.name, s.name, `${s.key}: name carried over from session_index.jsonl`);
      }
    }
    for (const s of sessions) {
      const th = got[s.archived ? 'archived' : 'active'].get(s.id);
      if (th) t.equal(th.preview, s.firstUserMessage, `${s.key}: listed by its first message`);
    }
    return got;
  }

  t.test('a home whose Codex DB knows none of the copied sessions', async (t) => {
    const home = await freshHome('none');
    const baseline = await parity(home);
    copySessions(home);
    const server = await appServer(home, { cwd: work });
    let listed = 0;
    let failures = 0;
    try {
      // A plain listing would read-repair the page it shows; a search is served from the DB alone.
      for (const s of sessions.filter((s) => s.firstUserMessage && !s.archived)) {
        const hits = await server.request('thread/list', { sourceKinds: ALL_SOURCE_KINDS, modelProviders: [], limit: 100, searchTerm: s.firstUserMessage });
        t.notOk(
          hits.data.some((th: any) => th.id === s.id),
          `${s.key}: thread/list searching its first message misses it`,
        );
      }
      const missing = await parity(home);
      t.not(missing.details['rollout DB missing active rows'], baseline.details['rollout DB missing active rows'], 'doctor sees rows missing');
      t.equal(index(home, '--check').code, 1, '--check --codex sees the drift');

      // A running Codex keeps listing while rollout-index writes.
      const child = spawn(process.execPath, [path.join(REPO, 'dist/cmd/rollout-index.js'), '--codex', '--codex-home', home], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (err += c));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      let done = false;
      void exited.then(() => (done = true));
      while (!done) {
        await list(server, false).then(
          () => listed++,
          () => failures++,
        );
      }
      t.equal(await exited, 0, err);
      const lines = ndjson(out);
      const summary = lines.pop();
      t.equal(failures, 0, `thread/list answered every one of ${listed} requests during the write`);
      // The app-server's listing read-repairs what it shows, so Codex may insert some rows first.
      t.equal(
        summary.inserted + summary.raced + summary.unchanged + summary.fixed,
        sessions.length - summary.unreadable,
        'each readable session accounted for: inserted, or repaired by Codex first',
      );
      t.ok(summary.inserted > 0, `${summary.inserted} rows inserted by rollout-index`);
      t.ok(summary.backup && fs.existsSync(summary.backup), 'the DB was backed up first');
      const after = await list(server, false);
      t.ok(
        sessions.filter((s) => !s.archived && s.firstUserMessage).every((s) => after.has(s.id)),
        'the running app-server now lists them',
      );
    } finally {
      await server.close();
    }
    await listsLikeCodex(t, home);
    const p = await parity(home);
    t.equal(p.status, baseline.status, `doctor: ${p.summary}`);
    for (const k of PARITY_PROBLEMS) t.equal(p.details[k] ?? '0', baseline.details[k] ?? '0', `doctor: no new "${k}"`);
    t.equal(index(home, '--check').code, 0, 'nothing left to mend');

    const target = m.sessions.toolTwoTurns;
    const before = mock.responses().length;
    await runCodexOk(home, ['exec', 'resume', '--skip-git-repo-check', target.id, 'RESUMED on the new machine'], { cwd: work, timeoutMs: 90_000 });
    const seen = userTexts(mock.responses()[before].body);
    t.ok(
      target.userMessages.every((u) => seen.includes(u)) && seen.includes('RESUMED on the new machine'),
      'codex exec resume <id> carries the copied history on',
    );
  });

  t.test('a home whose Codex DB knows only some: those rows stay as Codex wrote them', async (t) => {
    const home = makeHome(path.join(tmp, 'some'), mock.url);
    const known = new Set([m.sessions.oneTurn.id, m.sessions.archived.id]);
    copySessions(home, known);
    await listings(home); // Codex backfills what is there now
    const state = path.join(home, 'state_5.sqlite');
    const rowsOf = () => {
      const db = new Database(state, { readonly: true });
      try {
        return new Map((db.prepare('SELECT * FROM threads').all() as any[]).map((r) => [r.id, r]));
      } finally {
        db.close();
      }
    };
    const before = rowsOf();
    t.same([...before.keys()].sort(), [...known].sort(), 'Codex knows the first round');
    copySessions(home);
    const missed = await listings(home);
    t.ok(missed.active.has(m.sessions.toolTwoTurns.id), 'listing read-repairs the page it shows (name lost)');

    const r = index(home);
    t.equal(r.code, 0, r.err);
    const actions = r.lines.filter((l) => l.action);
    t.ok(
      actions.every((a) => !known.has(a.id)),
      'rows Codex wrote are left alone',
    );
    t.same(
      actions.filter((a) => a.name),
      [{ action: 'fix', id: m.sessions.toolTwoTurns.id, path: path.join(home, m.sessions.toolTwoTurns.relPath), name: m.sessions.toolTwoTurns.name }],
      "the name Codex's repair lost comes back",
    );
    const after = rowsOf();
    for (const id of known) t.same(after.get(id), before.get(id), 'a row Codex wrote is not touched');
    await listsLikeCodex(t, home);
  });
}

// Checks the real-Codex harness itself: the home it builds is what the manifest
// says, and Codex's own indexes (state_5.sqlite, doctor, app-server) agree.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ALL_SOURCE_KINDS, appServer, interop, runCodex } from './codex.js';
import { startMock } from './mock-responses.js';
import { buildRealHome, defaultRealHomeRoot, pruneStaleRealHomes, readRolloutText } from './real-home.js';

await interop(t, run);

async function run() {
  const root = defaultRealHomeRoot();
  pruneStaleRealHomes(root);
  const m = await buildRealHome(root);
  const sessions = Object.values(m.sessions);
  const active = sessions.filter((s) => !s.archived);
  const archived = sessions.filter((s) => s.archived);
  t.comment(`real home ${m.home}: ${sessions.length} sessions, built in ${m.buildMs} ms`);

  t.test('every session file exists where Codex puts it', async (t) => {
    for (const s of sessions) {
      t.ok(fs.existsSync(s.path), `${s.key} exists`);
      const name = `rollout-\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}-${s.id}\\.jsonl(\\.zst)?`;
      const dir = s.archived ? 'archived_sessions/' : 'sessions/\\d{4}/\\d{2}/\\d{2}/';
      t.match(s.relPath, new RegExp(`^${dir}${name}$`), `${s.key} layout`);
      t.equal(s.path.endsWith('.zst'), s.compressed, `${s.key} compression flag`);
    }
    t.ok(m.sessions.compressed.compressed, 'Codex compressed the backdated session');
    t.ok(m.sessions.archived.archived, 'the archived session is in archived_sessions/');
  });

  t.test('file contents match the manifest', async (t) => {
    for (const s of sessions) {
      const lines = readRolloutText(s.path)
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      const meta = lines[0];
      t.equal(meta.type, 'session_meta', `${s.key} starts with session_meta`);
      t.equal(meta.payload.id, s.id, `${s.key} id`);
      t.equal(meta.payload.cwd, s.cwd, `${s.key} cwd`);
      t.equal(meta.payload.source, s.source, `${s.key} source`);
      t.equal(meta.payload.forked_from_id ?? null, s.forkedFromId, `${s.key} forked_from_id`);
      t.equal(meta.payload.git?.repository_url, s.gitRepo ? m.git.originUrl : undefined, `${s.key} git origin`);
      t.same(userMessageItems(lines), s.userMessages, `${s.key} user messages`);
      t.equal(lines.filter((l) => l.payload?.type === 'task_started').length, s.turns, `${s.key} turns`);
      t.equal(
        lines.some((l) => l.payload?.type === 'function_call'),
        s.toolCall,
        `${s.key} tool call`,
      );
      t.equal(
        lines.some((l) => l.payload?.type === 'turn_aborted'),
        s.interrupted,
        `${s.key} interrupted`,
      );
    }
  });

  t.test('manifest matches state_5.sqlite threads', async (t) => {
    const db = new Database(path.join(m.home, 'state_5.sqlite'), { readonly: true, fileMustExist: true });
    t.teardown(() => db.close());
    const rows = new Map<string, any>(
      db
        .prepare('SELECT * FROM threads')
        .all()
        .map((r: any) => [r.id, r]),
    );
    t.same([...rows.keys()].sort(), sessions.map((s) => s.id).sort(), 'one row per session, no more');
    for (const s of sessions) {
      const row = rows.get(s.id);
      if (!row) continue;
      // Codex keeps the plain name in rollout_path after compressing the file.
      t.equal(row.rollout_path, s.path.replace(/\.zst$/, ''), `${s.key} rollout_path`);
      t.equal(row.archived, s.archived ? 1 : 0, `${s.key} archived`);
      t.equal(row.cwd, s.cwd, `${s.key} cwd`);
      t.equal(row.source, s.source, `${s.key} source`);
      t.equal(row.first_user_message, s.firstUserMessage, `${s.key} first_user_message`);
      t.equal(row.name, s.name, `${s.key} name`);
      t.equal(row.history_mode, 'paginated', `${s.key} history_mode`);
      t.equal(row.git_origin_url, s.gitRepo ? m.git.originUrl : null, `${s.key} git_origin_url`);
    }
  });

  t.test('session_index.jsonl holds the name', async (t) => {
    const index = fs
      .readFileSync(path.join(m.home, 'session_index.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const named = sessions.filter((s) => s.name);
    t.same(
      index.map((e) => [e.id, e.thread_name]),
      named.map((s) => [s.id, s.name]),
    );
  });

  t.test('the mock saw earlier turns again when a session was resumed', async (t) => {
    const s = m.sessions.multiTurn;
    const calls = m.modelCalls.filter((c) => c.threadId === s.id);
    t.equal(calls.length, 3, 'one model call per turn');
    for (const msg of s.userMessages) t.ok(calls.at(-1)!.userTexts.includes(msg), `last call carries "${msg}"`);
  });

  t.test('codex doctor --json: rollout files and state DB agree', async (t) => {
    const mock = await startMock();
    t.teardown(() => mock.close());
    const r = await runCodex(m.home, ['doctor', '--json'], { cwd: m.cwds.plain, mockUrl: mock.url, timeoutMs: 60_000 });
    const report = JSON.parse(r.stdout);
    const parity = report.checks['state.rollout_db_parity'];
    t.equal(parity.status, 'ok', parity.summary);
    t.equal(parity.details['rollout DB active files'], String(active.length));
    t.equal(parity.details['rollout DB archived files'], String(archived.length));
    t.equal(parity.details['rollout DB rows'], String(sessions.length));
    t.equal(parity.details['rollout DB stale rows'], '0');
    t.not(report.checks['network.provider_reachability'].status, 'fail', 'the mock is reachable');
  });

  t.test('app-server thread/list and thread/read see the sessions', async (t) => {
    const server = await appServer(m.home, { cwd: m.cwds.plain });
    t.teardown(() => server.close());
    const list = (archived: boolean) => server.request('thread/list', { sourceKinds: ALL_SOURCE_KINDS, modelProviders: [], archived, limit: 100 });
    const live = await list(false);
    t.same(live.data.map((th: any) => th.id).sort(), active.map((s) => s.id).sort(), 'active threads');
    const gone = await list(true);
    t.same(gone.data.map((th: any) => th.id).sort(), archived.map((s) => s.id).sort(), 'archived threads');
    const named = live.data.find((th: any) => th.id === m.sessions.toolTwoTurns.id);
    t.equal(named?.name, m.sessions.toolTwoTurns.name, 'name shown in the list');
    const read = await server.request('thread/read', { threadId: m.sessions.fork.id });
    t.equal(read.thread.forkedFromId, m.sessions.oneTurn.id, 'thread/read knows the fork parent');
  });
}

/** The texts of UserMessage items, i.e. what the user typed (context fragments excluded). */
function userMessageItems(lines: any[]): string[] {
  return lines
    .filter((l) => l.payload?.type === 'item_completed' && l.payload.item?.type === 'UserMessage')
    .map((l) =>
      l.payload.item.content
        .filter((c: any) => c.type === 'text')
        .map((c: any) => c.text)
        .join(''),
    );
}

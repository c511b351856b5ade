// lib/codex-sync.ts: a Codex `threads` row derived from a rollout as Codex 0.169 derives it, the
// disagreements between the table and the files, and the guarded write that mends them.
import { appendFileSync, cpSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import t from 'tap';
import { deriveThread, permissionProfileOf, type ThreadRow } from '../../lib/codex/derive.js';
import { planCodexSync } from '../../lib/codex/plan.js';
import { applyCodexSync } from '../../lib/codex/write.js';
import { discover, codexHome, type SessionFile } from '../../lib/home/paths.js';
import { bareLines, REPO, sessionLines, tmpDir, uuidv7, writeRaw, writeSession } from '../helpers/fixtures.js';
import { stateDb } from '../helpers/prune.js';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as typeof import('better-sqlite3');
const REAL = join(REPO, 'test/fixtures/real');
const manifest = JSON.parse(readFileSync(join(REAL, 'manifest.json'), 'utf8'));

const rows = (path: string, sql = 'SELECT * FROM threads ORDER BY id'): any[] => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
};
const fileOf = async (dir: string, id: string): Promise<SessionFile> => (await discover(codexHome(dir, {}))).find((f) => f.name.threadId === id)!;
const derive = async (dir: string, id: string) => deriveThread(await fileOf(dir, id), { defaultProvider: 'openai' });

t.test("a row derived from each real 0.169 session equals the one Codex's backfill made", async (t) => {
  const dir = tmpDir(t);
  cpSync(REAL, dir, { recursive: true });
  for (const [key, want] of Object.entries<any>(manifest.backfilledThreadRows)) {
    const rel = manifest.sessions[key].relPath;
    // Git keeps no mtimes; Codex took updated_at from the file's.
    utimesSync(join(dir, rel), new Date(want.updated_at_ms), new Date(want.updated_at_ms));
    const got = await derive(dir, want.id);
    if (!('row' in got)) throw new Error(got.refused);
    const expected: ThreadRow = { ...want, rollout_path: join(dir, rel) };
    for (const column of Object.keys(got.row)) t.same(got.row[column], expected[column], `${key}: ${column}`);
  }
});

t.test('legacy files: titles, previews, settings and defaults as Codex derives them', async (t) => {
  const dir = tmpDir(t);
  const cwd = '/home/ana/src/shop';
  const a = writeSession(
    dir,
    {
      start: new Date('2026-08-20T14:03:07.391Z'),
      git: { commit_hash: 'abc', branch: 'main', repository_url: 'https://x/y.git' },
      turns: [{ user: 'ctx\n## My request for Codex:\n  do the thing ' }, { user: 'second' }],
    },
    { mtime: new Date('2026-09-01T10:00:00.500Z') },
  );
  const got = await derive(dir, a.id);
  if (!('row' in got)) throw new Error(got.refused);
  t.match(got.row, {
    title: 'do the thing',
    first_user_message: 'do the thing',
    preview: 'do the thing',
    source: 'cli',
    model_provider: 'openai',
    cwd,
    model: 'gpt-5.5',
    reasoning_effort: 'medium',
    approval_mode: 'on-request',
    history_mode: 'legacy',
    originator: 'codex_cli_rs',
    git_sha: 'abc',
    git_branch: 'main',
    git_origin_url: 'https://x/y.git',
    created_at: 1787234587,
    created_at_ms: 1787234587391,
    updated_at: 1788256800,
    updated_at_ms: 1788256800500,
    archived: 0,
    archived_at: null,
    memory_mode: 'enabled',
  });
  t.equal(got.row.sandbox_policy, permissionProfileOf({ type: 'read-only' }, cwd));

  // Image only: a preview but no title. A subagent: its source as JSON text, its agent fields.
  const { id, lines } = sessionLines({
    start: new Date('2026-08-20T14:12:07.391Z'),
    source: { subagent: 'review' },
    meta: { agent_nickname: 'Nick', agent_role: 'reviewer', memory_mode: 'disabled', thread_source: 'user' },
    turns: [{ user: 'x' }],
  });
  const image = lines.map((l) => {
    const e = JSON.parse(l);
    if (e.payload.type === 'user_message') Object.assign(e.payload, { message: '', images: ['data:image/png;base64,AAAA'] });
    return JSON.stringify(e);
  });
  writeSession(dir, { id, start: new Date('2026-08-20T14:12:07.391Z') }, { raw: Buffer.from(image.join('\n') + '\n') });
  const img = await derive(dir, id);
  if (!('row' in img)) throw new Error(img.refused);
  t.match(img.row, {
    title: '',
    first_user_message: '[Image]',
    preview: '[Image]',
    source: '{"subagent":"review"}',
    agent_nickname: 'Nick',
    agent_role: 'reviewer',
    memory_mode: 'disabled',
    thread_source: 'user',
  });

  // No turn at all: Codex still makes a row, hidden by its empty preview, with its defaults.
  const empty = writeSession(dir, { start: new Date('2026-08-20T14:06:07.391Z'), provider: 'azure', turns: [] });
  const e = await derive(dir, empty.id);
  if (!('row' in e)) throw new Error(e.refused);
  t.match(e.row, {
    preview: '',
    title: '',
    model: null,
    reasoning_effort: null,
    approval_mode: 'on-request',
    model_provider: 'azure',
    sandbox_policy: permissionProfileOf({ type: 'read-only' }, ''),
  });

  const archived = writeSession(
    dir,
    { start: new Date('2026-08-20T14:09:07.391Z'), turns: [{ user: 'old' }] },
    { root: 'archived_sessions', mtime: new Date('2026-09-01T10:00:00Z') },
  );
  const ar = await derive(dir, archived.id);
  t.match('row' in ar && ar.row, { archived: 1, archived_at: 1788256800 });
});

t.test("the last thread_settings_applied gives the row's cwd and provider, over session_meta's (as Codex's backfill)", async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { cwd: '/home/ana/src/shop', provider: 'openai', turns: [{ user: 'first' }] });
  const settings = (cwd: string, provider: string) =>
    JSON.stringify({
      timestamp: '2026-08-21T09:12:40.126Z',
      type: 'event_msg',
      payload: { type: 'thread_settings_applied', thread_settings: { model: 'gpt-5.5', model_provider_id: provider, cwd } },
    }) + '\n';
  const derived = async () => {
    const got = await derive(dir, s.id);
    if (!('row' in got)) throw new Error(got.refused);
    return [got.row.cwd, got.row.model_provider];
  };
  t.same(await derived(), ['/home/ana/src/shop', 'openai'], 'none: the session_meta');
  // Resumed twice, from other places and providers: the last one counts.
  appendFileSync(s.path, settings('/srv/elsewhere', 'azure') + settings('/Users/ana/code/shop', 'mock'));
  t.same(await derived(), ['/Users/ana/code/shop', 'mock']);
});

t.test('legacy sandbox policies become the permission profiles Codex 0.169 stores', async (t) => {
  // Each expectation is what Codex 0.169's backfill wrote for a file with that turn_context.sandbox_policy.
  const root = '{"path":{"type":"special","value":{"kind":"root"}},"access":"read"}';
  const skip = (p: string) => `{"path":${p},"access":"read","missing_path_behavior":"skip"}`;
  const sub = (s: string) => skip(`{"type":"special","value":{"kind":"project_roots","subpath":"${s}"}}`);
  const subs = ['.git', '.agents', '.codex', '.aws'].map(sub).join(',');
  const write = (p: string) => `{"path":${p},"access":"write"}`;
  const projects = write('{"type":"special","value":{"kind":"project_roots"}}');
  const tmp = write('{"type":"special","value":{"kind":"slash_tmp"}}') + ',' + write('{"type":"special","value":{"kind":"tmpdir"}}');
  const managed = (entries: string, net: string) => `{"type":"managed","file_system":{"type":"restricted","entries":[${entries}]},"network":"${net}"}`;
  const cwdCodex = skip('{"type":"path","path":"/w/.codex"}');
  t.equal(permissionProfileOf({ type: 'danger-full-access' }, '/w'), '{"type":"disabled"}');
  t.equal(permissionProfileOf({ type: 'read-only' }, '/w'), managed(root, 'restricted'));
  t.equal(permissionProfileOf({ type: 'read-only', network_access: true }, '/w'), managed(root, 'enabled'));
  t.equal(permissionProfileOf({ type: 'external-sandbox', network_access: 'enabled' }, '/w'), '{"type":"external","network":"enabled"}');
  t.equal(permissionProfileOf({ type: 'external-sandbox' }, '/w'), '{"type":"external","network":"restricted"}');
  t.equal(permissionProfileOf({ type: 'workspace-write' }, '/w'), managed([root, projects, tmp, subs, cwdCodex].join(','), 'restricted'));
  t.equal(
    permissionProfileOf({ type: 'workspace-write', writable_roots: ['/a', '/b'], network_access: false }, '/w'),
    managed([root, projects, tmp, write('{"type":"path","path":"/a"}'), write('{"type":"path","path":"/b"}'), subs, cwdCodex].join(','), 'restricted'),
  );
  t.equal(
    permissionProfileOf({ type: 'workspace-write', writable_roots: [], network_access: true, exclude_tmpdir_env_var: true, exclude_slash_tmp: true }, '/w'),
    managed([root, projects, subs, cwdCodex].join(','), 'enabled'),
  );
  t.equal(permissionProfileOf({ mode: 'workspace-write' }, '/w'), null, 'an old tag Codex cannot decode');
});

t.test('files Codex cannot read are refused, with the reason', async (t) => {
  const dir = tmpDir(t);
  const c = uuidv7(Date.parse('2025-08-01T10:00:00Z'));
  writeRaw(dir, `sessions/2025/08/01/rollout-2025-08-01T10-00-00-${c}.jsonl`, bareLines('C', c, ['hi', 'there']).join('\n') + '\n');
  t.same(await derive(dir, c), { refused: 'generation C (bare lines): Codex cannot read it' });

  const bom = writeSession(dir, { start: new Date('2026-08-20T10:00:00Z'), turns: [{ user: 'a' }] });
  writeFileSync(bom.path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(bom.path)]));
  t.match(await derive(dir, bom.id), { refused: /byte-order mark/ });

  const utf = writeSession(dir, { start: new Date('2026-08-20T10:01:00Z'), turns: [{ user: 'a' }] });
  const bytes = readFileSync(utf.path);
  const at = bytes.indexOf('Answer to');
  bytes[at] = 0xff;
  writeFileSync(utf.path, bytes);
  t.match(await derive(dir, utf.id), { refused: /invalid UTF-8 on line \d+/ });

  const other = writeSession(dir, { start: new Date('2026-08-20T10:02:00Z'), turns: [{ user: 'a' }] });
  const wrong = uuidv7();
  writeFileSync(other.path, readFileSync(other.path, 'utf8').replaceAll(other.id, wrong));
  t.same(await derive(dir, other.id), { refused: `its session_meta id ${wrong} does not match the file name` });

  const mode = writeSession(dir, { start: new Date('2026-08-20T10:03:00Z'), turns: [{ user: 'a' }] });
  writeFileSync(mode.path, readFileSync(mode.path, 'utf8').replace('"history_mode":"legacy"', '"history_mode":"sharded"'));
  t.match(await derive(dir, mode.id), { refused: /unknown history_mode 'sharded'/ });

  const headless = writeSession(dir, { start: new Date('2026-08-20T10:04:00Z'), turns: [{ user: 'a' }] });
  writeFileSync(headless.path, readFileSync(headless.path, 'utf8').split('\n').slice(1).join('\n'));
  t.match(await derive(dir, headless.id), { refused: /first line is not a session_meta/ });

  // A torn last line is what Codex skips too: the session is still read.
  const torn = writeSession(dir, { start: new Date('2026-08-20T10:05:00Z'), turns: [{ user: 'torn one' }] });
  writeFileSync(torn.path, readFileSync(torn.path, 'utf8') + '{"timestamp":"2026-08');
  t.match(await derive(dir, torn.id), { row: { title: 'torn one' } });
});

t.test('the plan and the write: insert, re-point, re-archive, remove; right rows untouched', async (t) => {
  const dir = tmpDir(t);
  const home = codexHome(dir, {});
  const at = (s: string) => new Date(s);
  const right = writeSession(dir, { start: at('2026-08-01T10:00:00Z'), turns: [{ user: 'right' }] });
  const zst = writeSession(dir, { start: at('2026-08-02T10:00:00Z'), turns: [{ user: 'compressed' }] }, { zst: 'only' });
  const moved = writeSession(dir, { start: at('2026-08-03T10:00:00Z'), turns: [{ user: 'moved' }] });
  const archived = writeSession(
    dir,
    { start: at('2026-08-04T10:00:00Z'), turns: [{ user: 'archived' }] },
    { root: 'archived_sessions', mtime: at('2026-09-01T00:00:00Z') },
  );
  const missing = writeSession(dir, { start: at('2026-08-05T10:00:00Z'), turns: [{ user: 'missing' }] }, { mtime: at('2026-09-02T00:00:00.250Z') });
  const gone = uuidv7();
  const c = uuidv7(Date.parse('2025-08-01T10:00:00Z'));
  const genC = writeRaw(dir, `sessions/2025/08/01/rollout-2025-08-01T10-00-00-${c}.jsonl`, bareLines('C', c, ['hi']).join('\n') + '\n');
  writeFileSync(join(dir, 'session_index.jsonl'), JSON.stringify({ id: missing.id, thread_name: 'found again', updated_at: '2026-09-02T00:00:00Z' }) + '\n');
  const db = stateDb(dir, [
    { id: right.id, path: right.path },
    { id: zst.id, path: zst.path }, // Codex keeps the .jsonl name after compressing
    { id: moved.id, path: '/old/machine/.codex/sessions/2026/08/03/' + moved.path.split('/').pop() },
    { id: archived.id, path: archived.path, archived: false },
    { id: gone, path: join(dir, 'sessions/2026/07/01/rollout-2026-07-01T10-00-00-' + gone + '.jsonl') },
  ]);
  // An existing row with the updated_at_ms the new one would take: Codex keeps them unique.
  const w = new Database(db);
  w.prepare('UPDATE threads SET updated_at_ms = ? WHERE id = ?').run(Date.parse('2026-09-02T00:00:00.250Z'), right.id);
  w.prepare("INSERT INTO thread_dynamic_tools (thread_id, position, name, description, input_schema) VALUES (?, 0, 'n', 'd', '{}')").run(gone);
  w.close();
  const before = rows(db);

  const plan = await planCodexSync(home);
  t.same(
    plan.drifts.map((d) => [d.drift, d.id]).sort(),
    [
      ['archived', archived.id],
      ['gone', gone],
      ['missing', missing.id],
      ['moved', moved.id],
      ['unreadable', c],
    ].sort(),
  );
  t.equal(plan.unchanged, 2, 'the right row and the compressed one');
  t.match(
    plan.drifts.find((d) => d.drift === 'unreadable'),
    { path: genC, reason: /generation C/ },
  );

  const actions: any[] = [];
  const summary = await applyCodexSync(home, plan, (a) => actions.push(a));
  t.match(summary, { inserted: 1, fixed: 2, removed: 1, unchanged: 2, unreadable: 1, raced: 0 });
  t.ok(summary.backup && readdirSync(dir).includes(summary.backup.split('/').pop()!), 'a backup beside the DB');
  t.same(rows(summary.backup!), before, 'the backup holds the table as it was');
  t.same(actions.map((a) => a.action).sort(), ['fix', 'fix', 'insert', 'remove']);

  const after = new Map(rows(db).map((r) => [r.id, r]));
  t.same(
    after.get(right.id),
    before.find((r) => r.id === right.id),
    'a right row is not touched',
  );
  t.same(
    after.get(zst.id),
    before.find((r) => r.id === zst.id),
    'a .jsonl row for a .jsonl.zst file is right',
  );
  t.equal(after.get(moved.id).rollout_path, moved.path);
  t.match(after.get(archived.id), { archived: 1, archived_at: Date.parse('2026-09-01T00:00:00Z') / 1000, title: 't' }, 'archive state mended, the rest kept');
  t.notOk(after.has(gone), 'the row of a vanished file is removed');
  t.same(rows(db, 'SELECT count(*) AS n FROM thread_dynamic_tools'), [{ n: 0 }], "and its dependants, by Codex's own cascade");
  t.notOk(after.has(c), 'a generation C session gets no row');
  t.match(after.get(missing.id), {
    name: 'found again',
    preview: 'missing',
    updated_at_ms: Date.parse('2026-09-02T00:00:00.250Z') + 1,
    recency_at_ms: Date.parse('2026-09-02T00:00:00.250Z') + 1,
  });

  const again = await planCodexSync(home);
  t.same(
    again.drifts.map((d) => d.drift),
    ['unreadable'],
    'a second look finds only what Codex cannot read',
  );
  const idle = await applyCodexSync(home, again);
  t.equal(idle.backup, null, 'nothing to write: no backup, no transaction');
});

t.test('a row Codex changed after the comparison is left as Codex made it', async (t) => {
  const dir = tmpDir(t);
  const home = codexHome(dir, {});
  const a = writeSession(dir, { start: new Date('2026-08-03T10:00:00Z'), turns: [{ user: 'a' }] });
  const b = writeSession(dir, { start: new Date('2026-08-04T10:00:00Z'), turns: [{ user: 'b' }] });
  const db = stateDb(dir, [{ id: a.id, path: '/elsewhere/a.jsonl' }]);
  const plan = await planCodexSync(home);
  const w = new Database(db);
  w.prepare('UPDATE threads SET rollout_path = ? WHERE id = ?').run('/codex/put/it/here.jsonl', a.id);
  w.prepare(
    "INSERT INTO threads (id, rollout_path, created_at, updated_at, source, model_provider, cwd, title, sandbox_policy, approval_mode) VALUES (?, ?, 1, 1, 'cli', 'openai', '/', 'codex wrote it', '{}', 'never')",
  ).run(b.id, b.path);
  w.close();
  const summary = await applyCodexSync(home, plan);
  t.match(summary, { inserted: 0, fixed: 0, raced: 2 });
  t.same(
    rows(db, 'SELECT id, rollout_path, title FROM threads ORDER BY id'),
    [
      { id: a.id, rollout_path: '/codex/put/it/here.jsonl', title: 't' },
      { id: b.id, rollout_path: b.path, title: 'codex wrote it' },
    ].sort((x, y) => x.id.localeCompare(y.id)),
  );
});

t.test('backups: one per writing run, the newest three kept', async (t) => {
  const dir = tmpDir(t);
  const home = codexHome(dir, {});
  stateDb(dir, []);
  const made: string[] = [];
  for (let i = 0; i < 5; i++) {
    writeSession(dir, { start: new Date(Date.parse('2026-08-01T10:00:00Z') + i * 60_000), turns: [{ user: `s${i}` }] });
    const s = await applyCodexSync(home, await planCodexSync(home));
    made.push(s.backup!.split('/').pop()!);
    await new Promise((r) => setTimeout(r, 5));
  }
  t.same(
    readdirSync(dir)
      .filter((n) => n.includes('rollout-backup'))
      .sort(),
    made.slice(-3),
  );
});

t.test('a threads table with a required column this version does not know is not written', async (t) => {
  const dir = tmpDir(t);
  const home = codexHome(dir, {});
  const db = stateDb(dir, []);
  // SQLite cannot add a NOT NULL column without a default to a table: make the table anew with one.
  const w = new Database(db);
  const ddl = (w.prepare("SELECT sql FROM sqlite_master WHERE name = 'threads'").get() as { sql: string }).sql;
  w.exec(`DROP TABLE threads; ${ddl.replace(/\)\s*$/, ', future_thing TEXT NOT NULL)')}`);
  w.close();
  writeSession(dir, { start: new Date('2026-08-01T10:00:00Z'), turns: [{ user: 'a' }] });
  await t.rejects(applyCodexSync(home, await planCodexSync(home)), /requires columns this version does not know: future_thing/);
  t.same(rows(db, 'SELECT count(*) AS n FROM threads'), [{ n: 0 }]);
  t.same(
    readdirSync(dir).filter((n) => n.includes('rollout-backup')),
    [],
    'refused before any backup',
  );
});

t.test('no state DB: a clear error', async (t) => {
  const dir = tmpDir(t);
  await t.rejects(planCodexSync(codexHome(dir, {})), /Codex has no state DB here yet/);
});

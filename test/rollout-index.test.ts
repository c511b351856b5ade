// rollout-index as a subprocess: incremental behaviour, every generation, concurrency and crashes.
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import t from 'tap';
import { bareLines, ndjson, REPO, run, sessionLines, tmpDir, uuidv7, writeRaw, writeSession } from './helpers/fixtures.js';
import { bareMessage, bareSession } from './helpers/generations.js';

const require = createRequire(import.meta.url);
// Every check runs real subprocesses, some over homes of hundreds of sessions.
t.setTimeout(900_000);
const Database = require('better-sqlite3');

const index = (home: string, ...args: string[]) => run('rollout-index', args, { env: { CODEX_HOME: home, ROLLOUT_INDEX: '' } });
const ls = (home: string, ...args: string[]) =>
  ndjson(run('rollout-ls', ['--no-update', '--include-archived', ...args], { env: { CODEX_HOME: home, ROLLOUT_INDEX: '' } }).out);
const summary = (home: string, ...args: string[]) => {
  const r = index(home, ...args);
  if (r.code !== 0) throw new Error(`rollout-index failed: ${r.err}`);
  return JSON.parse(r.out.trim().split('\n').pop()!);
};
const past = new Date('2026-09-01T12:00:00Z');

/** What `read` finds in the index file, opened read-only and closed again. */
function readIndex<T>(index: string, read: (db: any) => T): T {
  const db = new Database(index, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}
const turns = (n: number, word = 'turn') => Array.from({ length: n }, (_, i) => ({ user: `${word} ${i + 1}`, tool: { cmd: 'ls', output: `out ${i}` } }));

t.test('first run adds, second run opens nothing, a change is seen', (t) => {
  const home = tmpDir(t);
  const a = writeSession(home, { turns: turns(2), start: new Date('2026-08-01T10:00:00Z') }, { mtime: past });
  writeSession(home, { turns: turns(1), history: 'paginated', start: new Date('2026-08-02T10:00:00Z') }, { mtime: past });
  const first = summary(home);
  t.match(first, { scanned: 2, added: 2, updated: 0, removed: 0, unchanged: 0 });
  t.ok(first.bytes_read > 0);
  t.match(summary(home), { scanned: 2, added: 0, updated: 0, unchanged: 2, bytes_read: 0 });
  rmSync(a.path);
  t.match(summary(home), { scanned: 1, removed: 1, unchanged: 1 });
  t.equal(ls(home).length, 1);
  t.end();
});

t.test('rows carry the session fields; the title skips injected context', (t) => {
  const home = tmpDir(t);
  const s = writeSession(
    home,
    {
      turns: turns(3, 'Fix the cart'),
      model: 'gpt-5.5-codex',
      effort: 'high',
      git: { branch: 'main', commit_hash: 'abc', repository_url: 'git@x:y.git' },
      cwd: '/w/shop',
    },
    { mtime: past },
  );
  summary(home);
  const [row] = ls(home);
  t.match(row, {
    id: s.id,
    path: s.path,
    archived: false,
    compressed: false,
    cwd: '/w/shop',
    title: 'Fix the cart 1',
    turns: 3,
    model: 'gpt-5.5-codex',
    effort: 'high',
    git_branch: 'main',
    git_sha: 'abc',
    git_origin_url: 'git@x:y.git',
    model_provider: 'openai',
    source: 'cli',
    history_mode: 'legacy',
    generation: 'D',
    tokens: 3003, // the last cumulative total: 1000, 2001, 3003
    created_at: '2026-08-20T14:03:07.391Z',
    bad_lines: 0,
  });
  // updated_at: the later of the last line's time and the file's mtime (here: the last line).
  t.ok(Date.parse(row.updated_at) > Date.parse(row.created_at));
  t.end();
});

t.test('every generation gets a row with a created time and a title', (t) => {
  const home = tmpDir(t);
  const idA = uuidv7();
  const idB = uuidv7();
  const idC = uuidv7();
  const id0 = uuidv7();
  writeRaw(home, `sessions/rollout-2025-05-08-${idA}.jsonl`, bareLines('A', idA, ['gen A question', 'answer']).join('\n') + '\n');
  writeRaw(home, `sessions/rollout-2025-06-01T10-00-00-${idB}.jsonl`, bareLines('B', idB, ['gen B question', 'answer']).join('\n') + '\n');
  writeRaw(home, `sessions/2025/08/01/rollout-2025-08-01T10-00-00-${idC}.jsonl`, bareLines('C', idC, ['gen C question', 'answer', 'second']).join('\n') + '\n');
  const meta = { id: id0, timestamp: '2025-04-20T09:00:00.000Z', instructions: '' };
  writeRaw(home, `sessions/rollout-2025-04-20-${id0}.json`, bareSession('0', meta, [bareMessage('user', 'gen 0 question')]));
  const e = writeSession(home, { history: 'paginated', turns: turns(2, 'gen E') });
  summary(home);
  const rows = new Map(ls(home).map((r: any) => [r.id, r]));
  t.match(rows.get(idA), { generation: 'A', title: 'gen A question', turns: 1 });
  t.match(rows.get(idB), { generation: 'B', title: 'gen B question', turns: 1 });
  t.match(rows.get(idC), { generation: 'C', title: 'gen C question', turns: 2, git_branch: 'main', created_at: '2025-08-01T10:00:00.000Z' });
  t.match(rows.get(id0), { generation: '0', title: 'gen 0 question', created_at: '2025-04-20T09:00:00.000Z' });
  t.match(rows.get(e.id), { generation: 'E', history_mode: 'paginated', title: 'gen E 1', turns: 2 });
  t.end();
});

t.test('a first user message 300 lines in is the title', (t) => {
  const home = tmpDir(t);
  const { id, lines } = sessionLines({ turns: [{ user: 'the real question' }] });
  const noise = Array.from({ length: 300 }, (_, i) =>
    JSON.stringify({ timestamp: '2026-08-20T14:03:08.000Z', type: 'event_msg', payload: { type: 'token_count', info: null, rate_limits: null, n: i } }),
  );
  const file = writeRaw(home, `sessions/2026/08/20/rollout-2026-08-20T14-03-07-${id}.jsonl`, [lines[0], ...noise, ...lines.slice(1)].join('\n') + '\n');
  summary(home);
  t.match(ls(home), [{ id, path: file, title: 'the real question', turns: 1 }]);
  t.end();
});

t.test('.jsonl.zst: indexed, and a plain+zst pair is one row', (t) => {
  const home = tmpDir(t);
  const z = writeSession(home, { turns: turns(2, 'compressed') }, { zst: 'only' });
  const pair = writeSession(home, { turns: turns(1, 'pair'), start: new Date('2026-08-21T10:00:00Z') }, { zst: true });
  summary(home);
  const rows = ls(home);
  t.equal(rows.length, 2);
  t.match(
    rows.find((r: any) => r.id === z.id),
    { compressed: true, path: `${z.path}.zst`, title: 'compressed 1', turns: 2 },
  );
  t.match(
    rows.find((r: any) => r.id === pair.id),
    { compressed: false, path: pair.path },
  );
  // Compressing in place (the plain file goes, its .zst stays): the row now reads the .zst.
  rmSync(pair.path);
  t.match(summary(home), { removed: 1, added: 1, scanned: 2 });
  t.match(
    ls(home).find((r: any) => r.id === pair.id),
    { compressed: true, path: `${pair.path}.zst`, title: 'pair 1' },
  );
  t.end();
});

t.test('appends are read from where the last run stopped', (t) => {
  const home = tmpDir(t);
  const { id, lines } = sessionLines({ turns: turns(3, 'step') });
  const path = writeRaw(home, `sessions/2026/08/20/rollout-2026-08-20T14-03-07-${id}.jsonl`, lines.slice(0, 20).join('\n') + '\n');
  const first = summary(home);
  t.equal(first.bytes_read, Buffer.byteLength(lines.slice(0, 20).join('\n') + '\n'));
  const before = ls(home)[0];
  appendFileSync(path, lines.slice(20).join('\n') + '\n');
  const second = summary(home);
  t.match(second, { updated: 1, added: 0 });
  t.equal(second.bytes_read, Buffer.byteLength(lines.slice(20).join('\n') + '\n'), 'only the new bytes');
  const after = ls(home)[0];
  t.equal(after.turns, 3);
  t.equal(after.title, before.title);
  // The same counts as one whole read.
  const fresh = tmpDir(t);
  writeRaw(fresh, `sessions/2026/08/20/rollout-2026-08-20T14-03-07-${id}.jsonl`, lines.join('\n') + '\n');
  summary(fresh);
  const whole = ls(fresh)[0];
  for (const k of ['turns', 'title', 'tokens', 'model', 'effort']) t.same(after[k], whole[k], k);
  t.same(
    ndjson(run('rollout-ls', ['--no-update', '--search', 'step', '--hits'], { env: { CODEX_HOME: home } }).out).length,
    ndjson(run('rollout-ls', ['--no-update', '--search', 'step', '--hits'], { env: { CODEX_HOME: fresh } }).out).length,
    'same hits',
  );
  t.end();
});

t.test('a torn last line is left for later, then indexed once complete', (t) => {
  const home = tmpDir(t);
  const { id, lines } = sessionLines({ turns: turns(2, 'torn') });
  const path = writeRaw(home, `sessions/2026/08/20/rollout-2026-08-20T14-03-07-${id}.jsonl`, lines.slice(0, 6).join('\n') + '\n' + lines[6].slice(0, 30));
  summary(home);
  t.equal(ls(home)[0].bad_lines, 0);
  appendFileSync(path, lines[6].slice(30) + '\n' + lines.slice(7).join('\n') + '\n');
  summary(home);
  t.match(ls(home)[0], { turns: 2, bad_lines: 0 });
  t.end();
});

t.test('archive and unarchive are moves, recognised without re-reading', (t) => {
  const home = tmpDir(t);
  const s = writeSession(home, { turns: turns(1) }, { mtime: past });
  summary(home);
  const archived = join(home, 'archived_sessions', s.path.split('/').pop()!);
  mkdirSync(join(home, 'archived_sessions'));
  renameSync(s.path, archived);
  t.match(summary(home), { moved: 1, added: 0, removed: 0, bytes_read: 0 });
  t.match(ls(home), [{ id: s.id, path: archived, archived: true }]);
  t.same(ndjson(run('rollout-ls', ['--no-update'], { env: { CODEX_HOME: home } }).out), [], 'archived sessions are left out by default');
  renameSync(archived, s.path);
  utimesSync(s.path, new Date(), new Date()); // Codex touches an unarchived file
  t.match(summary(home), { moved: 1, bytes_read: 0 });
  t.match(ls(home), [{ id: s.id, path: s.path, archived: false }]);
  t.end();
});

t.test('names come from session_index.jsonl (newest wins) and update without touching rollouts', (t) => {
  const home = tmpDir(t);
  const s = writeSession(home, { turns: turns(1) }, { mtime: past });
  const log = join(home, 'session_index.jsonl');
  writeFileSync(log, JSON.stringify({ id: s.id, thread_name: 'first name', updated_at: '2026-09-01T00:00:00Z' }) + '\n');
  summary(home);
  t.equal(ls(home)[0].name, 'first name');
  appendFileSync(log, JSON.stringify({ id: s.id, thread_name: 'better name', updated_at: '2026-09-02T00:00:00Z' }) + '\n');
  t.match(summary(home), { unchanged: 1 });
  t.equal(ls(home)[0].name, 'better name');
  t.match(ls(home, '--name', 'better name'), [{ id: s.id }]);
  t.end();
});

t.test('a legacy copied fork: its copy of the parent is not searchable twice, its turns count', (t) => {
  const home = tmpDir(t);
  const parent = sessionLines({ turns: [{ user: 'parent question zebra' }, { user: 'parent second' }], start: new Date('2026-08-01T10:00:00Z') });
  writeRaw(home, `sessions/2026/08/01/rollout-2026-08-01T10-00-00-${parent.id}.jsonl`, parent.lines.join('\n') + '\n');
  const child = sessionLines({
    turns: [{ user: 'child question' }],
    start: new Date('2026-08-05T10:00:00Z'),
    meta: { forked_from_id: parent.id },
    noContext: true,
  });
  // Copied lines keep their time (older than the fork); Codex then writes thread_settings_applied.
  const settings = JSON.stringify({
    timestamp: '2026-08-05T10:00:00.500Z',
    type: 'event_msg',
    payload: { type: 'thread_settings_applied', thread_settings: { model: 'gpt-5.5' } },
  });
  const lines = [child.lines[0], ...parent.lines, settings, ...child.lines.slice(1)];
  writeRaw(home, `sessions/2026/08/05/rollout-2026-08-05T10-00-00-${child.id}.jsonl`, lines.join('\n') + '\n');
  summary(home);
  const row = ls(home).find((r: any) => r.id === child.id);
  t.match(row, { forked_from_id: parent.id, turns: 3, title: 'parent question zebra' });
  const hits = ndjson(run('rollout-ls', ['--no-update', '--search', 'zebra', '--hits'], { env: { CODEX_HOME: home } }).out);
  t.same(
    hits.map((h: any) => h.id),
    [parent.id, parent.id],
    'the question and its answer, in the parent only',
  );
  t.match(ls(home, '--search', 'child'), [{ id: child.id }]);
  t.end();
});

t.test('a referenced (paginated) fork inherits its parent’s turns up to the cut', (t) => {
  const home = tmpDir(t);
  const parent = writeSession(home, { history: 'paginated', turns: turns(3, 'p'), start: new Date('2026-08-01T10:00:00Z') });
  const cut = parent.lines.slice(0, 1 + parent.lines.findIndex((l, i) => i > 0 && l.includes('task_complete')));
  const end = Buffer.byteLength(cut.join('\n') + '\n');
  const child = writeSession(home, {
    history: 'paginated',
    start: new Date('2026-08-03T10:00:00Z'),
    firstOrdinal: cut.length,
    noContext: true,
    meta: { forked_from_id: parent.id, history_base: { thread_id: parent.id, end_ordinal_exclusive: cut.length, end_byte_offset: end } },
    turns: [{ user: 'child own turn' }],
  });
  summary(home);
  t.match(
    ls(home).find((r: any) => r.id === child.id),
    { turns: 2, title: 'child own turn', history_base: parent.id, forked_from_id: parent.id },
  );
  t.match(ls(home, '--forked-from', parent.id.slice(0, 8)), [{ id: child.id }]);
  t.end();
});

t.test('--check lists drift and exits 1; clean exits 0', (t) => {
  const home = tmpDir(t);
  const s = writeSession(home, { turns: turns(1) }, { mtime: past });
  let r = index(home, '--check');
  t.equal(r.code, 1);
  t.match(ndjson(r.out), [{ drift: 'new', id: s.id, path: s.path }]);
  summary(home);
  r = index(home, '--check');
  t.equal(r.code, 0, r.err);
  t.equal(r.out, '');
  appendFileSync(s.path, sessionLines({ turns: turns(1) }).lines[1] + '\n');
  r = index(home, '--check');
  t.match(ndjson(r.out), [{ drift: 'grown', id: s.id }]);
  t.end();
});

t.test('--stdin re-reads just the sessions named; --rebuild swaps in a fresh index', (t) => {
  const home = tmpDir(t);
  const a = writeSession(home, { turns: turns(1) }, { mtime: past });
  const b = writeSession(home, { turns: turns(2), start: new Date('2026-08-22T10:00:00Z') }, { mtime: past });
  summary(home);
  const r = run('rollout-index', ['--stdin'], { input: `${a.id}\n${b.path}\n`, env: { CODEX_HOME: home } });
  t.equal(r.code, 0, r.err);
  t.match(JSON.parse(r.out), { updated: 2, scanned: 2 });
  const bad = run('rollout-index', ['--stdin'], { input: 'no-such-session\n', env: { CODEX_HOME: home } });
  t.equal(bad.code, 1);
  t.match(bad.err, /^rollout-index: error: no session matches 'no-such-session'/);
  const rebuilt = summary(home, '--rebuild');
  t.match(rebuilt, { added: 2, scanned: 2 });
  t.equal(ls(home).length, 2);
  t.end();
});

t.test('--index and $ROLLOUT_INDEX choose the file; usage errors exit 2', (t) => {
  const home = tmpDir(t);
  writeSession(home, { turns: turns(1) });
  const other = join(tmpDir(t), 'sub', 'x.sqlite');
  t.equal(run('rollout-index', ['--index', other], { env: { CODEX_HOME: home } }).code, 0);
  const db = new Database(other, { readonly: true });
  t.equal(db.prepare('SELECT count(*) FROM sessions').pluck().get(), 1);
  t.ok(db.pragma('user_version', { simple: true }) >= 1, 'schema version recorded');
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
  t.equal(run('rollout-index', ['--rebuild', '--check'], { env: { CODEX_HOME: home } }).code, 2);
  t.equal(run('rollout-index', ['stray'], { env: { CODEX_HOME: home } }).code, 2);
  t.end();
});

t.test('an unreadable file is listed, warned about once, and does not stop the run', (t) => {
  const home = tmpDir(t);
  const id = uuidv7();
  writeRaw(home, `sessions/2026/08/20/rollout-2026-08-20T14-03-07-${id}.jsonl.zst`, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4, 5, 6]));
  const good = writeSession(home, { turns: turns(1) });
  const r = index(home);
  t.equal(r.code, 0);
  t.match(r.err, /corrupt zstd/);
  t.equal(ls(home).length, 2);
  t.match(
    ls(home).find((x: any) => x.id === id),
    { bad_lines: 1 },
  );
  const again = index(home);
  t.equal(again.err, '', 'not retried while unchanged');
  t.ok(ls(home).some((x: any) => x.id === good.id));
  t.end();
});

/** A home big enough that indexing it takes a while. */
function bigHome(t: any, n: number): string {
  const home = tmpDir(t);
  const output = 'lorem ipsum dolor sit amet '.repeat(2000);
  for (let i = 0; i < n; i++) {
    writeSession(
      home,
      {
        start: new Date(Date.UTC(2026, 6, 1, 0, i)),
        turns: [
          { user: `q${i}`, tool: { cmd: 'cat', output } },
          { user: `r${i}`, tool: { cmd: 'cat', output } },
        ],
      },
      { mtime: past },
    );
  }
  return home;
}

const spawnIndex = (home: string, args: string[] = []) =>
  spawn(process.execPath, [join(REPO, 'dist/cmd/rollout-index.js'), ...args], { env: { ...process.env, CODEX_HOME: home, ROLLOUT_INDEX: '', NO_COLOR: '1' } });

const finished = (p: ReturnType<typeof spawn>) =>
  new Promise<{ code: number | null; signal: string | null; out: string }>((done) => {
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.on('close', (code, signal) => done({ code, signal, out }));
  });

t.test('two runs at once: neither corrupts nor double counts', async (t) => {
  const home = bigHome(t, 150);
  summary(home); // an existing index, so both runs share it
  const rows = ls(home);
  for (let i = 0; i < 150; i += 3)
    appendFileSync(
      rows[i].path,
      sessionLines({ turns: turns(1, 'more') })
        .lines.slice(1)
        .join('\n') + '\n',
    );
  const [x, y] = await Promise.all([finished(spawnIndex(home)), finished(spawnIndex(home))]);
  t.equal(x.code, 0);
  t.equal(y.code, 0);
  const [sx, sy] = [JSON.parse(x.out), JSON.parse(y.out)];
  t.equal(sx.updated + sy.updated, 50, 'each grown file read once');
  const db = new Database(join(home, 'rollout-index.sqlite'), { readonly: true });
  t.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  t.equal(db.prepare('SELECT count(*) FROM sessions').pluck().get(), 150);
  const more = db.prepare("SELECT count(*) FROM docs WHERE docs MATCH 'more'").pluck().get();
  t.equal(more, 50 * 2, 'no document twice (the user message and its answer per grown file)');
  db.close();
});

t.test('a run killed midway leaves the old index usable; the next run finishes the work', async (t) => {
  const home = bigHome(t, 300);
  writeSession(home, { turns: turns(1, 'before') }, { mtime: past });
  summary(home);
  for (let i = 0; i < 300; i++) {
    writeSession(
      home,
      { start: new Date(Date.UTC(2026, 7, 1, 0, i)), turns: [{ user: `new ${i}`, tool: { cmd: 'cat', output: 'lorem ipsum '.repeat(40000) } }] },
      { mtime: past },
    );
  }
  const p = spawnIndex(home);
  await new Promise((r) => setTimeout(r, 400));
  p.kill('SIGKILL');
  const end = await finished(p);
  t.equal(end.signal, 'SIGKILL');
  const usable = run('rollout-ls', ['--no-update', '--search', 'before'], { env: { CODEX_HOME: home } });
  t.equal(usable.code, 0, usable.err);
  t.equal(ndjson(usable.out).length, 1);
  const next = summary(home);
  t.equal(next.added + next.unchanged, 601);
  t.equal(ls(home).length, 601);
  const db = new Database(join(home, 'rollout-index.sqlite'), { readonly: true });
  t.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  db.close();
});

t.test('a file being written while indexed is indexed up to its last complete line', async (t) => {
  const home = tmpDir(t);
  const { id, lines } = sessionLines({ turns: turns(40, 'live') });
  const path = writeRaw(home, `sessions/2026/08/20/rollout-2026-08-20T14-03-07-${id}.jsonl`, lines[0] + '\n');
  const writer = (async () => {
    for (let i = 1; i < lines.length; i++) {
      // Each line arrives in two writes, as a crash or a slow writer could leave it.
      appendFileSync(path, lines[i].slice(0, 10));
      appendFileSync(path, lines[i].slice(10) + '\n');
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const runs: Promise<unknown>[] = [];
  for (let k = 0; k < 4; k++) runs.push(finished(spawnIndex(home)));
  await Promise.all([writer, ...runs]);
  summary(home);
  const row = ls(home)[0];
  t.match(row, { id, turns: 40, bad_lines: 0 });
  const fresh = tmpDir(t);
  writeRaw(fresh, `sessions/2026/08/20/rollout-2026-08-20T14-03-07-${id}.jsonl`, lines.join('\n') + '\n');
  summary(fresh);
  const whole = ndjson(run('rollout-ls', ['--no-update', '--search', 'live', '--hits'], { env: { CODEX_HOME: fresh } }).out).length;
  t.equal(ndjson(run('rollout-ls', ['--no-update', '--search', 'live', '--hits'], { env: { CODEX_HOME: home } }).out).length, whole, 'every message once');
});

/** Ages every directory of a home, so that the snapshot of the next run can vouch for them. */
function ageDirs(home: string): void {
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    utimesSync(d, past, past);
  };
  walk(join(home, 'sessions'));
  mkdirSync(join(home, 'archived_sessions'), { recursive: true });
  utimesSync(join(home, 'archived_sessions'), past, past);
}

t.test('when no directory changed, a run trusts the snapshot, yet still sees appends and rewrites', (t) => {
  const home = tmpDir(t);
  const { id, lines } = sessionLines({ turns: turns(3, 'snap') });
  const path = writeRaw(home, `sessions/2026/08/20/rollout-2026-08-20T14-03-07-${id}.jsonl`, lines.slice(0, 20).join('\n') + '\n');
  writeSession(home, { turns: turns(1, 'other') }, { mtime: past });
  ageDirs(home);
  t.match(summary(home), { scanned: 2, added: 2 });
  t.match(summary(home), { scanned: 2, unchanged: 2, bytes_read: 0 }, 'nothing to do');
  t.same(index(home, '--check').code, 0);
  // An append changes no directory: the file's own size and times give it away.
  appendFileSync(path, lines.slice(20).join('\n') + '\n');
  t.same(ndjson(index(home, '--check').out), [{ drift: 'grown', id, path }]);
  const listed = run('rollout-ls', ['--format', '%(id) %(turns)'], { env: { CODEX_HOME: home, ROLLOUT_INDEX: '' } }).out;
  t.match(listed, `${id} 3\n`, 'rollout-ls brought it up to date first');
  t.match(summary(home), { unchanged: 2, bytes_read: 0 });
  t.end();
});

t.test("a run takes the snapshot's word for each directory that did not change, and only for those", (t) => {
  const home = tmpDir(t);
  const db = join(home, 'rollout-index.sqlite');
  const days = ['2026-08-01', '2026-08-02', '2026-08-03'].map((day) =>
    writeSession(home, { turns: turns(1, `day ${day}`), start: new Date(`${day}T10:00:00Z`) }, { mtime: past }),
  );
  const dayOf = (s: { path: string }) => s.path.slice(0, s.path.lastIndexOf('/'));
  ageDirs(home);
  t.match(summary(home), { scanned: 3, added: 3 });
  // A row edited behind the index's back, as if its file had another size: where the directory did
  // not change, its snapshot row vouches for its files, and a run looks at neither file nor row.
  const edit = (sql: string, id: string) => {
    const w = new Database(db);
    w.prepare(sql).run(id);
    w.close();
  };
  const sizeOf = (id: string) => readIndex(db, (r) => r.prepare('SELECT size FROM sessions WHERE id = ?').pluck().get(id));
  edit('UPDATE sessions SET size = 1 WHERE id = ?', days[0].id);
  const appended = days[1];
  appendFileSync(appended.path, appended.lines.slice(-1).join('\n') + '\n');
  t.match(summary(home), { scanned: 3, updated: 1, unchanged: 2 }, 'the append is read');
  t.equal(sizeOf(days[0].id), 1, 'the unchanged directory was trusted');
  // A rollout written by another binary (as rollout-fork does) gets its row at once, and its
  // directory is no longer vouched for: the next full run compares that directory's rows again.
  edit('UPDATE sessions SET size = 1 WHERE id = ?', days[2].id);
  const fork = writeSession(home, { turns: turns(2, 'forked'), start: new Date('2026-08-03T11:00:00Z') }, { mtime: past });
  const paths = run('rollout-index', ['--stdin'], { env: { CODEX_HOME: home, ROLLOUT_INDEX: '' }, input: fork.path + '\n' });
  t.equal(paths.code, 0, paths.err);
  utimesSync(dayOf(fork), past, past);
  t.match(summary(home), { scanned: 4, updated: 1, unchanged: 3 }, 'the edited row of that directory is read again');
  t.equal(sizeOf(days[2].id), statSync(days[2].path).size);
  t.equal(sizeOf(days[0].id), 1, 'the other directories are still trusted');
  // Rows of a directory that do not add up to its files are not trusted, whatever its snapshot says.
  // (The append makes it a full run: the check that no file changed does not look at rows at all.)
  edit('DELETE FROM sessions WHERE id = ?', days[0].id);
  appendFileSync(fork.path, fork.lines.slice(-1).join('\n') + '\n');
  t.match(summary(home), { scanned: 4, added: 1, updated: 1, unchanged: 2 }, 'the missing row is noticed');
  t.equal(sizeOf(days[0].id), statSync(days[0].path).size);
  // A directory gone as a whole: its rows go too.
  rmSync(dayOf(appended), { recursive: true });
  t.match(summary(home), { scanned: 3, removed: 1, unchanged: 3 });
  t.notOk(
    ls(home).some((r) => r.id === appended.id),
    'its session is no longer listed',
  );
  t.end();
});

t.test('tool outputs are searchable by their beginning and end, not their middle', (t) => {
  const home = tmpDir(t);
  const middle = Array.from({ length: 400 }, (_, i) => `filler line ${i}`).join('\n');
  const output = `headword appears first\n${middle}\nmiddleword sits here\n${middle}\ntailword comes last`;
  const s = writeSession(home, { turns: [{ user: 'run it', tool: { cmd: 'make', output } }] }, { mtime: past });
  summary(home);
  const found = (word: string) => ndjson(run('rollout-ls', ['--no-update', '--search', word, '--hits'], { env: { CODEX_HOME: home, ROLLOUT_INDEX: '' } }).out);
  t.match(found('headword'), [{ id: s.id, role: 'output' }]);
  t.match(found('tailword'), [{ id: s.id, role: 'output' }]);
  t.same(found('middleword'), []);
  t.end();
});

t.test('a worker given its jobs chunk by chunk (more files than two chunks) builds the same index', (t) => {
  const home = tmpDir(t);
  const start = Date.parse('2026-07-01T10:00:00Z');
  for (let i = 0; i < 700; i++) writeSession(home, { turns: [{ user: `request ${i} zebra${i}` }], start: new Date(start + i * 60_000) }, { mtime: past });
  // A file that cannot be read, between chunks: the jobs after it keep their numbers.
  writeRaw(home, `sessions/2026/07/01/rollout-2026-07-01T14-16-30-${uuidv7()}.jsonl.zst`, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]));
  const dump = (index: string) =>
    readIndex(index, (db) => ({
      rows: db.prepare('SELECT id, path, size, turns, bad_lines FROM sessions ORDER BY path').all(),
      docs: db.prepare('SELECT s.path, d.text FROM docs d JOIN sessions s ON s.file = d.rowid >> 32 ORDER BY s.path, d.line').all(),
    }));
  const built = (worker: string) => {
    const index = join(home, `w${worker}.sqlite`);
    const r = run('rollout-index', [], { env: { CODEX_HOME: home, ROLLOUT_INDEX: index, ROLLOUT_SCAN_WORKER: worker } });
    t.equal(r.code, 0, r.err);
    t.match(r.err, /corrupt zstd data/);
    t.match(JSON.parse(r.out), { added: 701 });
    return dump(index);
  };
  const [a, b] = [built('0'), built('1')];
  t.equal(a.rows.length, 701);
  t.equal(new Set(a.docs.map((d: { path: string }) => d.path)).size, 700, 'every readable file gave its documents');
  t.same(b, a, 'the same rows, and each document under its own file');
  t.end();
});

t.test('a run read on a worker thread builds the same index as one read on the main thread', (t) => {
  const home = tmpDir(t);
  cpSync(join(REPO, 'test/fixtures/homes/basic'), home, { recursive: true });
  const big = writeSession(
    home,
    { turns: turns(40, 'Grüße 🚀 naïve ünïcödé'), history: 'paginated', start: new Date('2026-08-03T10:00:00Z') },
    { mtime: past, zst: true },
  );
  writeSession(home, { turns: [{ user: '' }, { user: 'x'.repeat(300_000) }], start: new Date('2026-08-04T10:00:00Z') }, { mtime: past });
  writeRaw(home, `sessions/2026/08/05/rollout-2026-08-05T10-00-00-${uuidv7()}.jsonl.zst`, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]));
  const build = (worker: '0' | '1', index: string) => {
    const r = run('rollout-index', [], { env: { CODEX_HOME: home, ROLLOUT_INDEX: index, ROLLOUT_SCAN_WORKER: worker } });
    t.equal(r.code, 0, r.err);
    return { summary: { ...JSON.parse(r.out), ms: 0 }, err: r.err.replaceAll(index, 'INDEX') };
  };
  const contents = (index: string) =>
    readIndex(index, (db) => ({
      rows: db.prepare('SELECT * FROM sessions ORDER BY path').all(),
      docs: db.prepare('SELECT rowid, text, role, line, ordinal FROM docs ORDER BY rowid').all(),
      search: db.prepare("SELECT rowid FROM docs WHERE docs MATCH 'grüße' ORDER BY rowid").pluck().all(),
    }));
  const [here, there] = [join(home, 'here.sqlite'), join(home, 'there.sqlite')];
  const a = build('0', here);
  const b = build('1', there);
  t.same(b, a, 'the same summary and the same warnings');
  t.match(a.err, /corrupt zstd data/);
  const [ca, cb] = [contents(here), contents(there)];
  t.ok(ca.docs.length > 100 && ca.search.length >= 40, 'documents and search hits were written');
  t.same(cb, ca, 'the same rows, documents and hits');

  // An append is read from where the last run stopped, on either thread.
  const plain = writeSession(home, { turns: turns(3, 'before'), start: new Date('2026-08-06T10:00:00Z') }, { mtime: past });
  build('0', here);
  build('1', there);
  appendFileSync(
    plain.path,
    sessionLines({ id: plain.id, turns: turns(2, 'after 🚀'), start: new Date('2026-08-06T11:00:00Z'), noContext: true })
      .lines.slice(1)
      .join('\n') + '\n',
  );
  const a2 = build('0', here);
  const b2 = build('1', there);
  t.match(a2.summary, { updated: 1 });
  t.same(b2, a2);
  t.same(contents(there), contents(here));
  t.ok(big.id);
  t.end();
});

t.test('a file rewritten in place: its documents are those of a fresh build, none left over, on either thread', (t) => {
  const home = tmpDir(t);
  const s = writeSession(home, { turns: turns(6, 'word'), start: new Date('2026-08-03T10:00:00Z') }, { mtime: past });
  summary(home);
  // The same file with one turn's words changed and the last two turns gone (a rewrite, not an append).
  const rewritten = s.lines.map((l) => l.replaceAll('word 2', 'changed 2').replaceAll('out 1', 'different 1'));
  const cut = rewritten.findIndex((l) => l.includes('word 5'));
  writeFileSync(s.path, rewritten.slice(0, cut).join('\n') + '\n');
  utimesSync(s.path, past, past);
  const docs = (idx: string) => {
    const db = new Database(idx, { readonly: true });
    try {
      return db.prepare('SELECT rowid & 4294967295 AS n, text, role, line, ordinal FROM docs ORDER BY rowid').all();
    } finally {
      db.close();
    }
  };
  for (const worker of ['0', '1']) {
    const r = run('rollout-index', [], { env: { CODEX_HOME: home, ROLLOUT_INDEX: '', ROLLOUT_SCAN_WORKER: worker } });
    t.equal(r.code, 0, r.err);
    const fresh = join(tmpDir(t), 'fresh.sqlite');
    t.equal(run('rollout-index', ['--index', fresh], { env: { CODEX_HOME: home, ROLLOUT_SCAN_WORKER: worker } }).code, 0);
    t.same(docs(join(home, 'rollout-index.sqlite')), docs(fresh), `worker ${worker}: the documents of a fresh build`);
    t.equal(ls(home, '--search', 'changed').length, 1, 'the new words are found');
    t.equal(ls(home, '--search', '"word 2"').length, 0, 'the old ones are not');
    t.equal(ls(home, '--search', '"word 5"').length, 0, 'nor those of the turns cut off');
    // Back to the first text for the other thread's turn.
    writeFileSync(s.path, s.lines.join('\n') + '\n');
    utimesSync(s.path, past, past);
    t.equal(index(home).code, 0);
    writeFileSync(s.path, rewritten.slice(0, cut).join('\n') + '\n');
    utimesSync(s.path, new Date(past.getTime() + 1000), new Date(past.getTime() + 1000));
  }
  t.end();
});

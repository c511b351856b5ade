// rollout-name as a subprocess: naming as Codex names (session_index.jsonl and threads.name), showing,
// clearing, the rules for names, and that every binary then resolves the name.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ndjson, run, tmpDir, writeSession } from './helpers/fixtures.js';
import { query, stateDb } from './helpers/prune.js';

function setup(t: { teardown(fn: () => void): void }, db = true) {
  const dir = tmpDir(t);
  const a = writeSession(dir, { history: 'paginated', turns: [{ user: 'first' }] });
  const b = writeSession(dir, { start: new Date('2026-08-21T10:00:00Z'), history: 'paginated', turns: [{ user: 'second' }] });
  const dbPath = db
    ? stateDb(dir, [
        { id: a.id, path: a.path },
        { id: b.id, path: b.path },
      ])
    : null;
  const name = (...args: string[]) => run('rollout-name', [...args, '--codex-home', dir]);
  const index = () => (existsSync(join(dir, 'session_index.jsonl')) ? readFileSync(join(dir, 'session_index.jsonl'), 'utf8') : '');
  const dbName = (id: string) => (dbPath ? query(dbPath, 'SELECT name FROM threads WHERE id = ?', id)[0].name : undefined);
  return { dir, a, b, name, index, dbName };
}

t.test('names a session as Codex does, and every binary resolves the name', async (t) => {
  const { dir, a, name, index, dbName } = setup(t);
  const r = name(a.id.slice(0, 8), '  checkout refactor ');
  t.equal(r.code, 0, r.err);
  t.same(ndjson(r.out), [{ id: a.id, name: 'checkout refactor', previous: null, dry_run: false }]);
  const entry = ndjson(index());
  t.equal(entry.length, 1);
  t.same(Object.keys(entry[0]), ['id', 'thread_name', 'updated_at'], "Codex's key order");
  t.same([entry[0].id, entry[0].thread_name], [a.id, 'checkout refactor'], 'trimmed');
  t.match(entry[0].updated_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  t.equal(dbName(a.id), 'checkout refactor', 'threads.name set');

  t.same(ndjson(name('checkout refactor').out), [{ id: a.id, name: 'checkout refactor' }], 'shown, looked up by the name itself');
  const cat = run('rollout-cat', ['--meta', 'checkout refactor', '--codex-home', dir]);
  t.equal(JSON.parse(cat.out).payload.id, a.id, 'rollout-cat finds it by name');

  const before = index();
  t.same(ndjson(name(a.id, 'checkout refactor').out), [{ id: a.id, name: 'checkout refactor', previous: 'checkout refactor', dry_run: false }]);
  t.equal(index(), before, 'the same name again writes nothing');

  name(a.id, 'renamed');
  t.same(
    ndjson(index()).map((e) => e.thread_name),
    ['checkout refactor', 'renamed'],
    'appended; the newest wins',
  );
  t.same(ndjson(name(a.id).out), [{ id: a.id, name: 'renamed' }]);
  t.equal(dbName(a.id), 'renamed');
});

t.test('a name another session has is refused, unless --force; a session that is gone holds none', async (t) => {
  const { dir, a, b, name, index } = setup(t);
  name(a.id, 'shared');
  const r = name(b.id, 'shared');
  t.equal(r.code, 1);
  t.match(r.err, `rollout-name: error: the name 'shared' is already used by session ${a.id} (--force to use it anyway)`);
  t.equal(ndjson(index()).length, 1, 'nothing written');
  t.equal(name(b.id, 'shared', '--force').code, 0);
  t.same(ndjson(name('shared').out)[0].id, b.id, 'the newer entry wins the lookup');

  writeFileSync(
    join(dir, 'session_index.jsonl'),
    index() + JSON.stringify({ id: '0198ffff-0000-7000-8000-000000000000', thread_name: 'orphan', updated_at: '2026-01-01T00:00:00Z' }) + '\n',
  );
  t.equal(name(a.id, 'orphan').code, 0, 'the name of a deleted session is free');
});

t.test('names are trimmed and not empty; usage errors', async (t) => {
  const { a, name } = setup(t);
  for (const args of [[a.id, '   '], [], [a.id, 'two', 'words'], [a.id, '--force'], ['--clear', a.id, '--force']]) {
    const r = name(...args);
    t.equal(r.code, 2, `${JSON.stringify(args)}: ${r.err}`);
  }
  const missing = name('0198ffff-0000-7000-8000-000000000000', 'x');
  t.equal(missing.code, 1);
  t.match(missing.err, 'no session with id');
});

t.test('--clear removes every entry of the thread and threads.name, and keeps the rest of the log', async (t) => {
  const { dir, a, b, name, index, dbName } = setup(t);
  name(a.id, 'one');
  name(b.id, 'other');
  name(a.id, 'two');
  const mode = 0o600;
  (await import('node:fs')).chmodSync(join(dir, 'session_index.jsonl'), mode);
  const dry = name('--clear', '-n', a.id);
  t.same(ndjson(dry.out), [{ id: a.id, name: null, previous: 'two', dry_run: true }]);
  t.equal(ndjson(index()).length, 3, 'a dry run changes nothing');
  const r = name('--clear', 'two');
  t.same(ndjson(r.out), [{ id: a.id, name: null, previous: 'two', dry_run: false }]);
  t.same(
    ndjson(index()).map((e) => [e.id, e.thread_name]),
    [[b.id, 'other']],
  );
  t.equal(statSync(join(dir, 'session_index.jsonl')).mode & 0o777, mode, 'mode kept');
  t.equal(dbName(a.id), null);
  t.equal(dbName(b.id), 'other');
  t.same(ndjson(name(a.id).out), [{ id: a.id, name: null }]);
});

t.test('without a state DB the log alone is written; a torn last entry is not swallowed', async (t) => {
  const { dir, a, b, name, index } = setup(t, false);
  writeFileSync(join(dir, 'session_index.jsonl'), JSON.stringify({ id: b.id, thread_name: 'b', updated_at: '2026-01-01T00:00:00Z' }) + '\n{"id":"torn');
  t.equal(name(a.id, 'alpha').code, 0);
  const lines = index().split('\n');
  t.equal(lines[1], '{"id":"torn', 'the torn entry stays as it was');
  t.same(JSON.parse(lines[2]).thread_name, 'alpha', 'ours starts on a line of its own');
  t.same(ndjson(name('alpha').out), [{ id: a.id, name: 'alpha' }]);
  t.same(ndjson(name('-n', b.id, 'beta').out), [{ id: b.id, name: 'beta', previous: 'b', dry_run: true }]);
  t.same(ndjson(name(b.id).out), [{ id: b.id, name: 'b' }]);
});

t.test('a name only in threads.name (a DB that kept it, a log that lost it) is shown and counts', async (t) => {
  const { a, b, name } = setup(t);
  const db = join(a.path.split('/sessions/')[0], 'state_5.sqlite');
  query(db, 'UPDATE threads SET name = ? WHERE id = ? RETURNING 1', 'from db', a.id);
  t.same(ndjson(name(a.id).out), [{ id: a.id, name: 'from db' }]);
  t.equal(name(b.id, 'from db').code, 1);
});

t.test('names that cannot be mistaken: no id or id prefix, no control characters, not over-long', async (t) => {
  const { dir, a, b, name, index } = setup(t);
  const refused = [b.id.slice(0, 8), b.id, 'cafe', 'DEAD-BEEF', 'a\nb', 'x'.repeat(201)];
  for (const bad of refused) {
    const r = name(a.id, bad);
    t.equal(r.code, 2, `${JSON.stringify(bad.slice(0, 40))}: refused`);
    t.match(r.err, /reads as a session id|control characters|at most 200 characters/, r.err);
  }
  t.equal(index(), '', 'nothing was written');
  for (const good of ['cafe latte', 'fix 9238d12f', 'x'.repeat(200)]) t.equal(name(a.id, good).code, 0, `${good.slice(0, 40)}: taken`);

  // A name Codex wrote (it checks nothing) that is another session's id prefix: a lookup says both.
  const prefix = b.id.slice(0, 8);
  writeFileSync(join(dir, 'session_index.jsonl'), JSON.stringify({ id: a.id, thread_name: prefix, updated_at: '2026-12-01T00:00:00Z' }) + '\n', { flag: 'a' });
  const cat = run('rollout-cat', ['--meta', prefix, '--codex-home', dir]);
  t.equal(cat.code, 1, 'ambiguous');
  t.match(cat.err, new RegExp(`ambiguous reference '${prefix}': the id prefix of ${b.id} and the name of ${a.id}`));
  t.equal(run('rollout-cat', ['--meta', b.id.slice(0, 13), '--codex-home', dir]).code, 0, 'more of the id settles it');
});

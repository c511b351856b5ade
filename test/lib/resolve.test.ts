import { appendFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { codexHome } from '../../lib/home/paths.js';
import { Resolver, refsFrom, type Target } from '../../lib/home/resolve.js';
import { tmpDir, writeSession } from '../helpers/fixtures.js';

const path = (x: Target) => (x.stdin ? '-' : x.file.path);

function home(t: any) {
  const dir = tmpDir(t);
  const a = writeSession(dir, { id: '0199a213-0000-7000-8000-000000000001', cwd: '/work/a', start: new Date('2026-08-01T10:00:00Z'), turns: [{ user: 'a' }] });
  const b = writeSession(dir, { id: '0199a213-0000-7000-8000-000000000002', cwd: '/work/b', start: new Date('2026-08-02T10:00:00Z'), turns: [{ user: 'b' }] });
  const c = writeSession(
    dir,
    { id: '0199b000-0000-7000-8000-000000000003', cwd: '/work/a', start: new Date('2026-08-03T10:00:00Z'), turns: [{ user: 'c' }] },
    { root: 'archived_sessions' },
  );
  return { dir, a, b, c, r: new Resolver(codexHome(dir)) };
}

t.test('ids, prefixes, paths and stdin', async (t) => {
  const { a, b, c, r } = home(t);
  t.equal(path(await r.resolve(a.id)), a.path);
  t.equal(path(await r.resolve(a.id.toUpperCase())), a.path);
  t.equal(path(await r.resolve('0199b0')), c.path, 'archived sessions resolve too');
  t.equal(path(await r.resolve(b.path)), b.path);
  t.equal(path(await r.resolve('-')), '-');
  await t.rejects(
    r.resolve('0199a213'),
    /ambiguous id prefix '0199a213' matches 2 sessions: 0199a213-0000-7000-8000-000000000001, 0199a213-0000-7000-8000-000000000002/,
  );
  await t.rejects(r.resolve('0199c'), /no session matches '0199c'/);
  await t.rejects(r.resolve('/no/such/file.jsonl'), /no such file/);
  await t.rejects(r.resolve('0199ffff-0000-7000-8000-000000000009'), /no session with id/);
});

t.test('names: the newest entry of session_index.jsonl, renames included', async (t) => {
  const { dir, a, b, r } = home(t);
  const entry = (id: string, name: string) => JSON.stringify({ id, thread_name: name, updated_at: '2026-08-05T00:00:00Z' }) + '\n';
  appendFileSync(join(dir, 'session_index.jsonl'), entry(a.id, 'shop') + 'garbage\n' + entry(b.id, 'shop') + entry(b.id, 'renamed'));
  t.equal(path(await r.resolve('shop')), a.path, 'b was renamed away from "shop"');
  t.equal(path(await r.resolve('renamed')), b.path);
});

t.test('--last: most recent by mtime in the cwd, or anywhere', async (t) => {
  const { a, b, r } = home(t);
  const old = new Date('2026-08-10T00:00:00Z');
  utimesSync(b.path, old, old);
  t.equal(path(await r.last('/work/b')), b.path);
  t.equal(path(await r.last('/', true)), a.path);
  await t.rejects(r.last('/nowhere'), /no session was started in \/nowhere/);
  await t.rejects(new Resolver(codexHome(tmpDir(t))).last('/', true), /no sessions in this home/);
  await t.rejects(new Resolver(codexHome('/nonexistent')).last('/', true), /no Codex home here/);
});

t.test('a reverted thread resolves to its newest revision', async (t) => {
  const dir = tmpDir(t);
  const id = '0199a213-0000-7000-8000-00000000000a';
  const first = writeSession(dir, { id, start: new Date('2026-08-01T10:00:00Z') });
  const revision = writeSession(dir, { id, start: new Date('2026-08-02T10:00:00Z') }, { rolloutId: '0199a213-0000-7000-8000-00000000000b' });
  const r = new Resolver(codexHome(dir));
  t.equal(path(await r.resolve(id)), revision.path);
  t.equal((await r.byRolloutId(id))?.path, first.path, 'the first file is named by the thread id');
  t.equal((await r.byRolloutId('0199a213-0000-7000-8000-00000000000b'))?.path, revision.path);
});

t.test('refsFrom: bare references and NDJSON rows', async (t) => {
  async function* input() {
    yield Buffer.from('abc\n\n{"id":"x","path":"/p"}\n{"id":"y"}\n  spaced  \n');
  }
  const refs: string[] = [];
  for await (const ref of refsFrom(input())) refs.push(ref);
  t.same(refs, ['abc', '/p', 'y', 'spaced']);
});

t.test('refsFrom: a last line without its newline (printf, echo -n) still names a session', async (t) => {
  const of = async (...parts: string[]) => {
    const refs: string[] = [];
    for await (const ref of refsFrom(
      (async function* () {
        for (const p of parts) yield Buffer.from(p);
      })(),
    ))
      refs.push(ref);
    return refs;
  };
  t.same(await of('0199a213'), ['0199a213']);
  t.same(await of('abc\n', 'de', 'f'), ['abc', 'def']);
  t.same(await of('{"id":"x","path":"/p"}'), ['/p']);
  t.same(await of('{"next_cursor":null}'), []);
  t.same(await of('abc\n  '), ['abc']);
});

t.test('the first few lookups walk the names for what they seek; later ones use the whole home, and answer the same', async (t) => {
  const { dir, a, b, c } = home(t);
  const id = '0199a213-0000-7000-8000-00000000000a';
  const first = writeSession(dir, { id, start: new Date('2026-08-04T10:00:00Z') });
  const revision = writeSession(dir, { id, start: new Date('2026-08-05T10:00:00Z') }, { rolloutId: '0199a213-0000-7000-8000-00000000000b' });
  appendFileSync(join(dir, 'session_index.jsonl'), JSON.stringify({ id: c.id, thread_name: 'shelf', updated_at: '2026-08-05T00:00:00Z' }) + '\n');
  const refs = [a.id, '0199b0', 'shelf', id, '0199a213-0000-7000-8000-00000000000b', b.id.toUpperCase(), a.id, 'shelf', id, '0199b0'];
  const want = [a.path, c.path, c.path, revision.path, revision.path, b.path, a.path, c.path, revision.path, c.path];
  const alone = [];
  for (const ref of refs) alone.push(path(await new Resolver(codexHome(dir)).resolve(ref)));
  t.same(alone, want, 'each reference by a fresh resolver (a walk of names each)');
  const one = new Resolver(codexHome(dir));
  const shared = [];
  for (const ref of refs) shared.push(path(await one.resolve(ref)));
  t.same(shared, want, 'all of them by one resolver (the home discovered once, past the first few)');
  t.equal((await one.byRolloutId(id))?.path, first.path);
  t.same(await new Resolver(codexHome(dir)).threadsAmong(new Set([a.id, 'no-such-thread', id])), [a.id, id]);
  await t.rejects(one.resolve('0199ffff-0000-7000-8000-000000000009'), /no session with id/);
});

// rollout-prune --map-cwd / --set-provider: sessions rewritten in place for a moved project or a
// new provider, as a subprocess over real homes. Only the chosen sessions and the fields that say
// where they belong change; a fork that reads a rewritten parent moves its offsets with it, all or
// nothing; -n changes nothing; Codex's rows follow, and its projection's byte offsets move with the bytes.
import { copyFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ndjson, run, tmpDir, writeSession } from './helpers/fixtures.js';
import { DAY, historyDb, holdWriterLock, query, stateDb, tree, write } from './helpers/prune.js';
import { movedCopy, textOf } from './helpers/retag.js';

/** A home: two sessions in the shop project, one elsewhere, and a referencing fork (its own file .zst only) of the first. */
function home(t: Test, forkCwd = '/home/ana/src/shop/api') {
  const dir = tmpDir(t);
  const old = { mtime: new Date(Date.now() - DAY) };
  const shop = writeSession(dir, { history: 'paginated', start: new Date('2026-08-01T10:00:00Z'), turns: [{ user: 'one' }, { user: 'two' }] }, old);
  const other = writeSession(dir, { cwd: '/srv/other', start: new Date('2026-08-01T11:00:00Z'), turns: [{ user: 'elsewhere' }] }, old);
  const second = writeSession(dir, { start: new Date('2026-08-01T12:00:00Z'), provider: 'mock', turns: [{ user: 'second' }] }, old);
  const fork = writeSession(
    dir,
    {
      history: 'paginated',
      cwd: forkCwd,
      start: new Date('2026-08-02T10:00:00Z'),
      meta: { forked_from_id: shop.id, history_base: { thread_id: shop.id, end_ordinal_exclusive: 5, end_byte_offset: readFileSync(shop.path).length } },
      turns: [{ user: 'three' }],
    },
    { zst: 'only', ...old },
  );
  // The originals, to compare with.
  const keep = tmpDir(t);
  const copy = (p: string) => {
    const to = join(keep, p.split('/').pop()!);
    copyFileSync(p, to);
    return to;
  };
  return {
    dir,
    shop,
    other,
    second,
    fork: { ...fork, path: `${fork.path}.zst` },
    was: { shop: copy(shop.path), other: copy(other.path), second: copy(second.path), fork: copy(`${fork.path}.zst`) },
  };
}

const prune = (dir: string, args: string[]) => {
  const r = run('rollout-prune', ['--codex-home', dir, '--index', join(dir, 'idx.sqlite'), '--grace', '0', ...args]);
  return { ...r, lines: ndjson(r.out) };
};
const full = (dir: string, id: string) => run('rollout-cat', ['--codex-home', dir, '--full', id]);
const types = (out: string) =>
  out
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l).type);
const MAP = ['--map-cwd', '/home/ana/src=/Users/ana/code'];
const move = (cwd: string) => cwd.replace('/home/ana/src', '/Users/ana/code');

t.test('--map-cwd alone chooses what began under OLD; -n changes nothing; then only those fields change, mtimes kept', async (t) => {
  const h = home(t);
  const forkBefore = full(h.dir, h.fork.id);
  const before = tree(h.dir).filter((p) => !p.includes('idx.sqlite'));
  const dry = prune(h.dir, [...MAP, '-n']);
  t.equal(dry.code, 0, dry.err);
  t.same(dry.lines.map((l) => [l.action, l.id, l.dry_run]).sort(), [h.shop.id, h.second.id, h.fork.id].map((id) => ['retag', id, true]).sort());
  t.same(
    tree(h.dir).filter((p) => !p.includes('idx.sqlite')),
    before,
    'a dry run writes nothing',
  );
  t.equal(textOf(h.shop.path), textOf(h.was.shop));

  const micros = (p: string) => statSync(p, { bigint: true }).mtimeNs / 1000n;
  const mtimes = [h.shop.path, h.fork.path].map(micros);
  const r = prune(h.dir, MAP);
  t.equal(r.code, 0, r.err);
  t.same(r.lines.map((l) => [l.action, l.id]).sort(), [h.shop.id, h.second.id, h.fork.id].map((id) => ['retag', id]).sort());
  t.match(r.err, /rewritten 3 sessions/);
  t.ok(movedCopy(t, h.was.shop, h.shop.path, move, 'openai') >= 3);
  t.ok(movedCopy(t, h.was.second, h.second.path, move, 'mock') >= 2, 'the provider stays without --set-provider');
  t.ok(movedCopy(t, h.was.fork, h.fork.path, move, 'openai') >= 2);
  t.equal(textOf(h.other.path), textOf(h.was.other), 'a session elsewhere is the same bytes');
  t.same([h.shop.path, h.fork.path].map(micros), mtimes, 'mtimes kept, to the microsecond: the sessions keep their place in lists by activity');
  const after = full(h.dir, h.fork.id);
  t.equal(after.code, 0, after.err);
  t.same(types(after.out), types(forkBefore.out), "the fork still reads its parent's lines up to the cut");
  const ls = ndjson(run('rollout-ls', ['--codex-home', h.dir, '--index', join(h.dir, 'idx.sqlite'), '--cwd', '/Users/ana/code']).out);
  t.same(ls.map((x) => x.id).sort(), [h.shop.id, h.second.id, h.fork.id].sort(), 'the index knows the new place');

  const again = prune(h.dir, MAP);
  t.equal(again.code, 0, again.err);
  t.same(again.lines, [], 'nothing under OLD any more: nothing to do');
});

t.test('a fork not chosen moves its offsets with its rewritten parent, and keeps its own place', async (t) => {
  const h = home(t, '/srv/forks');
  const forkBefore = full(h.dir, h.fork.id);
  const r = prune(h.dir, [...MAP, '--cwd', '/home/ana/src/shop']);
  t.equal(r.code, 0, r.err);
  t.same(r.lines.map((l) => l.id).sort(), [h.shop.id, h.second.id, h.fork.id].sort(), 'the fork is rewritten with its parent');
  const meta = JSON.parse(textOf(h.fork.path).split('\n')[0]);
  t.equal(meta.payload.cwd, '/srv/forks', "the fork's own directory is not under OLD: it stays");
  t.not(meta.payload.history_base.end_byte_offset, readFileSync(h.was.shop).length, 'its offset moved');
  t.equal(meta.payload.history_base.end_byte_offset, readFileSync(h.shop.path).length, "to the rewritten parent's end");
  t.same(types(full(h.dir, h.fork.id).out), types(forkBefore.out));
});

t.test('more sessions than a page: a fork chosen pages after its parent is rewritten with it, once', async (t) => {
  const h = home(t);
  // Between the parent and its fork by name, enough chosen sessions to put them a page apart.
  const start = Date.parse('2026-08-01T13:00:00Z');
  for (let i = 0; i < 510; i++)
    writeSession(
      h.dir,
      { cwd: '/home/ana/src/shop/web', start: new Date(start + i * 60_000), turns: [{ user: `filler ${i}` }] },
      { mtime: new Date(Date.now() - DAY) },
    );
  const forkBefore = full(h.dir, h.fork.id);
  const r = prune(h.dir, MAP);
  t.equal(r.code, 0, r.err);
  t.equal(r.lines.length, 513, 'every chosen session once');
  t.equal(r.lines.filter((l) => l.id === h.fork.id).length, 1, 'the fork once');
  const meta = JSON.parse(textOf(h.fork.path).split('\n')[0]);
  t.equal(meta.payload.cwd, '/Users/ana/code/shop/api');
  t.equal(meta.payload.history_base.end_byte_offset, readFileSync(h.shop.path).length, "its offset moved to the rewritten parent's end");
  t.same(types(full(h.dir, h.fork.id).out), types(forkBefore.out));
});

t.test('a group that cannot be rewritten whole is left alone whole', async (t) => {
  const h = home(t);
  const lock = await holdWriterLock(h.dir, h.fork.id);
  t.teardown(() => lock.release());
  const r = prune(h.dir, MAP);
  t.equal(r.code, 0, r.err);
  t.match(
    r.lines.find((l) => l.id === h.shop.id),
    { action: 'skip', reason: new RegExp(`${h.fork.id}, which reads it: open in a running Codex`) },
  );
  t.equal(textOf(h.shop.path), textOf(h.was.shop), 'the parent is untouched');
  t.equal(textOf(h.fork.path), textOf(h.was.fork), 'and the fork');
  t.match(
    r.lines.find((l) => l.id === h.second.id),
    { action: 'retag' },
    'the others are done',
  );
});

t.test("--set-provider with --backup: Codex's rows follow, its projection's offsets move, the originals are kept", async (t) => {
  const h = home(t);
  const db = stateDb(
    h.dir,
    [h.shop, h.second].map((s) => ({ id: s.id, path: s.path })),
  );
  const history = historyDb(h.dir, [h.shop.id, h.other.id]);
  // Codex had projected the whole of the shop session: up to its end.
  const end = statSync(h.shop.path).size;
  write(history, 'UPDATE thread_history_projection_state SET next_rollout_byte_offset = ? WHERE thread_id = ?', end, h.shop.id);
  const backup = tmpDir(t);
  const r = prune(h.dir, ['--set-provider', 'azure', '--cwd', '/home/ana/src/shop', '--backup', backup]);
  t.equal(r.code, 0, r.err);
  t.same(r.lines.map((l) => l.id).sort(), [h.shop.id, h.second.id, h.fork.id].sort());
  for (const l of r.lines)
    t.ok(
      l.backup.every((p: string) => existsSync(p)),
      `${l.id}: backed up`,
    );
  t.equal(textOf(r.lines.find((l) => l.id === h.shop.id).backup[0]), textOf(h.was.shop), 'the backup is the original');
  t.same(
    query(db, 'SELECT model_provider FROM threads WHERE id IN (?, ?)', h.shop.id, h.second.id).map((x) => x.model_provider),
    ['azure', 'azure'],
  );
  const state = (id: string) => query(history, 'SELECT next_rollout_byte_offset AS n FROM thread_history_projection_state WHERE thread_id = ?', id)[0].n;
  t.equal(state(h.shop.id), statSync(h.shop.path).size, "the projection's offset moved to the end of the rewritten file");
  t.not(state(h.shop.id), end);
  t.equal(state(h.other.id), 100, "another thread's is as it was");
  t.equal(query(history, 'SELECT count(*) AS n FROM thread_items WHERE thread_id = ?', h.shop.id)[0].n, 2, 'its items stay');
  movedCopy(t, h.was.shop, h.shop.path, (c) => c, 'azure');
});

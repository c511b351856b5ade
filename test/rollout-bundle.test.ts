// rollout-bundle as a subprocess over real homes: what it chooses, the ancestors a referencing fork
// needs, the same bytes twice, zstd that GNU tar lists, -o's NDJSON, --since-bundle, and a bundle
// that our own checker and GNU tar both accept, extracting to the very files of the home.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, utimesSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { checkBundle } from '../lib/bundle/check.js';
import { ndjson, run, tmpDir, writeReferencedFork, writeSession } from './helpers/fixtures.js';

/** A home with a plain session, an archived one, and a chain of referenced forks root <- child <- grandchild (.zst only). */
function home(t: Parameters<typeof tmpDir>[0]) {
  const dir = tmpDir(t);
  const plain = writeSession(dir, { start: new Date('2026-08-01T09:00:00Z'), turns: [{ user: 'plain' }] });
  const archived = writeSession(dir, { start: new Date('2026-07-01T09:00:00Z'), turns: [{ user: 'old' }] }, { root: 'archived_sessions' });
  const root = writeSession(dir, { history: 'paginated', start: new Date('2026-08-01T10:00:00Z'), turns: [{ user: 'one' }, { user: 'two' }] });
  // The child keeps the root's first turn (it cuts before the second's task_started), the grandchild all of the child.
  const second = root.lines.map((l, i) => (l.includes('"task_started"') ? i : -1)).filter((i) => i > 0)[1];
  const child = writeReferencedFork(dir, root, second, { start: new Date('2026-08-02T10:00:00Z'), turns: [{ user: 'three' }] });
  const grandchild = writeReferencedFork(
    dir,
    child,
    child.lines.length,
    { start: new Date('2026-08-03T10:00:00Z'), turns: [{ user: 'four' }] },
    { zst: 'only' },
  );
  return { dir, plain, archived, root, child, grandchild, index: join(dir, 'idx.sqlite') };
}

const bundle = (h: ReturnType<typeof home>, args: string[], input?: string) =>
  run('rollout-bundle', ['--codex-home', h.dir, '--index', h.index, ...args], { input });

t.test('a referencing fork brings its ancestors; the bundle checks, GNU tar extracts the same files', async (t) => {
  const h = home(t);
  const out = join(tmpDir(t), 'g.tar');
  const r = bundle(h, ['-o', out, h.grandchild.id]);
  t.equal(r.code, 0, r.err);
  const rows = ndjson(r.out);
  t.same(rows.map((x) => x.id).sort(), [h.root.id, h.child.id, h.grandchild.id].sort(), 'the fork and both ancestors');
  t.match(r.err, /bundled 3 sessions \(3 files/);
  const m = await checkBundle(out);
  t.same(m.sessions.find((s) => s.id === h.grandchild.id)!.parents.sort(), [h.child.id, h.root.id].sort());
  const x = join(tmpDir(t), 'x');
  mkdirSync(x);
  const tar = spawnSync('tar', ['-xf', out, '-C', x], { encoding: 'utf8' });
  t.equal(tar.status, 0, tar.stderr);
  for (const p of [h.root.path, h.child.path, `${h.grandchild.path}.zst`]) {
    const rel = relative(h.dir, p);
    t.same(readFileSync(join(x, rel)), readFileSync(p), rel);
  }
});

t.test('the same sessions give the same bytes; zstd by flag or by name, listed by tar --zstd', async (t) => {
  const h = home(t);
  const a = bundle(h, ['--include-archived']);
  const b = bundle(h, ['--include-archived']);
  t.equal(a.code, 0, a.err);
  t.ok(a.stdout.length > 0 && a.stdout.equals(b.stdout), 'identical output twice');
  const dir = tmpDir(t);
  t.equal(bundle(h, ['--include-archived', '-o', join(dir, 'a.tar.zst')]).code, 0);
  const z = bundle(h, ['--include-archived', '--zstd']);
  t.ok(z.stdout.equals(readFileSync(join(dir, 'a.tar.zst'))), '--zstd to stdout is the same as -o NAME.zst');
  t.ok(spawnSync('zstd', ['-dc', join(dir, 'a.tar.zst')]).stdout.equals(a.stdout), 'and decompresses to the plain bundle');
  const list = spawnSync('tar', ['--zstd', '-tf', join(dir, 'a.tar.zst')], { encoding: 'utf8' });
  t.equal(list.status, 0, list.stderr);
  const names = list.stdout.trim().split('\n');
  t.equal(names[0], 'manifest.json', 'the manifest comes first');
  t.ok(names.includes(relative(h.dir, h.archived.path)), 'archived sessions keep their place');
  t.equal(names.length, 6);
});

t.test('choosing: filters, --stdin rows, -n, and nothing to bundle', async (t) => {
  const h = home(t);
  const dry = bundle(h, ['-n', '--archived']);
  t.equal(dry.code, 0, dry.err);
  t.same(
    ndjson(dry.out).map((x) => [x.id, x.dry_run]),
    [[h.archived.id, true]],
  );
  const viaStdin = bundle(h, ['-n', '--stdin'], JSON.stringify({ id: h.plain.id, path: h.plain.path }) + '\n' + h.archived.id + '\n');
  t.same(
    ndjson(viaStdin.out)
      .map((x) => x.id)
      .sort(),
    [h.plain.id, h.archived.id].sort(),
    'named sessions come from both roots',
  );
  const none = bundle(h, ['--cwd', '/nowhere']);
  t.equal(none.code, 1);
  t.match(none.err, /^rollout-bundle: error: nothing to bundle/m);
  t.equal(none.stdout.length, 0, 'and nothing on stdout');
  const bad = bundle(h, ['--stdin', h.plain.id]);
  t.equal(bad.code, 2);
  t.match(bad.err, /rollout-bundle: error: --stdin reads references from stdin/);
});

t.test('--since-bundle: only what is new or grew since', async (t) => {
  const h = home(t);
  const old = join(tmpDir(t), 'old.tar.zst');
  t.equal(bundle(h, ['--include-archived', '-o', old]).code, 0);
  const nothing = bundle(h, ['--include-archived', '--since-bundle', old]);
  t.equal(nothing.code, 1);
  t.match(nothing.err, /nothing to bundle: no session is new since that bundle/);
  appendFileSync(h.plain.path, h.plain.lines[1] + '\n');
  const fresh = writeSession(h.dir, { start: new Date('2026-08-05T09:00:00Z'), turns: [{ user: 'new' }] });
  const r = bundle(h, ['--include-archived', '--since-bundle', old, '-n']);
  t.equal(r.code, 0, r.err);
  t.same(
    ndjson(r.out)
      .map((x) => x.id)
      .sort(),
    [h.plain.id, fresh.id].sort(),
  );
});

t.test('--since-bundle: a fork kept brings the ancestors it reads, unchanged as they are', async (t) => {
  const h = home(t);
  const old = join(tmpDir(t), 'old.tar');
  t.equal(bundle(h, ['-o', old]).code, 0);
  const before = new Date('2026-08-05T00:00:00Z');
  for (const p of [h.plain.path, h.archived.path, h.root.path, h.child.path, `${h.grandchild.path}.zst`]) utimesSync(p, before, before);
  const at = new Date('2026-08-06T10:00:00Z');
  const fork = writeReferencedFork(h.dir, h.child, h.child.lines.length, { start: at, turns: [{ user: 'five' }] }, { mtime: at });
  const r = bundle(h, ['--since-bundle', old, '-n']);
  t.equal(r.code, 0, r.err);
  t.same(
    ndjson(r.out)
      .map((x) => x.id)
      .sort(),
    [fork.id, h.child.id, h.root.id].sort(),
    "the new fork, its parent and its parent's parent; not the grandchild, which nothing new reads",
  );
  const since = bundle(h, ['--since', '2026-08-06', '-n']);
  t.same(
    ndjson(since.out)
      .map((x) => x.id)
      .sort(),
    [fork.id, h.child.id, h.root.id].sort(),
    'and so does one that --since chooses',
  );
});

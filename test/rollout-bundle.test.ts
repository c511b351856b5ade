// rollout-bundle as a subprocess over real homes: what it chooses, the ancestors a referencing fork
// needs, the same bytes twice, zstd that GNU tar lists, -o's NDJSON, --since-bundle, and a bundle
// that our own checker and GNU tar both accept, extracting to the very files of the home.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, utimesSync } from 'node:fs';
import { join, relative } from 'node:path';
import t, { type Test } from 'tap';
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

/** A line without its ordinal: what a whole copy keeps of every line. */
const sansOrdinal = (line: string) => line.replace(/^(\{"timestamp":"[^"]*"),"ordinal":\d+/, '$1');
const linesOf = (text: string) => text.split('\n').filter(Boolean);
const referencing = (line: string) => line.includes('"type":"session_meta"') && 'history_base' in JSON.parse(line).payload;

/** The one file of a one-session bundle, extracted by GNU tar: its path in the bundle and its lines. */
function onlyFile(t: Test, bundleFile: string) {
  const x = tmpDir(t);
  const tar = spawnSync('tar', ['-xf', bundleFile, '-C', x], { encoding: 'utf8' });
  t.equal(tar.status, 0, tar.stderr);
  const list = spawnSync('tar', ['-tf', bundleFile], { encoding: 'utf8' }).stdout.trim().split('\n');
  t.equal(list.length, 2, 'the manifest and one file');
  return { path: list[1], lines: linesOf(readFileSync(join(x, list[1]), 'utf8')) };
}

t.test('--no-ancestors: a referenced fork written whole, alone; unbundled elsewhere it reads as it did', async (t) => {
  const h = home(t);
  for (const fork of [h.child, h.grandchild]) {
    const out = join(tmpDir(t), 'whole.tar');
    const r = bundle(h, ['--no-ancestors', '-o', out, fork.id]);
    t.equal(r.code, 0, r.err);
    t.same(
      ndjson(r.out).map((x) => x.id),
      [fork.id],
      'only the fork',
    );
    const m = await checkBundle(out);
    t.match(m.sessions, [{ id: fork.id, materialized: true, parents: [] }]);
    const file = onlyFile(t, out);
    t.equal(file.path, relative(h.dir, fork.path), 'under its plain name (the grandchild is .zst only at home)');
    const head = JSON.parse(file.lines[0]);
    const own = JSON.parse(fork.lines[0]);
    t.notOk('history_base' in head.payload, 'no history_base');
    t.notOk('forked_from_ordinal_exclusive' in head.payload);
    delete own.payload.history_base;
    delete own.payload.forked_from_ordinal_exclusive;
    t.same(head, { ...own, ordinal: 0 }, 'its own head otherwise, at ordinal 0');
    t.same(file.lines.slice(1).map(sansOrdinal), fork.history!.map(sansOrdinal), "the ancestors' lines up to the cuts, then its own");
    t.same(
      file.lines.map((l) => JSON.parse(l).ordinal),
      file.lines.map((_, i) => i),
      'ordinals run on',
    );
    t.ok(bundle(h, ['--no-ancestors', fork.id]).stdout.equals(readFileSync(out)), 'the same bytes again');

    const there = tmpDir(t);
    const u = run('rollout-unbundle', ['--codex-home', there, '--index', join(there, 'idx.sqlite'), out]);
    t.equal(u.code, 0, u.err);
    t.match(ndjson(u.out), [{ action: 'import', id: fork.id }]);
    const mine = run('rollout-cat', ['--codex-home', there, fork.id]);
    t.equal(mine.code, 0, mine.err);
    const source = run('rollout-cat', ['--codex-home', h.dir, '--full', fork.id]);
    t.equal(source.code, 0, source.err);
    // The same records: the history less the referencing heads, and the fork's head less what pointed at its parent.
    t.same(
      linesOf(mine.out).slice(1).map(sansOrdinal),
      linesOf(source.out)
        .filter((l) => !referencing(l))
        .map(sansOrdinal),
    );
    t.same(linesOf(mine.out)[0], file.lines[0]);
  }
});

t.test('--no-ancestors: a session that reads only its own thread is bundled as it is; a chosen parent stays itself', async (t) => {
  const h = home(t);
  const revision = writeReferencedFork(
    h.dir,
    h.root,
    h.root.lines.length,
    { id: h.root.id, start: new Date('2026-08-04T10:00:00Z'), turns: [{ user: 'again' }] },
    { rolloutId: '019fd000-0000-7000-8000-000000000001' },
  );
  // A revision of the fork: it reads the fork's file, which reads the root, so it reads another thread too.
  const forkRevision = writeReferencedFork(
    h.dir,
    h.child,
    h.child.lines.length,
    { id: h.child.id, start: new Date('2026-08-05T10:00:00Z'), turns: [{ user: 'once more' }] },
    { rolloutId: '019fd000-0000-7000-8000-000000000002' },
  );
  const out = join(tmpDir(t), 'b.tar');
  const r = bundle(h, ['--no-ancestors', '-o', out, h.root.id, h.child.id]);
  t.equal(r.code, 0, r.err);
  const m = await checkBundle(out);
  const root = m.sessions.find((s) => s.id === h.root.id)!;
  t.match(root, { materialized: false, parents: [] }, 'a revision reading its own thread is not written whole');
  t.same(
    root.files.map((f) => f.sha256),
    [h.root.path, revision.path].sort().map((p) => createHash('sha256').update(readFileSync(p)).digest('hex')),
    'both files byte for byte',
  );
  t.match(
    m.sessions.find((s) => s.id === h.child.id),
    { materialized: true, parents: [] },
    'the fork is whole, though its parent is bundled too',
  );
  const x = tmpDir(t);
  t.equal(spawnSync('tar', ['-xf', out, '-C', x]).status, 0);
  for (const f of [h.child, forkRevision]) {
    const lines = linesOf(readFileSync(join(x, relative(h.dir, f.path)), 'utf8'));
    t.same(lines.slice(1).map(sansOrdinal), f.history!.map(sansOrdinal), `${relative(h.dir, f.path)}: whole, each file of the thread`);
  }
});

t.test("--no-ancestors: a sub-agent's subagent_history_start_ordinal follows its line", async (t) => {
  const h = home(t);
  const own = JSON.parse(h.child.lines.at(-1)!).ordinal + 2;
  const agent = writeReferencedFork(h.dir, h.child, h.child.lines.length, {
    start: new Date('2026-08-05T10:00:00Z'),
    meta: { subagent_history_start_ordinal: own },
    turns: [{ user: 'agent' }],
  });
  const out = join(tmpDir(t), 'a.tar');
  t.equal(bundle(h, ['--no-ancestors', '-o', out, agent.id]).code, 0);
  const file = onlyFile(t, out);
  const at = file.lines.findIndex((l) => sansOrdinal(l) === sansOrdinal(agent.lines[1]));
  t.ok(at > 0);
  t.equal(JSON.parse(file.lines[0]).payload.subagent_history_start_ordinal, at, 'the ordinal of the line it named');
  t.not(at, own, 'which is not the old one: the fork heads between are gone');
});

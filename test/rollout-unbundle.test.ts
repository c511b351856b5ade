// rollout-unbundle as a subprocess over real homes: a round trip from one home to another (files,
// mtimes, names, rollout-ls, Codex's threads rows), re-import changing nothing, a session that grew
// (update) or diverged (conflict), stdin and -n; and hostile bundles, each refused with the home
// left byte for byte as it was.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import t, { type Test } from 'tap';
import { manifestBytes, type BundledSession } from '../lib/bundle/manifest.js';
import { writeTar, type TarInput } from '../lib/bundle/tar.js';
import { ndjson, run, tmpDir, uuidv7, writeSession, zstd } from './helpers/fixtures.js';
import { stateDb } from './helpers/prune.js';
import { bundledSession } from './helpers/bundles.js';
import { movedCopy } from './helpers/retag.js';
import { onTerminal } from './helpers/tty.js';
import { humanBytes } from '../lib/cli/units.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Every file under `dir` but the rollout index: path, bytes' digest and mtime, to compare before and after. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.name.startsWith('rollout-index.sqlite')) continue;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(`${relative(dir, p)} ${sha(readFileSync(p))} ${statSync(p).mtimeMs}`);
      else out.push(`${relative(dir, p)} (link)`);
    }
  };
  walk(dir);
  return out.sort();
}

/** Home A: a plain session (named), an archived one, and a referencing fork chain whose last file is .zst only; files a day old. */
function homeA(t: Test) {
  const dir = tmpDir(t);
  const old = { mtime: new Date(Date.now() - 86_400_000) };
  const plain = writeSession(dir, { start: new Date('2026-08-01T09:00:00Z'), turns: [{ user: 'plain' }] }, old);
  const archived = writeSession(dir, { start: new Date('2026-07-01T09:00:00Z'), turns: [{ user: 'old' }] }, { root: 'archived_sessions', ...old });
  const root = writeSession(dir, { history: 'paginated', start: new Date('2026-08-01T10:00:00Z'), turns: [{ user: 'one' }, { user: 'two' }] }, old);
  const rootBytes = readFileSync(root.path);
  const child = writeSession(
    dir,
    {
      history: 'paginated',
      start: new Date('2026-08-02T10:00:00Z'),
      meta: { forked_from_id: root.id, history_base: { thread_id: root.id, end_ordinal_exclusive: 5, end_byte_offset: rootBytes.length } },
      turns: [{ user: 'three' }],
    },
    { zst: 'only', ...old },
  );
  writeFileSync(join(dir, 'session_index.jsonl'), JSON.stringify({ id: plain.id, thread_name: 'shop work', updated_at: '2026-08-01T09:30:00Z' }) + '\n');
  return { dir, plain, archived, root, child, index: join(dir, 'idx.sqlite') };
}

const bundle = (home: string, args: string[]) =>
  run('rollout-bundle', ['--codex-home', home, '--index', join(home, 'idx.sqlite'), '--include-archived', ...args]);
const unbundle = (home: string, args: string[], input?: Buffer) =>
  run('rollout-unbundle', ['--codex-home', home, '--index', join(home, 'idx.sqlite'), ...args], { input });

function emptyHome(t: Test): string {
  const dir = tmpDir(t);
  return dir;
}

t.test('round trip: same files at the same paths with their mtimes, names, rollout-ls; again: all skip, nothing changes', async (t) => {
  const a = homeA(t);
  const file = join(tmpDir(t), 'a.tar.zst');
  t.equal(bundle(a.dir, ['-o', file]).code, 0);
  const b = emptyHome(t);
  const r = unbundle(b, [file]);
  t.equal(r.code, 0, r.err);
  const lines = ndjson(r.out);
  t.same(
    lines.map((l) => l.action),
    ['import', 'import', 'import', 'import'],
  );
  t.equal(lines.find((l) => l.id === a.plain.id).name, 'shop work');
  for (const p of [a.plain.path, a.archived.path, a.root.path, `${a.child.path}.zst`]) {
    const there = join(b, relative(a.dir, p));
    t.same(readFileSync(there), readFileSync(p), relative(a.dir, p));
    t.equal(Math.floor(statSync(there).mtimeMs / 1000), Math.floor(statSync(p).mtimeMs / 1000), 'and its mtime');
  }
  t.match(readFileSync(join(b, 'session_index.jsonl'), 'utf8'), `"id":"${a.plain.id}","thread_name":"shop work"`);
  t.match(r.err, /no state_5\.sqlite here: Codex fills its threads table/);
  t.match(r.err, /imported 4 sessions, updated 0, skipped 0/);
  const ls = run('rollout-ls', ['--codex-home', b, '--index', join(b, 'idx.sqlite'), '--include-archived']);
  t.same(
    ndjson(ls.out)
      .map((x) => x.id)
      .sort(),
    [a.plain.id, a.archived.id, a.root.id, a.child.id].sort(),
  );
  t.equal(ndjson(ls.out).find((x) => x.id === a.plain.id).name, 'shop work');

  const before = snapshot(b);
  const again = unbundle(b, [file]);
  t.equal(again.code, 0, again.err);
  t.same(
    ndjson(again.out).map((l) => [l.action, l.reason]),
    Array(4).fill(['skip', 'already here']),
  );
  t.same(snapshot(b), before, 'no byte, name or mtime changed');
});

t.test('a session that grew is updated from an incremental bundle; one that diverged is a conflict, left alone', async (t) => {
  const a = homeA(t);
  const first = join(tmpDir(t), 'first.tar');
  t.equal(bundle(a.dir, ['-o', first]).code, 0);
  const b = emptyHome(t);
  t.equal(unbundle(b, [first]).code, 0);
  appendFileSync(a.plain.path, a.plain.lines[1] + '\n');
  const more = join(tmpDir(t), 'more.tar');
  t.equal(bundle(a.dir, ['--since-bundle', first, '-o', more]).code, 0);
  const inB = join(b, relative(a.dir, a.plain.path));
  // As if a Codex in B had just written to it.
  utimesSync(inB, new Date(), new Date());
  const fresh = unbundle(b, [more]);
  t.equal(fresh.code, 0, fresh.err);
  t.match(ndjson(fresh.out), [{ action: 'skip', id: a.plain.id, reason: /grace period/ }], 'a file written within --grace is left alone');
  const r = unbundle(b, ['--grace', '0', more]);
  t.equal(r.code, 0, r.err);
  t.same(ndjson(r.out), [{ action: 'update', id: a.plain.id, paths: [inB] }]);
  t.same(readFileSync(inB), readFileSync(a.plain.path), 'the longer file won');

  // Diverged: B's copy goes on differently from A's.
  appendFileSync(inB, a.plain.lines[2] + '\n');
  appendFileSync(a.plain.path, a.plain.lines[3] + '\n');
  const diverged = join(tmpDir(t), 'diverged.tar');
  t.equal(bundle(a.dir, ['--since-bundle', more, '-o', diverged]).code, 0);
  const before = snapshot(b);
  const c = unbundle(b, ['--grace', '0', diverged]);
  t.equal(c.code, 1, 'a conflict is a failure');
  t.match(
    ndjson(c.out).find((l) => l.id === a.plain.id),
    { action: 'conflict', reason: /differs from the home's copy at byte \d+/ },
  );
  t.match(c.err, /1 conflict/);
  t.same(snapshot(b), before, "B's file untouched");

  // The bundle's copy is a prefix of B's: B keeps its longer copy.
  const shorter = unbundle(b, ['--grace', '0', first]);
  t.match(
    ndjson(shorter.out).find((l) => l.id === a.plain.id),
    { action: 'skip', reason: "the home's copy is longer" },
  );
});

t.test('stdin, -n, and a state_5.sqlite that gains the threads rows', async (t) => {
  const a = homeA(t);
  const bytes = bundle(a.dir, ['--zstd']).stdout;
  const b = emptyHome(t);
  writeSession(b, { start: new Date('2026-06-01T09:00:00Z'), turns: [{ user: 'mine' }] });
  stateDb(b, []);
  const before = snapshot(b);
  const dry = unbundle(b, ['-n'], bytes);
  t.equal(dry.code, 0, dry.err);
  t.same(
    ndjson(dry.out).map((l) => [l.action, l.dry_run]),
    Array(4).fill(['import', true]),
  );
  t.match(dry.err, /would import 4 sessions/);
  t.same(snapshot(b), before, '-n writes nothing');
  t.same(
    readdirSync(dirname(join(b, 'x'))).filter((n) => n.includes('.tmp')),
    [],
  );

  const r = unbundle(b, ['-'], bytes);
  t.equal(r.code, 0, r.err);
  t.match(r.err, /Codex's threads table: 4 inserted/);
  const BetterSqlite3 = (await import('better-sqlite3')).default;
  const db = new BetterSqlite3(join(b, 'state_5.sqlite'), { readonly: true });
  const rows = db.prepare('SELECT id, archived, name FROM threads ORDER BY id').all() as Array<{ id: string; archived: number; name: string | null }>;
  db.close();
  t.same(
    rows,
    [
      { id: a.plain.id, archived: 0, name: 'shop work' },
      { id: a.archived.id, archived: 1, name: null },
      { id: a.root.id, archived: 0, name: null },
      { id: a.child.id, archived: 0, name: null },
    ].sort((x, y) => (x.id < y.id ? -1 : 1)),
    'exactly the imported threads, archived as they were, named',
  );
});

t.test('names: a later rename in this home wins; an id already here in the other root is not copied again', async (t) => {
  const a = homeA(t);
  const file = join(tmpDir(t), 'a.tar');
  t.equal(bundle(a.dir, ['-o', file]).code, 0);
  const b = emptyHome(t);
  // B has the plain session archived, and named it later than A did.
  mkdirSync(join(b, 'archived_sessions'), { recursive: true });
  writeFileSync(join(b, 'archived_sessions', a.plain.path.split('/').pop()!), readFileSync(a.plain.path));
  writeFileSync(join(b, 'session_index.jsonl'), JSON.stringify({ id: a.plain.id, thread_name: 'my name', updated_at: '2027-01-01T00:00:00Z' }) + '\n');
  const r = unbundle(b, [file]);
  t.equal(r.code, 0, r.err);
  const line = ndjson(r.out).find((l) => l.id === a.plain.id);
  t.match(line, { action: 'skip', reason: 'already here' });
  t.notOk('name' in line);
  t.notOk(existsSync(join(b, relative(a.dir, a.plain.path))), 'no second copy in sessions/');
  t.equal(readFileSync(join(b, 'session_index.jsonl'), 'utf8').split('\n').filter(Boolean).length, 1, 'the rename stands');

  // A name given here before the bundled session was last updated gives way, as Codex's newest entry wins.
  const c = emptyHome(t);
  writeFileSync(join(c, 'session_index.jsonl'), JSON.stringify({ id: a.plain.id, thread_name: 'old name', updated_at: '2020-01-01T00:00:00Z' }) + '\n');
  const older = unbundle(c, [file]);
  t.equal(older.code, 0, older.err);
  t.match(
    ndjson(older.out).find((l) => l.id === a.plain.id),
    { action: 'import', name: 'shop work' },
  );
  const log = readFileSync(join(c, 'session_index.jsonl'), 'utf8').trim().split('\n');
  t.match(JSON.parse(log[log.length - 1]), { id: a.plain.id, thread_name: 'shop work' });
});

async function* of(data: Buffer): AsyncGenerator<Buffer> {
  yield data;
}

/** A bundle file written member by member, manifest as given: the hostile ones lie in it. */
async function hostile(t: Test, sessions: BundledSession[] | Buffer, members: Array<[string, Buffer]>): Promise<string> {
  const m = Buffer.isBuffer(sessions) ? sessions : manifestBytes(sessions);
  const inputs: TarInput[] = [['manifest.json', m] as [string, Buffer], ...members].map(([path, data]) => ({
    path,
    size: data.length,
    mtime: 0,
    data: () => of(data),
  }));
  const out: Buffer[] = [];
  for await (const c of writeTar(inputs)) out.push(Buffer.from(c));
  const file = join(tmpDir(t), 'h.tar');
  writeFileSync(file, Buffer.concat(out));
  return file;
}

const ID = '0199a213-81c0-7800-8aa1-bbab2a035a53';
const PATH = `sessions/2026/01/02/rollout-2026-01-02T10-00-00-${ID}.jsonl`;
const DATA = Buffer.from('{"type":"session_meta"}\n');
const session = (files: Array<[string, Buffer]>, id = ID): BundledSession =>
  bundledSession(
    id,
    files.map(([path, data]) => ({ path, size: data.length, sha256: sha(data) })),
  );

t.test('hostile bundles are refused whole, the home unchanged, the error saying what was wrong', async (t) => {
  const b = emptyHome(t);
  writeSession(b, { start: new Date('2026-06-01T09:00:00Z'), turns: [{ user: 'mine' }] });
  const other = `sessions/2026/01/03/rollout-2026-01-03T10-00-00-${ID.replace(/3$/, '4')}.jsonl`;
  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    ['manifest not JSON', () => hostile(t, Buffer.from('{'), [[PATH, DATA]]), /manifest.json is not valid JSON/],
    ['a checksum mismatch', () => hostile(t, [session([[PATH, DATA]])], [[PATH, Buffer.from(DATA.toString().replace('meta', 'mETA'))]]), /SHA-256/],
    ['a size mismatch', () => hostile(t, [session([[PATH, DATA]])], [[PATH, Buffer.concat([DATA, DATA])]]), /is 48 bytes; manifest.json says 24/],
    [
      'a member not listed',
      () =>
        hostile(
          t,
          [session([[PATH, DATA]])],
          [
            [PATH, DATA],
            [other, DATA],
          ],
        ),
      /not in manifest.json/,
    ],
    ['a member missing', () => hostile(t, [session([[PATH, DATA]])], []), /is missing/],
    [
      'a truncated archive',
      async () => {
        const file = await hostile(t, [session([[PATH, DATA]])], [[PATH, DATA]]);
        writeFileSync(file, readFileSync(file).subarray(0, 512 * 4 + 10));
        return file;
      },
      /truncated/,
    ],
    [
      'a symlink member',
      async () => {
        const dir = tmpDir(t);
        mkdirSync(join(dir, dirname(PATH)), { recursive: true });
        symlinkSync('/etc/passwd', join(dir, PATH));
        writeFileSync(join(dir, 'manifest.json'), manifestBytes([session([[PATH, DATA]])]));
        const file = join(tmpDir(t), 'g.tar');
        spawnSync('tar', ['--format=pax', '-cf', file, '-C', dir, 'manifest.json', PATH]);
        return file;
      },
      /is a symbolic link/,
    ],
  ];
  const before = snapshot(b);
  for (const [what, make, re] of cases) {
    const r = unbundle(b, [await make()]);
    t.equal(r.code, 1, what);
    t.match(r.err, /^rollout-unbundle: error: .*not a bundle we can trust/m, what);
    t.match(r.err, re, what);
    t.equal(r.out, '', `${what}: no session line`);
    t.same(snapshot(b), before, `${what}: the home is unchanged`);
  }
});

t.test('a path through a symlinked folder inside the home is refused before anything is written', async (t) => {
  const b = emptyHome(t);
  const outside = tmpDir(t);
  mkdirSync(join(b, 'sessions'), { recursive: true });
  symlinkSync(outside, join(b, 'sessions', '2026'));
  const good = `sessions/2025/12/01/rollout-2025-12-01T10-00-00-${ID.replace(/3$/, '0')}.jsonl`;
  const file = await hostile(
    t,
    [session([[good, DATA]], ID.replace(/3$/, '0')), session([[PATH, DATA]])],
    [
      [good, DATA],
      [PATH, DATA],
    ],
  );
  const before = snapshot(b);
  const r = unbundle(b, [file]);
  t.equal(r.code, 1);
  t.match(r.err, /rollout-unbundle: error: .*not a bundle we can import here: .*would be reached through a symlink/);
  t.same(snapshot(b), before, 'not even the session before it was written');
  t.same(readdirSync(outside), [], 'nothing went through the link');
});

t.test('--map-cwd and --provider: each file written for this home and nothing else changed; the fork still reads its parent', async (t) => {
  const a = homeA(t);
  const file = join(tmpDir(t), 'a.tar.zst');
  t.equal(bundle(a.dir, ['-o', file]).code, 0);
  const b = emptyHome(t);
  const flags = ['--map-cwd', '/home/ana=/Users/ana', '--map-cwd', '/home/ana/src/=/Users/ana/code', '--provider', 'azure'];
  const move = (cwd: string) => cwd.replace('/home/ana/src', '/Users/ana/code');
  const r = unbundle(b, [...flags, file]);
  t.equal(r.code, 0, r.err);
  t.same(
    ndjson(r.out).map((l) => l.action),
    Array(4).fill('import'),
  );
  let moved = 0;
  for (const p of [a.plain.path, a.archived.path, a.root.path, `${a.child.path}.zst`]) moved += movedCopy(t, p, join(b, relative(a.dir, p)), move, 'azure');
  t.ok(moved >= 8, `${moved} lines moved`);
  const ls = (home: string, args: string[]) =>
    ndjson(run('rollout-ls', ['--codex-home', home, '--index', join(home, 'idx.sqlite'), '--include-archived', ...args]).out).map((x) => x.id);
  t.equal(ls(b, ['--cwd', '/Users/ana/code/shop', '--provider', 'azure']).length, 4, 'listed at the new place, under the new provider');
  t.same(ls(b, ['--cwd', '/home/ana/src/shop']), [], 'and not at the old one');

  // The fork's whole history, read through its parent at the carried offset, is A's with the fields moved.
  const full = (home: string) => run('rollout-cat', ['--codex-home', home, '--full', a.child.id]);
  const fa = full(a.dir);
  const fb = full(b);
  t.equal(fb.code, 0, fb.err);
  const cat = (out: string) =>
    out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
  t.same(
    cat(fb.out).map((x) => x.type),
    cat(fa.out).map((x) => x.type),
    "the parent's lines, then the fork's",
  );
  t.equal(
    cat(fb.out)
      .filter((x) => x.type === 'response_item')
      .map((x) => JSON.stringify(x))
      .join('\n'),
    cat(fa.out)
      .filter((x) => x.type === 'response_item')
      .map((x) => JSON.stringify(x))
      .join('\n'),
  );

  const before = snapshot(b);
  const again = unbundle(b, [...flags, file]);
  t.same(
    ndjson(again.out).map((l) => [l.action, l.reason]),
    Array(4).fill(['skip', 'already here']),
    'the same bundle with the same options: the rewritten files are the same',
  );
  t.same(snapshot(b), before);
  const plainAgain = unbundle(b, [file]);
  t.equal(plainAgain.code, 1, 'without the options, the files differ');
  t.same(new Set(ndjson(plainAgain.out).map((l) => l.action)), new Set(['conflict']));

  appendFileSync(a.plain.path, a.plain.lines[1] + '\n');
  const more = join(tmpDir(t), 'more.tar');
  t.equal(bundle(a.dir, ['--since-bundle', file, '-o', more]).code, 0);
  const grown = unbundle(b, ['--grace', '0', ...flags, more]);
  t.equal(grown.code, 0, grown.err);
  t.match(ndjson(grown.out), [{ action: 'update', id: a.plain.id }]);
  movedCopy(t, a.plain.path, join(b, relative(a.dir, a.plain.path)), move, 'azure');
});

t.test('a fork whose parent the bundle lacks is not rewritten: its offsets could not be carried over', async (t) => {
  const a = homeA(t);
  const child = `${a.child.path}.zst`;
  const bytes = readFileSync(child);
  const path = relative(a.dir, child);
  const session = { ...bundledSession(a.child.id, [{ path, size: bytes.length, sha256: sha(bytes) }]), parents: [a.root.id] };
  const manifest = manifestBytes([session]);
  const members: TarInput[] = [
    {
      path: 'manifest.json',
      size: manifest.length,
      mtime: 0,
      data: async function* () {
        yield manifest;
      },
    },
    {
      path,
      size: bytes.length,
      mtime: 0,
      data: async function* () {
        yield bytes;
      },
    },
  ];
  const chunks: Buffer[] = [];
  for await (const c of writeTar(members)) chunks.push(Buffer.from(c));
  const file = join(tmpDir(t), 'child.tar');
  writeFileSync(file, Buffer.concat(chunks));
  const b = emptyHome(t);
  const r = unbundle(b, ['--map-cwd', '/home/ana=/Users/ana', file]);
  t.match(ndjson(r.out), [{ action: 'skip', id: a.child.id, reason: /reads another rollout through byte offsets, and the bundle does not hold it/ }]);
  t.notOk(existsSync(join(b, path)));
  t.equal(unbundle(b, [file]).code, 0, 'as it is, it imports');
});

t.test('on a terminal, a progress bar over the files written; into a pipe, none', async (t) => {
  const a = homeA(t);
  const file = join(tmpDir(t), 'a.tar');
  t.equal(bundle(a.dir, ['-o', file]).code, 0);
  const bytes = [a.plain.path, a.archived.path, a.root.path, `${a.child.path}.zst`].reduce((n, p) => n + statSync(p).size, 0);
  const b = emptyHome(t);
  const out = join(tmpDir(t), 'stdout');
  const r = onTerminal('rollout-unbundle', ['--codex-home', b, '--progress', file], { stdoutTo: out, columns: 160 });
  t.equal(r.code, 0, r.screen);
  t.match(
    r.screen,
    new RegExp(`rollout-unbundle: importing (?:\\[#+\\] )?100% 4/4 files, ${humanBytes(bytes).replace('.', '\\.')}/`),
    'the final frame: every file',
  );
  t.equal(ndjson(readFileSync(out, 'utf8')).length, 4, 'stdout has the lines, not the bar');
  const piped = unbundle(emptyHome(t), [file]);
  t.notMatch(piped.err, /\r|ETA /, 'into a pipe: nothing of a bar');
});

t.test('usage: not a Codex home, two bundles', async (t) => {
  const missing = join(tmpDir(t), 'nope');
  const r = run('rollout-unbundle', ['--codex-home', missing, '/dev/null']);
  t.equal(r.code, 1);
  t.match(r.err, /rollout-unbundle: error: .*nope: no such folder: no Codex home here/);
  t.notOk(existsSync(missing));
  const two = run('rollout-unbundle', ['--codex-home', tmpDir(t), 'a', 'b']);
  t.equal(two.code, 2);
  t.match(two.err, /give one bundle/);
});

t.test("a thread's new revision goes where the home keeps the thread; a .zst copy here is the same session", async (t) => {
  const a = tmpDir(t);
  const old = { mtime: new Date(Date.now() - 86_400_000) };
  const first = writeSession(a, { history: 'paginated', start: new Date('2026-08-01T10:00:00Z'), turns: [{ user: 'one' }] }, old);
  const rev = uuidv7(Date.parse('2026-08-02T10:00:00Z'));
  const second = writeSession(
    a,
    {
      id: first.id,
      history: 'paginated',
      start: new Date('2026-08-02T10:00:00Z'),
      meta: { history_base: { thread_id: first.id, end_ordinal_exclusive: 3, end_byte_offset: 100 } },
      turns: [{ user: 'two' }],
    },
    { rolloutId: rev, ...old },
  );
  const other = writeSession(a, { start: new Date('2026-08-03T10:00:00Z'), turns: [{ user: 'other' }] }, old);
  const file = join(tmpDir(t), 'a.tar');
  t.equal(bundle(a, ['-o', file]).code, 0);

  // B keeps the thread's first file archived, and the other session compressed only.
  const b = emptyHome(t);
  mkdirSync(join(b, 'archived_sessions'));
  writeFileSync(join(b, 'archived_sessions', basename(first.path)), readFileSync(first.path));
  const otherZst = join(b, relative(a, other.path)) + '.zst';
  mkdirSync(dirname(otherZst), { recursive: true });
  writeFileSync(otherZst, zstd(readFileSync(other.path)));
  const r = unbundle(b, ['--grace', '0', file]);
  t.equal(r.code, 0, r.err);
  const lines = ndjson(r.out);
  t.same(
    lines.find((l) => l.id === first.id),
    { action: 'import', id: first.id, paths: [join(b, 'archived_sessions', basename(second.path))] },
  );
  t.same(readFileSync(join(b, 'archived_sessions', basename(second.path))), readFileSync(second.path), 'the revision, archived with its thread');
  t.notOk(existsSync(join(b, 'sessions', '2026', '08', '01')), 'nothing of the thread in sessions/');
  t.match(
    lines.find((l) => l.id === other.id),
    { action: 'skip', reason: 'already here', paths: [otherZst] },
  );
  t.notOk(existsSync(join(b, relative(a, other.path))), 'no plain copy beside the .zst');
});

t.test("stdin is spooled to $TMPDIR and removed; a killed run's spool is swept; a hostile bundle on stdin is refused", async (t) => {
  const a = homeA(t);
  const bytes = bundle(a.dir, []).stdout;
  const tmp = tmpDir(t);
  const dead = spawnSync('true').pid;
  const leftover = join(tmp, `rollout-unbundle-${dead}-0123456789ab.tar`);
  writeFileSync(leftover, 'x');
  const b = emptyHome(t);
  const r = run('rollout-unbundle', ['--codex-home', b, '--index', join(b, 'idx.sqlite')], { input: bytes, env: { TMPDIR: tmp } });
  t.equal(r.code, 0, r.err);
  t.equal(ndjson(r.out).length, 4);
  t.same(readdirSync(tmp), [], "no spool left, and the dead run's swept");

  const c = emptyHome(t);
  const cut = bytes.subarray(0, bytes.length - 1024);
  const h = run('rollout-unbundle', ['--codex-home', c, '-'], { input: cut, env: { TMPDIR: tmp } });
  t.equal(h.code, 1);
  t.match(h.err, /rollout-unbundle: error: <stdin>: not a bundle we can trust: the archive is truncated/);
  t.same(readdirSync(c), [], 'nothing written');
  t.same(readdirSync(tmp), [], 'and the spool removed');
});

t.test("a bundle's name is held to rollout-name's rules: one that reads as an id prefix is not given", async (t) => {
  const a = homeA(t);
  writeFileSync(
    join(a.dir, 'session_index.jsonl'),
    JSON.stringify({ id: a.plain.id, thread_name: a.root.id.slice(0, 8), updated_at: '2026-08-01T09:30:00Z' }) + '\n',
  );
  const file = join(tmpDir(t), 'b.tar');
  t.equal(bundle(a.dir, ['-o', file]).code, 0);
  const b = emptyHome(t);
  const r = unbundle(b, [file]);
  t.equal(r.code, 0, r.err);
  t.match(r.err, `rollout-unbundle: warning: session ${a.plain.id}: the bundle's name is not given: '${a.root.id.slice(0, 8)}' reads as a session id`);
  t.notOk(
    existsSync(join(b, 'session_index.jsonl')) && readFileSync(join(b, 'session_index.jsonl'), 'utf8').includes(a.root.id.slice(0, 8)),
    'no such name here',
  );
  t.equal(ndjson(r.out).find((l) => l.id === a.plain.id).action, 'import', 'the session itself is imported');
});

// A backup that is no backup: a destination that is the home, lies in its roots, or reaches the
// very file acted on (a symlink, a bind mount, a hard link) is refused before anything is touched,
// in a dry run as in a real one, by prune and by fsck --repair alike.
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import t, { type Test } from 'tap';
import { run, tmpDir } from './helpers/fixtures.js';
import { aged, DAY, tree } from './helpers/prune.js';

const env = (home: string) => ({ env: { CODEX_HOME: home, ROLLOUT_INDEX: '' } });
const prune = (home: string, args: string[]) => run('rollout-prune', ['--older-than', '30d', ...args], env(home));
const repair = (home: string, args: string[]) => run('rollout-fsck', ['--repair', '--grace', '0', ...args], env(home));

/** A home with two old sessions, one of them torn (so fsck --repair has work). */
function home(t: Test) {
  const dir = join(tmpDir(t), 'home');
  const a = aged(dir, 40 * DAY);
  const b = aged(dir, 45 * DAY);
  writeFileSync(b.path, Buffer.concat([readFileSync(b.path), Buffer.from('{"timestamp":"2026-01-01T00:00:00.000Z","ty')]));
  const old = new Date(Date.now() - 45 * DAY);
  utimesSync(b.path, old, old);
  return { dir, a, b };
}

function refusedEverywhere(t: Test, h: ReturnType<typeof home>, backup: string, why: RegExp) {
  const before = tree(h.dir);
  for (const [label, r] of [
    ['prune -n', prune(h.dir, ['--backup', backup, '-n'])],
    ['prune', prune(h.dir, ['--backup', backup])],
    ['prune --compress', prune(h.dir, ['--backup', backup, '--compress'])],
    ['fsck --repair -n', repair(h.dir, ['--backup', backup, '-n'])],
    ['fsck --repair', repair(h.dir, ['--backup', backup])],
  ] as const) {
    t.equal(r.code, 2, `${label}: refused as a usage error`);
    t.match(r.err, why, `${label}: says why`);
    t.equal(r.out, '', `${label}: acts on nothing`);
  }
  t.same(tree(h.dir), before, 'not a byte of the home changed');
}

t.test('the home itself, its roots, or a folder in them', async (t) => {
  const h = home(t);
  for (const backup of [
    h.dir,
    `${h.dir}/`,
    join(h.dir, 'sessions'),
    join(h.dir, 'sessions', 'backup'),
    join(h.dir, 'archived_sessions'),
    join(h.dir, 'sessions', '..'),
  ]) {
    refusedEverywhere(t, h, backup, /--backup .*(lies inside|would put its copies into) the Codex home's sessions/);
  }
});

t.test('a symlink to the home or into its roots', async (t) => {
  const h = home(t);
  const links = tmpDir(t);
  symlinkSync(h.dir, join(links, 'home-link'));
  symlinkSync(join(h.dir, 'sessions'), join(links, 'sessions-link'));
  refusedEverywhere(t, h, join(links, 'home-link'), /would put its copies into/);
  refusedEverywhere(t, h, join(links, 'sessions-link'), /lies inside/);
  refusedEverywhere(t, h, join(links, 'sessions-link', 'deeper', 'still'), /lies inside/);
});

const root = process.getuid?.() === 0;

t.test('a bind mount of the home', { skip: root ? false : 'bind mounts need root' }, async (t) => {
  const h = home(t);
  const bind = tmpDir(t);
  const mounted = spawnSync('mount', ['--bind', h.dir, bind]);
  if (!t.equal(mounted.status, 0, `mount --bind (${mounted.stderr.toString()})`)) return;
  t.teardown(() => spawnSync('umount', [bind]));
  refusedEverywhere(t, h, bind, /would put its copies into/);
});

t.test('a backup folder beside the roots is fine, and every copy reads back before the original goes', async (t) => {
  const h = home(t);
  const backup = join(h.dir, 'rollout-backup');
  const a = readFileSync(h.a.path);
  const dry = prune(h.dir, ['--backup', backup, '-n']);
  t.equal(dry.code, 0, dry.err);
  t.notOk(existsSync(backup), 'a dry run creates nothing');
  const real = prune(h.dir, ['--backup', backup]);
  t.equal(real.code, 0, real.err);
  t.same(JSON.parse(real.out.split('\n')[1]).backup, JSON.parse(dry.out.split('\n')[1]).backup, 'the dry run named the places the real run used');
  const copy = join(backup, h.a.path.slice(h.dir.length + 1));
  t.same(readFileSync(copy), a, 'the copy holds the bytes');
  t.notOk(existsSync(h.a.path), 'and only then the original went');
});

t.test('an earlier backup: the same bytes are reused, other bytes are never overwritten', async (t) => {
  const h = home(t);
  const backup = join(tmpDir(t), 'bk');
  const rel = h.a.path.slice(h.dir.length + 1);
  mkdirSync(dirname(join(backup, rel)), { recursive: true });
  writeFileSync(join(backup, rel), 'an older backup of other bytes\n');
  const dry = prune(h.dir, ['--backup', backup, '-n']);
  const real = prune(h.dir, ['--backup', backup]);
  t.equal(real.code, 0, real.err);
  const line = (out: string) =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((l) => l.id === h.a.id);
  t.same(line(real.out).backup, [join(backup, `${rel}.1`)], 'the copy goes beside it, numbered');
  t.same(line(dry.out).backup, line(real.out).backup, 'as the dry run said');
  t.equal(readFileSync(join(backup, rel), 'utf8'), 'an older backup of other bytes\n', 'the older backup is untouched');
});

t.test('a backup path that is a hard link of the file itself is refused for that session', async (t) => {
  const h = home(t);
  const backup = join(tmpDir(t), 'bk');
  const rel = h.a.path.slice(h.dir.length + 1);
  mkdirSync(dirname(join(backup, rel)), { recursive: true });
  linkSync(h.a.path, join(backup, rel));
  const before = readFileSync(h.a.path);
  const r = prune(h.dir, ['--backup', backup]);
  t.equal(r.code, 1, 'a per-session error');
  t.match(r.err, /refused: the backup .* is the file itself/);
  t.same(readFileSync(h.a.path), before, 'the session is still there');
  t.notOk(existsSync(h.b.path), 'the other session went on as asked');
});

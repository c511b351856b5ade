// Temp files never outlive a failure: a run that fails removes its own, a signal removes them
// before the process exits, and what SIGKILL leaves behind the next run sweeps (only files of
// ours whose process is gone). Real kills at random moments, a real full disk (a tmpfs).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import t from 'tap';
import { ndjson, QUICK_START, REPO, run, tmpDir, writeSession } from './helpers/fixtures.js';
import { DAY } from './helpers/prune.js';

/** Every file below `dir` whose name marks it as one of our temp files. */
function temps(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (/\.rollout-[\d-]*[0-9a-f]{8}\.tmp$|\.rebuild-[\d-]*[0-9a-f]{8}\.tmp/.test(e.name)) out.push(join(d, e.name));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** A home of `n` sessions of some size, so that a build takes a while. */
function bigHome(dir: string, n: number) {
  const long = 'x'.repeat(2000);
  for (let i = 0; i < n; i++)
    writeSession(dir, {
      start: new Date(Date.UTC(2026, 7, 1 + (i % 28), 10, i % 60)),
      turns: Array.from({ length: 20 }, (_, k) => ({ user: `turn ${k} of ${i} ${long}`, tool: { cmd: 'ls', output: long } })),
    });
}

/**
 * Starts a binary and kills it with `signal` once `when` holds (checked every few milliseconds),
 * `after` milliseconds later; resolves with its exit and whether the kill came before it.
 */
function killWhen(
  bin: string,
  args: string[],
  env: Record<string, string>,
  when: () => boolean,
  signal: NodeJS.Signals,
  after = 0,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }> {
  const child = spawn(process.execPath, [join(REPO, 'dist/cmd', `${bin}.js`), ...args], { env: { ...process.env, ...QUICK_START, ...env }, stdio: 'ignore' });
  let killed = false;
  const poll = setInterval(() => {
    if (!when()) return;
    clearInterval(poll);
    setTimeout(() => {
      killed = child.exitCode === null && child.signalCode === null;
      child.kill(signal);
    }, after);
  }, 3);
  return new Promise((resolve) =>
    child.on('exit', (code, sig) => {
      clearInterval(poll);
      resolve({ code, signal: sig, killed });
    }),
  );
}

t.test('a first index build killed at random moments: the next run sweeps what was left, and builds', async (t) => {
  const home = join(tmpDir(t), 'home');
  bigHome(home, 120);
  const env = { CODEX_HOME: home, ROLLOUT_INDEX: '' };
  let left = 0;
  // Killed as soon as the scratch file exists, and at moments further into the build.
  for (const after of [0, 50, 150, 300, 500]) {
    await killWhen('rollout-index', [], env, () => temps(home).length > 0, 'SIGKILL', after);
    left += temps(home).length;
  }
  t.ok(left > 0, `SIGKILL left scratch files behind at least once (${left})`);
  const r = run('rollout-index', [], { env });
  t.equal(r.code, 0, r.err);
  t.same(temps(home), [], 'none left after the next run');
  t.equal(ndjson(run('rollout-ls', ['--json', '--limit', '500'], { env }).out).length, 120, 'and the index is whole');
});

t.test('SIGTERM or SIGINT during a build: the scratch files go before the process exits', async (t) => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const home = join(tmpDir(t), 'home');
    bigHome(home, 80);
    const r = await killWhen('rollout-index', [], { CODEX_HOME: home, ROLLOUT_INDEX: '' }, () => temps(home).length > 0, signal, 100);
    t.ok(r.killed, `${signal} came during the build`);
    t.equal(r.code, 128 + (signal === 'SIGTERM' ? 15 : 2), `${signal}: the exit status says so`);
    t.same(temps(home), [], `${signal}: nothing left`);
  }
});

t.test('a stale temp file of ours is swept; a live one, and anything not ours, is not', async (t) => {
  const home = join(tmpDir(t), 'home');
  const s = writeSession(home, { start: new Date(Date.now() - 40 * DAY), turns: [{ user: 'x' }] }, { mtime: new Date(Date.now() - 40 * DAY) });
  const dir = dirname(s.path);
  const dead = join(dir, `.${'rollout-x.jsonl.zst'}.rollout-999999-0123abcd.tmp`);
  const mine = join(dir, `.rollout-y.jsonl.zst.rollout-${process.pid}-0123abcd.tmp`);
  const legacyOld = join(dir, '.rollout-z.jsonl.zst.rollout-89abcdef.tmp');
  const legacyNew = join(dir, '.rollout-w.jsonl.zst.rollout-fedcba98.tmp');
  const foreign = join(dir, 'notes.tmp');
  for (const p of [dead, mine, legacyOld, legacyNew, foreign]) writeFileSync(p, 'half');
  const hourAgo = new Date(Date.now() - 2 * 3600_000);
  utimesSync(legacyOld, hourAgo, hourAgo);
  const r = run('rollout-prune', ['--older-than', '30d', '--compress', '--grace', '0'], { env: { CODEX_HOME: home, ROLLOUT_INDEX: '' } });
  t.equal(r.code, 0, r.err);
  t.notOk(existsSync(dead), 'a temp file whose process is gone is swept');
  t.notOk(existsSync(legacyOld), 'so is an old one from before names carried a process id');
  t.ok(existsSync(mine), 'one of a live process is kept');
  t.ok(existsSync(legacyNew), 'a recent one without a process id is kept (its writer may still be at work)');
  t.ok(existsSync(foreign), 'a file not of ours is never touched');
});

t.test('fsck --repair killed while copying to the backup: the next repair sweeps the half copy', async (t) => {
  const home = join(tmpDir(t), 'home');
  const backup = join(tmpDir(t), 'bk');
  const old = new Date(Date.now() - 40 * DAY);
  const s = writeSession(home, { start: old, turns: [{ user: 'big' }] });
  const line = JSON.stringify({ timestamp: '2026-10-01T00:00:00.000Z', type: 'event_msg', payload: { type: 'agent_message', message: 'y'.repeat(4000) } });
  writeFileSync(s.path, Buffer.concat([readFileSync(s.path), Buffer.from((line + '\n').repeat(30_000)), Buffer.from('{"timestamp":"2026-')]));
  utimesSync(s.path, old, old);
  const env = { CODEX_HOME: home, ROLLOUT_INDEX: '' };
  // Killed the moment its copy in the backup folder appears.
  const r0 = await killWhen('rollout-fsck', ['--repair', '--grace', '0', '--backup', backup], env, () => temps(backup).length > 0, 'SIGKILL');
  t.ok(r0.killed, 'killed while copying');
  t.ok(temps(backup).length > 0, 'and the half copy is left behind');
  const r = run('rollout-fsck', ['--repair', '--grace', '0', '--backup', backup], { env });
  t.equal(r.code, 0, r.err);
  t.same([...temps(backup), ...temps(home)], [], 'no temp file left anywhere');
  const copy = join(backup, s.path.slice(home.length + 1));
  t.ok(existsSync(copy), 'the backup is whole');
});

t.test(
  'a full disk: the build fails with a clear error and leaves no scratch file',
  { skip: process.getuid?.() === 0 ? false : 'mounting a tmpfs needs root' },
  async (t) => {
    const home = join(tmpDir(t), 'home');
    bigHome(home, 60);
    const small = tmpDir(t);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    if (!t.equal(mounted.status, 0, `mount a small tmpfs (${mounted.stderr.toString()})`)) return;
    t.teardown(() => void spawnSync('umount', [small]));
    mkdirSync(join(small, 'idx'));
    const index = join(small, 'idx', 'rollout-index.sqlite');
    const r = run('rollout-index', ['--index', index], { env: { CODEX_HOME: home } });
    t.equal(r.code, 1, 'a failure');
    t.match(r.err, /^rollout-index: error: .*(full|space)/im, `says the disk is full (${r.err.trim()})`);
    t.same(
      readdirSync(join(small, 'idx')).filter((n) => n.includes('.rebuild-')),
      [],
      'no scratch file, -wal or -shm left',
    );
  },
);

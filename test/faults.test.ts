// Faults while sessions are deleted, archived and compressed: SIGKILL at moments all through a
// run, a full disk, and runs of the same and of other binaries at once. Whatever happens, every
// session is afterwards there with the very same content, or was deleted on purpose, with a
// verified copy in the backup folder when one was asked for.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import t, { type Test } from 'tap';
import { bareLines, QUICK_START, REPO, run, tmpDir, writeRaw, writeSession } from './helpers/fixtures.js';
import { DAY } from './helpers/prune.js';
import { codexHome } from '../lib/home/paths.js';
import { Resolver } from '../lib/home/resolve.js';
import { openSource } from '../lib/core/source.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A home of old sessions of several forms and sizes (the big ones take a while to copy and compress). */
function home(t: Test): { dir: string; ids: string[] } {
  const dir = join(tmpDir(t), 'home');
  const old = new Date(Date.now() - 60 * DAY);
  const ids: string[] = [];
  const filler = 'z'.repeat(3000);
  for (let i = 0; i < 24; i++) {
    const turns = Array.from({ length: i % 4 === 0 ? 300 : 3 }, (_, k) => ({
      user: `session ${i} turn ${k}`,
      tool: { cmd: 'cat log', output: `${filler} ${i}.${k}` },
    }));
    const s = writeSession(
      dir,
      { start: new Date(old.getTime() - i * 3600_000), turns },
      { mtime: old, root: i % 5 === 0 ? 'archived_sessions' : 'sessions', zst: i % 6 === 0 ? 'only' : false },
    );
    ids.push(s.id);
  }
  const bare = '0196d3e4-0000-4000-8000-00000000000b';
  const p = writeRaw(dir, `sessions/rollout-2025-06-01T10-00-00-${bare}.jsonl`, bareLines('B', bare, ['old question', 'old answer']).join('\n') + '\n');
  utimesSync(p, old, old);
  ids.push(bare);
  return { dir, ids };
}

/** Each session's content, as every binary reads it (its current file, decompressed, wherever it lies). */
async function contents(dir: string, ids: string[]): Promise<Map<string, string | null>> {
  const resolver = new Resolver(codexHome(dir));
  const out = new Map<string, string | null>();
  for (const id of ids) {
    const file = await resolver.byId(id).catch(() => null);
    if (!file) {
      out.set(id, null);
      continue;
    }
    const hash = createHash('sha256');
    for await (const chunk of openSource(file.path)) hash.update(chunk);
    out.set(id, hash.digest('hex'));
  }
  return out;
}

/** Every file below `dir`, path -> sha256 of its content (decompressed when it is a .zst). */
function backups(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.endsWith('.tmp'))
        out.set(relative(dir, p), sha(p.endsWith('.zst') ? spawnSync('zstd', ['-dc', p], { maxBuffer: 1 << 30 }).stdout : readFileSync(p)));
    }
  };
  walk(dir);
  return out;
}

/** Nothing lost: each session is as it was, or gone with a whole copy in `backup` (when there is one). */
function nothingLost(t: Test, what: string, before: Map<string, string | null>, after: Map<string, string | null>, backup?: string) {
  const saved = backup ? new Set(backups(backup).values()) : null;
  for (const [id, was] of before) {
    const now = after.get(id);
    if (now === was) continue;
    if (now === null && saved) t.ok(saved.has(was!), `${what}: ${id} was deleted, and its backup is whole`);
    else if (now === null && !saved) t.pass(`${what}: ${id} was deleted on purpose`);
    else t.fail(`${what}: ${id} changed (${was} -> ${now})`);
  }
}

function temps(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (/\.rollout-\d+-[0-9a-f]{8}\.tmp$/.test(e.name)) out.push(join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

/** Runs a binary and SIGKILLs it after `ms` (if it is still running). */
function killedAfter(bin: string, args: string[], env: Record<string, string>, ms: number): Promise<void> {
  const child = spawn(process.execPath, [join(REPO, 'dist/cmd', `${bin}.js`), ...args], { env: { ...process.env, ...QUICK_START, ...env }, stdio: 'ignore' });
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) =>
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    }),
  );
}

function runAsync(bin: string, args: string[], env: Record<string, string>): Promise<number | null> {
  const child = spawn(process.execPath, [join(REPO, 'dist/cmd', `${bin}.js`), ...args], { env: { ...process.env, ...QUICK_START, ...env }, stdio: 'ignore' });
  return new Promise((resolve) => child.on('exit', resolve));
}

for (const [action, extra] of [
  ['compress', ['--compress']],
  ['archive', ['--archive']],
  ['delete with a backup', ['--backup', 'BACKUP']],
] as const) {
  t.test(`SIGKILL all through prune ${action}: nothing lost`, async (t) => {
    const h = home(t);
    const backup = join(tmpDir(t), 'bk');
    const env = { CODEX_HOME: h.dir, ROLLOUT_INDEX: '' };
    const args = ['--older-than', '30d', '--grace', '0', ...extra.map((a) => (a === 'BACKUP' ? backup : a))];
    const before = await contents(h.dir, h.ids);
    for (const ms of [100, 250, 400, 600, 850]) {
      await killedAfter('rollout-prune', args, env, ms);
      nothingLost(t, `killed after ${ms} ms`, before, await contents(h.dir, h.ids), action.includes('backup') ? backup : undefined);
    }
    const last = run('rollout-prune', args, { env });
    t.equal(last.code, 0, `a last run completes (${last.err})`);
    nothingLost(t, 'after the last run', before, await contents(h.dir, h.ids), action.includes('backup') ? backup : undefined);
    t.same([...temps(h.dir), ...temps(backup)], [], 'and no temp file is left');
  });
}

t.test('SIGKILL all through unbundle: every file whole or absent, and a last run completes the import', async (t) => {
  const a = home(t);
  const file = join(tmpDir(t), 'a.tar');
  const bundled = run('rollout-bundle', ['--include-archived', '-o', file], { env: { CODEX_HOME: a.dir, ROLLOUT_INDEX: '' } });
  t.equal(bundled.code, 0, bundled.err);
  const b = join(tmpDir(t), 'b');
  mkdirSync(b);
  const env = { CODEX_HOME: b, ROLLOUT_INDEX: '' };
  const wanted = backups(a.dir);
  const rollouts = (m: Map<string, string>) => [...m].filter(([p]) => /^(sessions|archived_sessions)\//.test(p));
  for (const ms of [100, 250, 400, 600, 850]) {
    await killedAfter('rollout-unbundle', [file], env, ms);
    for (const [path, digest] of rollouts(backups(b))) t.equal(digest, wanted.get(path), `killed after ${ms} ms: ${path} is whole`);
  }
  const last = run('rollout-unbundle', [file], { env });
  t.equal(last.code, 0, `a last run completes (${last.err})`);
  t.same(rollouts(backups(b)).sort(), rollouts(wanted).sort(), 'every file of the bundle is there, the same');
  t.same(temps(b), [], 'and no temp file is left');
});

t.test(
  'a full disk under the backup folder: only sessions whose copy is whole go',
  { skip: process.getuid?.() === 0 ? false : 'mounting a tmpfs needs root' },
  async (t) => {
    const h = home(t);
    const small = tmpDir(t);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', small]);
    if (!t.equal(mounted.status, 0, `mount a small tmpfs (${mounted.stderr.toString()})`)) return;
    t.teardown(() => void spawnSync('umount', [small]));
    const backup = join(small, 'bk');
    mkdirSync(backup);
    const env = { CODEX_HOME: h.dir, ROLLOUT_INDEX: '' };
    const before = await contents(h.dir, h.ids);
    const r = run('rollout-prune', ['--older-than', '30d', '--grace', '0', '--backup', backup], { env });
    t.equal(r.code, 1, 'some sessions failed');
    t.match(r.err, /no space left on device|ENOSPC/i, 'because the disk is full');
    const after = await contents(h.dir, h.ids);
    t.ok(
      [...after.values()].some((c) => c !== null),
      'the sessions whose copy failed are still there',
    );
    nothingLost(t, 'full backup disk', before, after, backup);
    t.same(temps(backup), [], 'no half copy left');
  },
);

t.test(
  'a full disk under the home: compression fails cleanly, every session stays as it was',
  { skip: process.getuid?.() === 0 ? false : 'mounting a tmpfs needs root' },
  async (t) => {
    const mountpoint = tmpDir(t);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', mountpoint]);
    if (!t.equal(mounted.status, 0, `mount a small tmpfs (${mounted.stderr.toString()})`)) return;
    t.teardown(() => void spawnSync('umount', [mountpoint]));
    const dir = join(mountpoint, 'home');
    const old = new Date(Date.now() - 60 * DAY);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++)
      ids.push(
        writeSession(
          dir,
          {
            start: new Date(old.getTime() - i * 60_000),
            turns: Array.from({ length: 200 }, (_, k) => ({
              user: `t${k} ${Math.random()}`,
              tool: { cmd: 'x', output: randomBytes(3000).toString('base64') },
            })),
          },
          { mtime: old },
        ).id,
      );
    const env = { CODEX_HOME: dir, ROLLOUT_INDEX: '' };
    // The index prune chooses by is made while there is room; a full disk under it is its own test.
    const built = run('rollout-index', [], { env });
    t.equal(built.code, 0, `the index is built (${built.err})`);
    // Leave a few hundred kilobytes free: less than the compressed copies of random text need.
    const free = Number(spawnSync('df', ['--output=avail', '-B1', mountpoint]).stdout.toString().split('\n')[1]);
    writeFileSync(join(mountpoint, 'filler'), Buffer.alloc(Math.max(0, free - 200 * 1024)));
    const before = await contents(dir, ids);
    const r = run('rollout-prune', ['--older-than', '30d', '--grace', '0', '--compress'], { env });
    t.match(r.err, /no space left on device|ENOSPC/i, `the disk filled (${r.err.trim().slice(0, 300)})`);
    nothingLost(t, 'full home disk', before, await contents(dir, ids));
    t.same(temps(dir), [], 'no half-made .zst left');
    // With no room even for the index, nothing is chosen and the message says what to do.
    rmSync(join(dir, 'rollout-index.sqlite'), { force: true });
    writeFileSync(join(mountpoint, 'filler2'), Buffer.alloc(Number(spawnSync('df', ['--output=avail', '-B1', mountpoint]).stdout.toString().split('\n')[1])));
    const full = run('rollout-prune', ['--older-than', '30d', '--grace', '0', '--compress'], { env });
    t.equal(full.code, 1, 'a full disk under the index is a failure');
    t.match(full.err, /index cannot be written: the disk is full \(free some space, or give --index/, full.err);
    nothingLost(t, 'no room for the index', before, await contents(dir, ids));
  },
);

t.test('runs at the same time, of the same binary and of others: nothing lost', async (t) => {
  const h = home(t);
  const backup = join(tmpDir(t), 'bk');
  const env = { CODEX_HOME: h.dir, ROLLOUT_INDEX: '' };
  const before = await contents(h.dir, h.ids);
  const codes = await Promise.all([
    runAsync('rollout-prune', ['--older-than', '30d', '--grace', '0', '--compress'], env),
    runAsync('rollout-prune', ['--older-than', '30d', '--grace', '0', '--compress'], env),
    runAsync('rollout-prune', ['--older-than', '30d', '--grace', '0', '--archive', '--backup', backup], env),
    runAsync('rollout-fsck', ['--repair', '--grace', '0'], env),
    runAsync('rollout-index', [], env),
    runAsync('rollout-ls', ['--json'], env),
  ]);
  t.ok(
    codes.every((c) => c === 0 || c === 1),
    `every run ended (${codes.join(', ')})`,
  );
  nothingLost(t, 'concurrent runs', before, await contents(h.dir, h.ids));
  const settle = run('rollout-prune', ['--older-than', '30d', '--grace', '0', '--compress'], { env });
  t.equal(settle.code, 0, settle.err);
  nothingLost(t, 'after a calm run', before, await contents(h.dir, h.ids));
  const fsck = run('rollout-fsck', [], { env });
  t.equal(fsck.code, 0, `and fsck finds nothing wrong (${fsck.out}${fsck.err})`);
});

t.test('a move stopped between its two steps (both names, one file) is finished by the next run', async (t) => {
  const home = join(tmpDir(t), 'home');
  const old = new Date(Date.now() - 60 * DAY);
  const s = writeSession(home, { start: old, turns: [{ user: 'half moved' }] }, { mtime: old });
  const archived = join(home, 'archived_sessions', s.path.split('/').pop()!);
  mkdirSync(join(home, 'archived_sessions'), { recursive: true });
  linkSync(s.path, archived);
  const r = run('rollout-prune', ['--older-than', '30d', '--grace', '0', '--archive'], { env: { CODEX_HOME: home, ROLLOUT_INDEX: '' } });
  t.equal(r.code, 0, r.err);
  t.notOk(existsSync(s.path), 'the old name is gone');
  t.ok(existsSync(archived), 'the new one stays');
  t.equal(run('rollout-fsck', [], { env: { CODEX_HOME: home } }).code, 0, 'no duplicate left');
});

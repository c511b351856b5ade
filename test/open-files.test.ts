// A file another process holds open is never replaced, moved or removed under it: a writer with
// the file open (O_APPEND), idle past --grace, would append its next line to an inode no name
// points at any more. And a file that changes while it is being copied, compressed or repaired is
// left as it was (compare and swap), whoever changed it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import t from 'tap';
import { ndjson, QUICK_START, REPO, run, tmpDir, writeSession } from './helpers/fixtures.js';
import { DAY } from './helpers/prune.js';

const LATE = '{"timestamp":"2026-12-01T00:00:00.000Z","type":"event_msg","payload":{"type":"agent_message","message":"written late"}}\n';

/** A process that opens `path` for appending, says so, and writes LATE when told to. */
async function writer(path: string): Promise<{ child: ChildProcess; write: () => Promise<void> }> {
  const script = `const fs = require('fs'); const fd = fs.openSync(process.argv[1], 'a');
    process.stdout.write('ready\\n');
    process.stdin.once('data', () => { fs.writeSync(fd, ${JSON.stringify(LATE)}); process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', script, path], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  return {
    child,
    write: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.write('go\n');
      }),
  };
}

const old = new Date(Date.now() - 40 * DAY);
const env = (home: string) => ({ env: { CODEX_HOME: home, ROLLOUT_INDEX: '' } });

const ACTIONS: Array<[string, string, string[]]> = [
  ['fsck --repair', 'rollout-fsck', ['--repair', '--grace', '0']],
  ['prune --compress', 'rollout-prune', ['--older-than', '30d', '--grace', '0', '--compress']],
  ['prune --archive', 'rollout-prune', ['--older-than', '30d', '--grace', '0', '--archive']],
  ['prune (delete)', 'rollout-prune', ['--older-than', '30d', '--grace', '0']],
  ['slim', 'rollout-slim', ['--grace', '0']],
];

for (const [label, bin, args] of ACTIONS) {
  t.test(`${label}: a file held open by another process is skipped, and its late line lands`, async (t) => {
    const home = join(tmpDir(t), 'home');
    const s = writeSession(home, { start: new Date(old.getTime() - 60_000), turns: [{ user: 'held open' }] }, { mtime: old });
    // A torn last line, so that fsck --repair has something to do.
    writeFileSync(s.path, Buffer.concat([readFileSync(s.path), Buffer.from('{"timestamp":"2026-')]));
    utimesSync(s.path, old, old);
    const w = await writer(s.path);
    t.teardown(() => void w.child.kill());
    utimesSync(s.path, old, old);
    const before = readFileSync(s.path);

    const r = run(bin, args, env(home));
    const skip = ndjson(r.out).find((l) => l.action === 'skip');
    t.ok(skip, `${label} skipped it (${r.out}${r.err})`);
    t.match(skip?.reason, new RegExp(`^open by pid ${w.child.pid} \\(node\\)$`), 'naming who holds it');
    t.same(readFileSync(s.path), before, 'the file is as it was');

    await w.write();
    t.ok(readFileSync(s.path).toString().endsWith(LATE), 'the late line is in the file every binary reads');
    const cat = run('rollout-cat', [s.id], env(home));
    t.ok(cat.out.endsWith(LATE), 'and rollout-cat shows it');
  });
}

/** Big enough that copying, compressing or repairing it takes a while. */
function bigSession(home: string) {
  const line = JSON.stringify({ timestamp: '2026-10-01T00:00:00.000Z', type: 'event_msg', payload: { type: 'agent_message', message: 'x'.repeat(4000) } });
  const s = writeSession(home, { start: new Date(old.getTime() - 60_000), turns: [{ user: 'big' }] });
  // A picture among them, so that rollout-slim has something to take out.
  const image = JSON.stringify({
    timestamp: '2026-10-01T00:00:00.000Z',
    type: 'response_item',
    payload: { type: 'message', role: 'user', content: [{ type: 'input_image', image_url: `data:image/png;base64,${'iVBORw0KGgo'.padEnd(40_000, 'A')}` }] },
  });
  const body = Buffer.from([image, ...Array.from({ length: 40_000 }, () => line)].join('\n') + '\n');
  writeFileSync(s.path, Buffer.concat([readFileSync(s.path), body, Buffer.from('{"timestamp":"2026-')]));
  utimesSync(s.path, old, old);
  return s;
}

/** Runs a binary; appends LATE to `path` (open, write, close: no process holds it) once a temp file of ours shows up in `dir`. */
async function appendMidway(bin: string, args: string[], home: string, path: string, dir: string): Promise<{ out: string; err: string; appended: boolean }> {
  const child = spawn(process.execPath, [join(REPO, 'dist/cmd', `${bin}.js`), ...args], {
    env: { ...process.env, ...QUICK_START, CODEX_HOME: home, ROLLOUT_INDEX: '', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  let appended = false;
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  for (let done = false; !done;) {
    const temp = existsSync(dir) && readdirSync(dir).some((n) => n.includes('.rollout-') && n.endsWith('.tmp'));
    if (temp && !appended) {
      writeFileSync(path, LATE, { flag: 'a' });
      appended = true;
    }
    done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2))]);
  }
  return { out, err, appended };
}

t.test('compare and swap: a file that grows while it is compressed, repaired or backed up stays, with its new line', async (t) => {
  for (const [label, bin, args, dirOf] of [
    ['prune --compress', 'rollout-prune', ['--older-than', '30d', '--grace', '0', '--compress'], (p: string) => dirname(p)],
    ['fsck --repair', 'rollout-fsck', ['--repair', '--grace', '0'], (p: string) => dirname(p)],
    ['slim', 'rollout-slim', ['--grace', '0'], (p: string) => dirname(p)],
    [
      'prune --backup (delete)',
      'rollout-prune',
      ['--older-than', '30d', '--grace', '0', '--backup', 'BACKUP'],
      (p: string, home: string) => dirname(join(home, '..', 'bk', p.slice(home.length + 1))),
    ],
  ] as const) {
    const home = join(tmpDir(t), 'home');
    const s = bigSession(home);
    const r = await appendMidway(
      bin,
      args.map((a) => (a === 'BACKUP' ? join(home, '..', 'bk') : a)),
      home,
      s.path,
      dirOf(s.path, home),
    );
    t.ok(r.appended, `${label}: the line was appended while the work was under way`);
    t.match(r.err, /changed while it was being \w+; left as it was/, `${label}: says it left the file alone`);
    t.ok(existsSync(s.path), `${label}: the plain file is still there`);
    t.ok(readFileSync(s.path).toString().endsWith(LATE), `${label}: with the late line`);
    t.notOk(existsSync(`${s.path}.zst`), `${label}: and no compressed copy beside it`);
    t.notOk(
      readdirSync(dirname(s.path)).some((n) => n.endsWith('.tmp')),
      `${label}: no temp file left behind`,
    );
  }
});

// Waiting for a lock as long as asked, and writers of Codex's files taking turns: two rollout-name
// runs racing on session_index.jsonl, or one racing with a writer that takes no lock (as Codex
// appends), lose nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ndjson, QUICK_START, REPO, run, tmpDir, writeSession } from './helpers/fixtures.js';

const require = createRequire(import.meta.url);

/** A process holding the index's writer lock (an exclusive SQLite transaction) for `ms`; resolves once it holds it. */
async function holdIndexLock(index: string, ms: number): Promise<ChildProcess> {
  const script = `const Db = require(${JSON.stringify(require.resolve('better-sqlite3'))});
    const db = new Db(process.argv[1] + '.lock'); db.pragma('journal_mode = DELETE'); db.exec('BEGIN EXCLUSIVE');
    process.stdout.write('held\\n'); setTimeout(() => { db.exec('ROLLBACK'); db.close(); }, ${ms});`;
  const child = spawn(process.execPath, ['-e', script, index], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  return child;
}

t.test('rollout-index --wait waits as long as it is told, past SQLite’s own 5 seconds', async (t) => {
  const home = tmpDir(t);
  writeSession(home, { turns: [{ user: 'hello' }] });
  const index = join(home, 'rollout-index.sqlite');
  await holdIndexLock(index, 6500);
  const r = await runAsync('rollout-index', ['--wait', '30'], { CODEX_HOME: home, ROLLOUT_INDEX: '' });
  t.equal(r.code, 0, `it waited for the lock, then indexed (${r.err})`);
  t.equal(ndjson(r.out)[0].added, 1);

  writeSession(home, { turns: [{ user: 'another' }] });
  // Held far longer than the wait, so that a slow start on a busy machine still finds it held.
  const holder = await holdIndexLock(index, 30_000);
  t.teardown(() => void holder.kill());
  const short = await runAsync('rollout-index', ['--wait', '1'], { CODEX_HOME: home, ROLLOUT_INDEX: '' });
  t.equal(short.code, 1, 'a shorter wait gives up');
  t.match(short.err, /^rollout-index: error: another rollout-index run holds .*; try again, or give --wait more seconds/);
});

function runAsync(bin: string, args: string[], env: Record<string, string>, input = ''): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [join(REPO, 'dist/cmd', `${bin}.js`), ...args], { env: { ...process.env, ...QUICK_START, ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}

const nameOf = (home: string, id: string) => ndjson(run('rollout-name', [id], { env: { CODEX_HOME: home } }).out)[0].name;

t.test('naming one session while clearing another, at the same moment, loses no name', async (t) => {
  const home = tmpDir(t);
  const a = writeSession(home, { turns: [{ user: 'a' }] });
  const b = writeSession(home, { turns: [{ user: 'b' }] });
  const env = { CODEX_HOME: home };
  for (let i = 0; i < 6; i++) {
    run('rollout-name', [b.id, `b ${i}`], { env });
    const [set, clear] = await Promise.all([runAsync('rollout-name', [a.id, `a ${i}`], env), runAsync('rollout-name', ['--clear', b.id], env)]);
    t.equal(set.code, 0, set.err);
    t.equal(clear.code, 0, clear.err);
    t.equal(nameOf(home, a.id), `a ${i}`, `round ${i}: the name just set is there`);
    t.equal(nameOf(home, b.id), null, `round ${i}: the name just cleared is gone`);
  }
});

t.test('--clear racing with a writer that takes no lock (as Codex appends): every appended entry survives', async (t) => {
  const home = tmpDir(t);
  const gone = writeSession(home, { turns: [{ user: 'gone' }] });
  const index = join(home, 'session_index.jsonl');
  const entry = (id: string, name: string) => JSON.stringify({ id, thread_name: name, updated_at: '2026-12-01T00:00:00Z' }) + '\n';
  writeFileSync(index, entry(gone.id, 'to clear'));
  // An appender in a tight loop for a while, as a busy Codex naming threads.
  const appender = spawn(
    process.execPath,
    [
      '-e',
      `const fs = require('fs'); const end = Date.now() + 3000; let n = 0; const pause = new Int32Array(new SharedArrayBuffer(4));
    while (Date.now() < end) { fs.appendFileSync(process.argv[1], JSON.stringify({ id: 'appended-' + n++, thread_name: 'x', updated_at: 'now' }) + '\\n'); Atomics.wait(pause, 0, 0, 2); }
    process.stdout.write(String(n));`,
      index,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let appended = '';
  appender.stdout.on('data', (b) => (appended += b));
  const exited = new Promise((resolve) => appender.on('exit', resolve));
  for (let i = 0; i < 5; i++) {
    appendFileSync(index, entry(gone.id, `again ${i}`));
    const r = await runAsync('rollout-name', ['--clear', gone.id], { CODEX_HOME: home });
    t.equal(r.code, 0, r.err);
  }
  await exited;
  const ids = new Set(
    readFileSync(index, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).id),
  );
  const n = Number(appended);
  t.ok(n > 0, `the appender wrote ${n} entries`);
  const missing = Array.from({ length: n }, (_, k) => `appended-${k}`).filter((id) => !ids.has(id));
  t.same(missing, [], 'not one of them was lost');
  t.notOk(ids.has(gone.id), 'and the cleared session has no entry left');
});

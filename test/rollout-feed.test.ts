// rollout-feed as a subprocess: a home fed while it grows gives exactly the records of one read of
// the whole, which add up to what the generator wrote; the checkpoint moves only after a good run
// (a reader gone, a kill, a held run never acknowledged all send the same records again), and is
// one run's at a time; compression and archiving send nothing again; a rewritten file goes on by
// line; --follow shows a tool call as its line is written; --kinds, --host and --redact.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { generateHome, type HomeManifest } from '../bench/gen-home.js';
import { ndjson, QUICK_START, REPO, run, tmpDir, writeSession } from './helpers/fixtures.js';
import { expectedFigures, feed, figuresOf, GrowingHome, latest, recordValidator } from './helpers/feed.js';

const MB = 1 << 20;
const BIN = join(REPO, 'dist/cmd/rollout-feed.js');

/** Waits (10 s at most) until `what` holds. */
async function until(what: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 50));
}

function generated(t: { teardown(fn: () => void): void }, seed: number): { home: string; manifest: HomeManifest } {
  const home = join(tmpDir(t, 'rollout-feed-'), 'home');
  const manifest = generateHome({ dir: home, sessions: 40, bytes: 12 * MB, maxSession: 2 * MB, seed });
  return { home, manifest };
}

t.test('a home fed while it grows gives the records of one read of the whole, which add up to what was written', (t) => {
  const { home, manifest } = generated(t, 7);
  const whole = feed(home, ['--host', 'h1']);
  const ck = join(home, '..', 'feed.ck');
  const growing = new GrowingHome(home);
  const sent: any[] = [];
  for (const step of [0.15, 0.4, 0.65, 0.9, 1]) {
    growing.grow(step);
    sent.push(...feed(home, ['--host', 'h1', '--checkpoint', ck]));
  }
  t.same(feed(home, ['--host', 'h1', '--checkpoint', ck]), [], 'nothing is left once the home is read to its end');

  const once = latest(whole);
  t.equal(once.size, whole.length, 'one read writes each record once');
  const grown = latest(sent);
  t.same([...grown.keys()].sort(), [...once.keys()].sort(), 'the same record ids');
  const differ = [...once].filter(([id, r]) => r.kind !== 'session' && JSON.stringify(grown.get(id)) !== JSON.stringify(r));
  t.same(differ, [], 'each record, as last written, as one read of the whole writes it');
  t.ok(sent.length > whole.length, `some records were written again, completed (${sent.length} against ${whole.length})`);

  t.same(figuresOf(grown.values()), expectedFigures(['h1'], [manifest]), 'tool calls by day, failed commands and tokens by model are what the generator wrote');
  const validator = recordValidator();
  const bad = whole.map((r) => validator.check(r)).filter((e) => e !== null);
  t.same(bad.slice(0, 3), [], 'every record is valid against --schema json');
  t.end();
});

t.test('the checkpoint moves only after a good run', async (t) => {
  const { home } = generated(t, 11);
  const ck = join(home, '..', 'feed.ck');
  const all = feed(home).length;

  const head = spawnSync(
    'bash',
    ['-c', `"${process.execPath}" "${BIN}" --codex-home "${home}" --checkpoint "${ck}" | head -c 1000 > /dev/null; echo "\${PIPESTATUS[0]}"`],
    {
      env: { ...process.env, ...QUICK_START },
    },
  );
  t.equal(head.stdout.toString().trim(), '0', 'a reader that goes away ends the run quietly');
  t.equal(feed(home, ['--checkpoint', ck, '--kinds', 'session']).length > 0, true, 'and the next run sends from where the checkpoint was');

  const fresh = join(home, '..', 'fresh.ck');
  // A run killed while its reader is slow (its stdout not read: it blocks once the pipe is full).
  const killed = spawn(process.execPath, [BIN, '--codex-home', home, '--checkpoint', fresh], {
    env: { ...process.env, ...QUICK_START },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise((r) => setTimeout(r, 1500));
  killed.kill('SIGKILL');
  await new Promise((r) => killed.once('close', r));
  t.equal(feed(home, ['--checkpoint', fresh]).length, all, 'after a killed run, the next sends every record');

  const held = join(home, '..', 'held.ck');
  t.equal(feed(home, ['--checkpoint', held, '--hold']).length, all, 'a held run sends every record');
  t.equal(feed(home, ['--checkpoint', held, '--hold']).length, all, 'and, never acknowledged, so does the next');
  const ack = run('rollout-feed', ['--codex-home', home, '--checkpoint', held, '--ack']);
  t.equal(ack.code, 0);
  t.match(ack.err, /progress acknowledged/);
  t.same(feed(home, ['--checkpoint', held]), [], 'once acknowledged, nothing is sent again');

  // One run at a time: a second one stops at once rather than send the same records alongside.
  const busy = join(home, '..', 'busy.ck');
  const first = spawn(process.execPath, [BIN, '--codex-home', home, '--checkpoint', busy], {
    env: { ...process.env, ...QUICK_START },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise((r) => setTimeout(r, 1500));
  const second = run('rollout-feed', ['--codex-home', home, '--checkpoint', busy]);
  t.equal(second.code, 1);
  t.match(second.err, /another rollout-feed is using this checkpoint/);
  t.equal(second.out, '', 'and writes nothing');
  first.kill('SIGKILL');
  await new Promise((r) => first.once('close', r));
});

t.test('compression and archiving send nothing again', (t) => {
  const home = tmpDir(t);
  const old = new Date('2026-10-01T10:00:00Z');
  const sessions = [0, 1].map((i) => writeSession(home, { start: new Date(old.getTime() + i * 60_000), turns: [{ user: `turn ${i}`, assistant: 'done' }] }));
  for (const s of sessions) utimesSync(s.path, old, old);
  const ck = join(home, 'feed.ck');
  const first = feed(home, ['--checkpoint', ck]);
  t.ok(sessions.every((s) => first.some((r) => r.session === s.id)));
  for (const action of ['--compress', '--archive']) {
    const prune = run('rollout-prune', ['--codex-home', home, '--older-than', '1d', action, '--grace', '0s']);
    t.equal(prune.code, 0, prune.err);
  }
  t.equal(readdirSync(join(home, 'archived_sessions')).filter((n) => n.endsWith('.jsonl.zst')).length, 2, 'both compressed and archived');
  t.same(feed(home, ['--checkpoint', ck]), [], 'nothing is sent again');
  t.end();
});

t.test('a file rewritten shorter (as rollout-slim does) goes on from the same line', (t) => {
  const home = tmpDir(t);
  const s = writeSession(home, { turns: [{ user: 'first', assistant: 'one' }] });
  const ck = join(home, 'feed.ck');
  feed(home, ['--checkpoint', ck]);
  writeFileSync(s.path, readFileSync(s.path, 'utf8').replace('"first"', '"1st"'));
  appendFileSync(
    s.path,
    `{"timestamp":"${new Date().toISOString()}","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"later"}]}}\n`,
  );
  const r = run('rollout-feed', ['--codex-home', home, '--checkpoint', ck]);
  t.equal(r.code, 0);
  t.match(r.err, /rewritten since rollout-feed last read it; going on from line/);
  const texts = ndjson(r.out)
    .filter((x) => x.kind === 'message')
    .map((x) => x.text);
  t.same(texts, ['later'], 'only the new line is sent');
  t.end();
});

t.test('--follow writes a tool call as its line is written, and again with its output', async (t) => {
  const home = tmpDir(t);
  const s = writeSession(home, { start: new Date(Date.now() - 60_000), turns: [{ user: 'go', assistant: 'ok' }] });
  const ck = join(home, 'feed.ck');
  feed(home, ['--checkpoint', ck]);
  const child = spawn(process.execPath, [BIN, '--codex-home', home, '--checkpoint', ck, '--follow', '--kinds', 'tool_call'], {
    env: { ...process.env, ...QUICK_START },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const now = () => new Date().toISOString();
  await new Promise((r) => setTimeout(r, 700));
  appendFileSync(
    s.path,
    `{"timestamp":"${now()}","type":"response_item","payload":{"type":"function_call","name":"exec_command","arguments":"{\\"cmd\\":\\"sleep 5\\"}","call_id":"call_live"}}\n`,
  );
  await until(() => out.includes('call_live'));
  const started = ndjson(out);
  t.equal(started.length, 1, 'the call, as soon as it is written');
  t.equal(started[0].command, 'sleep 5');
  t.equal(started[0].output, null, 'without its output yet');
  appendFileSync(
    s.path,
    `{"timestamp":"${now()}","type":"response_item","payload":{"type":"function_call_output","call_id":"call_live","output":"Process exited with code 0\\nOutput:\\n"}}\n`,
  );
  await until(() => ndjson(out).length > 1);
  const done = ndjson(out);
  t.equal(done.length, 2);
  t.equal(done[1].record_id, done[0].record_id, 'again, same id');
  t.equal(done[1].exit_code, 0, 'with its outcome');
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.once('close', r));
  t.equal(code, 0, 'a stopped follow exits 0');
  t.same(feed(home, ['--checkpoint', ck]), [], 'what it wrote is in the checkpoint');
});

t.test('--follow without a checkpoint sends each record once, then only what is new', async (t) => {
  const home = tmpDir(t);
  const s = writeSession(home, { start: new Date(Date.now() - 60_000), turns: [{ user: 'first', assistant: 'one' }] });
  const child = spawn(process.execPath, [BIN, '--codex-home', home, '--follow', '--kinds', 'message'], {
    env: { ...process.env, ...QUICK_START },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await until(() => ndjson(out).length >= 2);
  await new Promise((r) => setTimeout(r, 1200));
  t.same(
    ndjson(out).map((r) => r.text),
    ['first', 'one'],
    'the session once, however many looks',
  );
  appendFileSync(
    s.path,
    `{"timestamp":"${new Date().toISOString()}","type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"second"}]}}\n`,
  );
  await until(() => ndjson(out).length >= 3);
  t.same(
    ndjson(out).map((r) => r.text),
    ['first', 'one', 'second'],
    'then the new line alone',
  );
  child.kill('SIGINT');
  t.equal(await new Promise((r) => child.once('close', r)), 0);
});

t.test('--kinds, --host and --redact', (t) => {
  const home = tmpDir(t);
  writeSession(home, {
    turns: [
      { user: 'deploy with OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD', assistant: 'done', tool: { cmd: 'make deploy', output: 'ok' } },
    ],
  });
  const calls = feed(home, ['--kinds', 'tool_call', '--host', 'build-7']);
  t.ok(calls.length > 0 && calls.every((r) => r.kind === 'tool_call' && r.host === 'build-7'));
  const secret = feed(home, ['--redact', '--kinds', 'message'])
    .map((r) => r.text)
    .join('\n');
  t.notMatch(secret, /sk-proj-abcdefghij/, 'the key is masked');
  t.match(
    feed(home, ['--kinds', 'message'])
      .map((r) => r.text)
      .join('\n'),
    /sk-proj-abcdefghij/,
    'and there without --redact',
  );
  t.end();
});

t.test('--all, --reasoning, --max-output, the selection filters and --index', (t) => {
  const home = join(tmpDir(t), 'home');
  cpSync(join(REPO, 'test/fixtures/homes/basic'), home, { recursive: true });
  const count = (records: any[], kind: string) => records.filter((r) => r.kind === kind).length;
  const plain = feed(home);
  const all = feed(home, ['--all']);
  t.ok(count(all, 'message') > count(plain, 'message'), 'injected context and developer messages with --all');
  t.ok(all.some((r) => r.kind === 'message' && r.context) && !plain.some((r) => r.kind === 'message' && r.context));
  t.equal(count(plain, 'reasoning'), 0, 'no reasoning without --reasoning');
  t.ok(count(feed(home, ['--reasoning']), 'reasoning') > 0, 'reasoning summaries with it');
  const cut = feed(home, ['--max-output', '3', '--kinds', 'tool_call']);
  t.ok(cut.length > 0 && cut.every((r) => r.output === null || (r.output.length <= 3 && r.omitted_chars > 0)), 'outputs cut, what was left out counted');
  const shop = feed(home, ['--cwd', '/home/ana/src/shop', '--kinds', 'session']);
  t.ok(shop.length > 0 && shop.every((r) => r.cwd === '/home/ana/src/shop'), '--cwd chooses as everywhere');
  t.ok(
    feed(home, ['--active', '--kinds', 'session']).every((r) => !r.archived),
    '--active leaves the archived out',
  );
  t.ok(
    plain.some((r) => r.kind === 'session' && r.archived),
    'both roots by default',
  );
  const index = join(home, '..', 'elsewhere.sqlite');
  t.equal(feed(home, ['--index', index]).length, plain.length, 'the same records through another index');
  t.ok(existsSync(index), 'made where --index says');
  t.end();
});

t.test('a broken .zst: an error naming it, exit 1, the other sessions fed, and that one tried again', (t) => {
  const home = join(tmpDir(t), 'home');
  cpSync(join(REPO, 'test/fixtures/homes/basic'), home, { recursive: true });
  const zst = join(
    home,
    'sessions/2026/08/10',
    readdirSync(join(home, 'sessions/2026/08/10')).find((n) => n.endsWith('.zst'))!,
  );
  writeFileSync(zst, readFileSync(zst).subarray(0, 200));
  const ck = join(home, '..', 'feed.ck');
  const first = run('rollout-feed', ['--codex-home', home, '--checkpoint', ck]);
  t.equal(first.code, 1);
  t.match(first.err, /^rollout-feed: error: .*\.jsonl\.zst: corrupt zstd data/m);
  t.ok(ndjson(first.out).filter((r) => r.kind === 'session').length >= 10, 'the other sessions are fed');
  const again = run('rollout-feed', ['--codex-home', home, '--checkpoint', ck]);
  t.equal(again.code, 1, 'its progress was not saved: the next run tries it again');
  t.match(again.err, /corrupt zstd data/);
  t.same(ndjson(again.out), [], 'and sends nothing the first run sent');
  t.end();
});

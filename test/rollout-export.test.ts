// rollout-export as a user runs it: every format on every generation (and on real Codex 0.169 files),
// validated against the schemas it prints; the effective history (rollbacks, forks, --turns);
// redaction in every format; files and directories; stdin and --batch; hostile HTML opened in a
// real browser; and a large session exported under a small heap.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { buildZoo, validators } from './helpers/export.js';
import { ndjson, REPO, run, sessionLines, tmpDir, writeRaw, writeSession, zstd } from './helpers/fixtures.js';

const FORMATS = ['md', 'html', 'json', 'ndjson', 'csv'] as const;
/** The formats checkData does not already run. */
const READABLE = ['md', 'html', 'csv'] as const;
// Some 150 real subprocesses, a browser and a 150 MB session: more than the default two minutes.
t.setTimeout(600_000);
const home = tmpDir(t, 'rollout-export-');
const zoo = buildZoo(home);
const exp = (args: string[], opts: { input?: Buffer | string; home?: string } = {}) =>
  run('rollout-export', args, { input: opts.input, env: { CODEX_HOME: opts.home ?? home } });

const schema = exp(['--schema']);
const lineSchema = exp(['--schema', 'ndjson']);
const v = validators(JSON.parse(schema.out), JSON.parse(lineSchema.out));

function checkData(t: Test, id: string, h = home) {
  const doc = exp(['-f', 'json', id, '--all', '--reasoning'], { home: h });
  t.equal(doc.code, 0, `json exits 0 (${doc.err})`);
  const parsed = JSON.parse(doc.out);
  t.ok(v.document(parsed), `json document valid: ${v.errors(v.document)}`);
  const lines = exp(['-f', 'ndjson', id, '--all', '--reasoning'], { home: h });
  t.equal(lines.code, 0);
  const rows = ndjson(lines.out);
  for (const row of rows) if (!v.line(row)) t.fail(`ndjson line invalid: ${v.errors(v.line)}: ${JSON.stringify(row).slice(0, 300)}`);
  t.ok(
    rows.every((r) => r.session === parsed.session.session),
    'every line carries the session id',
  );
  t.same(rows.slice(1), parsed.items, 'ndjson and json carry the same items');
  return parsed;
}

t.test('--schema prints draft 2020-12 schemas that a strict validator compiles', async (t) => {
  t.equal(schema.code, 0);
  t.equal(JSON.parse(schema.out).$schema, 'https://json-schema.org/draft/2020-12/schema');
  t.equal(JSON.parse(lineSchema.out).$schema, 'https://json-schema.org/draft/2020-12/schema');
  t.equal(exp(['--schema', 'yaml']).code, 2);
});

t.test('every generation exports in every format, and the data validates', async (t) => {
  const said: Record<string, string> = {
    [zoo.legacy]: 'Why does the cart test fail?',
    [zoo.paginated]: 'List the files',
    [zoo.fork]: 'A turn of the fork',
    [zoo.genA]: 'Hello from generation A',
    [zoo.genB]: 'Hello from generation B',
    [zoo.genC]: 'Hello from generation C',
    [zoo.gen0]: 'Hello from generation 0',
  };
  for (const id of zoo.all) {
    for (const f of READABLE) {
      const r = exp(['-f', f, id]);
      t.equal(r.code, 0, `${id} ${f}: exit 0 (${r.err})`);
      t.equal(r.err, '', `${id} ${f}: no warnings`);
      if (f === 'csv') t.match(r.out, /^session,time,turn,tool,command,exit_code,duration_ms,cwd,call_id\r\n/);
      else t.ok(r.out.includes(said[id]), `${id} ${f}: the user's words are there`);
    }
    const doc = checkData(t, id);
    t.equal(doc.session.session, id);
    t.ok(
      doc.items.some((i: any) => i.kind === 'message' && i.role === 'assistant'),
      `${id}: an assistant message`,
    );
  }
});

t.test('rollbacks are applied, compactions shown, turns renumbered', async (t) => {
  const doc = checkData(t, zoo.legacy);
  t.equal(doc.session.turns, 2);
  t.equal(doc.session.rolled_back_turns, 1);
  t.equal(doc.session.compactions, 1);
  t.same(doc.session.git, { branch: 'feature/cart', commit: '4be1c0e9d2f7a6b3c8e1f0a9b7c6d5e4f3a2b1c0', repository: 'git@example.com:ana/shop.git' });
  t.same(
    doc.items.filter((i: any) => i.kind === 'turn').map((i: any) => i.turn),
    [1, 2],
  );
  for (const f of FORMATS) t.notOk(exp(['-f', f, zoo.legacy]).out.includes('rm -rf src'), `${f}: the rolled-back turn is gone`);
  const compaction = doc.items.find((i: any) => i.kind === 'compaction');
  t.match(compaction, { turn: 1, summary: 'Summary: the cart test expects cents.', replaced_by: 1 });
  const user = doc.items.filter((i: any) => i.kind === 'message' && i.role === 'user' && !i.context);
  t.same(
    user.map((i: any) => i.turn),
    [1, 2],
    'what was said before the compaction is still in the transcript',
  );
  const md = exp([zoo.legacy]).out;
  t.match(md, /^# Why does the cart test fail\?\n/);
  t.match(md, /- \*\*Turns:\*\* 2, 1 rolled back/);
  t.match(md, /## Turn 2 /);
});

t.test('a fork shows the turns it inherits, and only those', async (t) => {
  const doc = checkData(t, zoo.fork);
  t.equal(doc.session.turns, 2);
  t.equal(doc.session.inherited_turns, 1);
  t.equal(doc.session.forked_from, zoo.paginated);
  const texts = doc.items.filter((i: any) => i.kind === 'message' && !i.context).map((i: any) => i.text);
  t.same(texts, ['List the files', 'Two files.', 'A turn of the fork', 'Fork answer.']);
  t.same(
    doc.items.filter((i: any) => i.kind === 'turn').map((i: any) => i.inherited),
    [true, false],
  );
  const tool = doc.items.find((i: any) => i.kind === 'tool_call');
  t.match(tool, { tool: 'exec_command', command: 'ls -1', exit_code: 0, output: /README\.md/ });
});

t.test('--turns picks turns; context and reasoning only when asked', async (t) => {
  const turnsOf = (args: string[]) => [
    ...new Set(
      ndjson(exp(['-f', 'ndjson', zoo.legacy, ...args]).out)
        .slice(1)
        .map((i) => i.turn),
    ),
  ];
  t.same(turnsOf(['--turns', '2']), [2]);
  t.same(turnsOf(['--turns=-1']), [2]);
  t.same(turnsOf(['--turns', '1..1']), [1]);
  t.same(turnsOf(['--turns', '..-2']), [1]);
  t.same(turnsOf(['--turns', '1..']), [1, 2]);
  t.same(turnsOf(['--turns', '-1']), [2], 'a negative number needs no =');
  const beyond = exp([zoo.legacy, '--turns', '5..']);
  t.equal(beyond.code, 1, 'a turn the session does not have is an error, not an empty transcript');
  t.match(beyond.err, "--turns 5.. keeps none of the session's 2 turns");
  t.equal(beyond.out, '');
  for (const bad of ['0', 'a..b', '1..2..3', '', '2..1']) t.equal(exp([zoo.legacy, '--turns', bad]).code, 2, `--turns '${bad}' is a usage error`);

  const plain = ndjson(exp(['-f', 'ndjson', zoo.legacy]).out);
  t.notOk(
    plain.some((i) => i.context),
    'no injected context by default',
  );
  t.notOk(
    plain.some((i) => i.kind === 'reasoning'),
    'no reasoning by default',
  );
  const all = ndjson(exp(['-f', 'ndjson', zoo.legacy, '--all', '--reasoning']).out);
  t.ok(
    all.some((i) => i.kind === 'message' && i.role === 'developer' && i.context),
    '--all: developer message',
  );
  t.ok(
    all.some((i) => i.kind === 'message' && i.role === 'user' && i.context && /environment_context/.test(i.text)),
    '--all: environment context',
  );
  t.ok(
    all.some((i) => i.kind === 'reasoning' && i.text === '**Running npm test -- cart**'),
    '--reasoning',
  );
  t.notOk(exp([zoo.legacy]).out.includes('<environment_context>'), 'md leaves context out');
});

t.test('--max-output truncates tool output and says how much', async (t) => {
  const rows = ndjson(exp(['-f', 'ndjson', zoo.legacy, '--max-output', '5']).out);
  const call = rows.find((i) => i.kind === 'tool_call');
  t.equal(call.output.length, 5);
  t.ok(call.omitted_chars > 0);
  const full = ndjson(exp(['-f', 'ndjson', zoo.legacy]).out).find((i) => i.kind === 'tool_call');
  t.equal(full.omitted_chars, 0, 'data formats keep all output by default');
  t.equal(full.output.length, call.output.length + call.omitted_chars);
  t.match(exp([zoo.legacy, '--max-output', '5']).out, /more characters left out/);
  t.equal(exp([zoo.legacy, '--max-output', 'x']).code, 2);
});

t.test('--redact masks secrets in every format', async (t) => {
  const h = tmpDir(t);
  const key = 'sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6';
  const pw = 'Tr0ub4dor&3x';
  const s = writeSession(h, {
    turns: [
      {
        user: `My key is ${key}, use it`,
        tool: { cmd: `DB_PASSWORD=${pw} ./migrate --token ${key}`, output: `connected with ${key}` },
        assistant: `I used ${key}.`,
      },
    ],
  });
  for (const f of FORMATS) {
    const plain = exp(['-f', f, s.id], { home: h }).out;
    t.ok(plain.includes(key), `${f}: the key is there without --redact`);
    const masked = exp(['-f', f, s.id, '--redact'], { home: h });
    t.equal(masked.code, 0);
    t.notOk(masked.out.includes(key), `${f}: the key is masked`);
    t.notOk(masked.out.includes(pw.replace('&', f === 'html' ? '&amp;' : '&')), `${f}: the password is masked`);
    t.match(masked.out, /REDACTED/, `${f}: visibly`);
  }
  const title = JSON.parse(exp(['-f', 'json', s.id, '--redact'], { home: h }).out).session.title;
  t.notOk(title.includes(key), 'the title is masked too');
});

t.test('--redact reaches every string: session facts, the name, tool arguments, errors, CSV cells', async (t) => {
  const h = tmpDir(t);
  // One secret of each kind the outside review found missed, each in a different field.
  const secrets = {
    origin: 'hunter2pass',
    emptyUser: 's3cretPw9x',
    mysql: 'MyS3cretPass',
    pg: 'PgS3cretPass',
    azure: 'Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==',
    twilio: 'SK0123456789abcdef0123456789abcdef',
    sendgrid: 'SG.abcdefghijklmnopqrstuv.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg',
    discord: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-ab',
    aws: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    name: 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8',
  };
  const s = writeSession(h, {
    git: { commit_hash: 'abc123', branch: 'main', repository_url: `https://ana:${secrets.origin}@github.com/ana/shop.git` },
    turns: [
      {
        user: `Connect to https://:${secrets.emptyUser}@db.example.com please`,
        tool: { cmd: `mysql -uroot -p${secrets.mysql} app`, output: `PGPASSWORD=${secrets.pg} psql ok` },
      },
      {
        user: 'now the storage',
        tool: {
          cmd: `az storage blob list --connection-string 'AccountName=a;AccountKey=${secrets.azure};EndpointSuffix=core.windows.net'`,
          output: `twilio ${secrets.twilio}\nsendgrid ${secrets.sendgrid}`,
        },
      },
      { user: `post to https://discord.com/api/webhooks/123456789012345678/${secrets.discord}`, assistant: `The AWS key is ${secrets.aws}, rotate it.` },
    ],
  });
  writeFileSync(
    join(h, 'session_index.jsonl'),
    JSON.stringify({ id: s.id, thread_name: `deploy with ${secrets.name}`, updated_at: '2026-08-20T15:00:00Z' }) + '\n',
  );
  for (const f of FORMATS) {
    const plain = exp(['-f', f, s.id], { home: h }).out;
    const masked = exp(['-f', f, s.id, '--redact'], { home: h });
    t.equal(masked.code, 0, masked.err);
    for (const [what, secret] of Object.entries(secrets)) {
      const shown = f === 'html' ? secret.replace(/&/g, '&amp;') : secret;
      // CSV holds tool calls only: what it never shows needs no mask there.
      if (!plain.includes(shown) && !plain.includes(JSON.stringify(shown).slice(1, -1))) continue;
      t.notOk(masked.out.includes(shown) || masked.out.includes(JSON.stringify(shown).slice(1, -1)), `${f}: the ${what} secret is masked`);
    }
  }
  const facts = JSON.parse(exp(['-f', 'json', s.id, '--redact'], { home: h }).out).session;
  t.equal(facts.git.repository, 'https://ana:[REDACTED:password]@github.com/ana/shop.git', 'the git origin keeps all but its password');
});

t.test('CSV: one RFC 4180 row per tool call', async (t) => {
  const h = tmpDir(t);
  const s = writeSession(h, {
    cwd: '/srv/a,b',
    turns: [
      { user: 'one', tool: { cmd: 'echo "hi, there"\nprintf x', output: 'hi, there' } },
      { user: 'two', tool: { cmd: 'false', output: 'nope' } },
    ],
  });
  const r = exp(['-f', 'csv', s.id], { home: h });
  const rows = r.out.split('\r\n');
  t.equal(rows.length, 4, 'header, two rows, and the final CRLF');
  t.equal(rows[3], '');
  t.match(rows[1], new RegExp(`^${s.id},\\S+Z,1,exec_command,"echo ""hi, there""\nprintf x",0,,"/srv/a,b",call_0_`));
  t.match(rows[2], /,2,exec_command,false,0,,/);
});

t.test('-o: a file, written atomically; with several sessions, a directory of <id>.<format>', async (t) => {
  const dir = tmpDir(t);
  const file = join(dir, 'out.md');
  const r = exp([zoo.legacy, '-o', file]);
  t.equal(r.code, 0);
  t.equal(r.out, '', 'nothing on stdout');
  t.equal(readFileSync(file, 'utf8'), exp([zoo.legacy]).out);
  t.same(readdirSync(dir), ['out.md'], 'no temp file left');

  const out = join(dir, 'many');
  const m = exp(['-f', 'json', '-o', out, zoo.legacy, zoo.paginated, zoo.genA]);
  t.equal(m.code, 0, m.err);
  t.same(readdirSync(out).sort(), [zoo.legacy, zoo.paginated, zoo.genA].map((id) => `${id}.json`).sort());
  t.ok(v.document(JSON.parse(readFileSync(join(out, `${zoo.genA}.json`), 'utf8'))));
  t.equal(exp(['-f', 'html', zoo.legacy, zoo.paginated]).code, 2, 'several HTML pages need a directory');
});

t.test('several sessions to stdout: one stream', async (t) => {
  const csv = exp(['-f', 'csv', zoo.legacy, zoo.paginated]).out;
  t.equal(csv.match(/^session,/gm)?.length, 1, 'one CSV header');
  const docs = exp(['-f', 'json', zoo.legacy, zoo.paginated])
    .out.trim()
    .split(/\n(?=\{"format")/);
  t.equal(docs.length, 2, 'one JSON document per session');
  for (const d of docs) t.ok(v.document(JSON.parse(d)));
});

t.test("stdin: '-' for a rollout (plain or zstd), --batch for references", async (t) => {
  const file = join(home, 'sessions/2026/11/20', readdirSync(join(home, 'sessions/2026/11/20'))[0]);
  const bytes = readFileSync(file);
  const direct = exp(['-f', 'ndjson', file]).out.replace(/"file":"[^"]*"/, '');
  t.equal(exp(['-f', 'ndjson', '-'], { input: bytes }).out.replace(/"file":"[^"]*"/, ''), direct, 'plain stdin');
  t.equal(exp(['-f', 'ndjson', '-'], { input: zstd(bytes) }).out.replace(/"file":"[^"]*"/, ''), direct, 'zstd stdin');
  t.match(exp(['-f', 'json', '-'], { input: bytes }).out, /"file":"<stdin>"/);

  const refs = [JSON.stringify({ id: zoo.genA, path: null }), zoo.genB, 'no-such-session', JSON.stringify({ path: file })].join('\n') + '\n';
  const b = exp(['--batch', '-f', 'ndjson'], { input: refs });
  t.equal(b.code, 1, 'a missing reference fails the run');
  t.match(b.err, /no-such-session/);
  t.same([...new Set(ndjson(b.out).map((r) => r.session))], [zoo.genA, zoo.genB, zoo.paginated], 'the others are exported');
  t.equal(exp(['--batch', zoo.genA]).code, 2);
});

t.test('--last: the most recent session started here, with a hint that fits export', async (t) => {
  const h = tmpDir(t);
  const here = join(h, 'work');
  mkdirSync(here);
  const older = writeSession(h, { cwd: here, turns: [{ user: 'older session here' }] });
  const newer = writeSession(h, { cwd: here, start: new Date('2026-08-21T10:00:00.000Z'), turns: [{ user: 'newer session here' }] });
  const elsewhere = writeSession(h, { cwd: '/somewhere/else', start: new Date('2026-08-22T10:00:00.000Z'), turns: [{ user: 'elsewhere' }] });
  utimesSync(older.path, new Date('2026-08-20T15:00:00Z'), new Date('2026-08-20T15:00:00Z'));
  utimesSync(newer.path, new Date('2026-08-21T11:00:00Z'), new Date('2026-08-21T11:00:00Z'));
  utimesSync(elsewhere.path, new Date('2026-08-23T11:00:00Z'), new Date('2026-08-23T11:00:00Z'));
  const last = run('rollout-export', ['--last', '-f', 'ndjson'], { cwd: here, env: { CODEX_HOME: h } });
  t.equal(last.code, 0, last.err);
  t.equal(ndjson(last.out)[0].session, newer.id, 'the newest session of this directory, not the newer one elsewhere');
  const none = run('rollout-export', ['--last'], { cwd: tmpDir(t), env: { CODEX_HOME: h } });
  t.equal(none.code, 1);
  t.match(none.err, /no session was started in .* \(rollout-ls lists the sessions of every directory\)/);
  t.notMatch(none.err, /--all/, 'no hint at --all, which means context here');
  t.equal(run('rollout-export', ['--last', newer.id], { env: { CODEX_HOME: h } }).code, 2, '--last takes no session');
  t.equal(run('rollout-export', ['--last', '--batch'], { env: { CODEX_HOME: h } }).code, 2);
});

t.test('bad input: torn lines and junk are passed over with a warning', async (t) => {
  const h = tmpDir(t);
  const s = sessionLines({ turns: [{ user: 'first' }, { user: 'second' }] });
  const lines = [...s.lines];
  lines.splice(5, 0, '{not json', '\xff\xfe garbage');
  writeRaw(h, `sessions/2026/08/20/rollout-2026-08-20T14-03-07-${s.id}.jsonl`, lines.join('\n') + '\n{"timestamp":"2026-08-2');
  const r = exp(['-f', 'ndjson', s.id], { home: h });
  t.equal(r.code, 0);
  t.match(r.err, /not a valid JSON line; left out/);
  t.match(r.err, /torn last line/);
  t.equal(ndjson(r.out).filter((i) => i.kind === 'turn').length, 2);
});

t.test('HTML: every piece of session text is escaped', async (t) => {
  const page = exp(['-f', 'html', zoo.legacy, '--all']).out;
  t.match(page, /^<!doctype html>/);
  t.notOk(/<script/i.test(page), 'no script element');
  t.notOk(page.includes('<img'), 'no injected image');
  t.notOk(page.includes('id="injected"'), 'no injected element');
  t.ok(page.includes('&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;'), 'the markup is shown as text');
  t.match(page, /Content-Security-Policy" content="default-src 'none'/);
  t.notOk(/https?:\/\/(?!www\.w3\.org)/.test(page.replace(/git@example\.com[^<]*/g, '')), 'no network references');
  t.match(page, /<details class="tool">/);
  t.match(page, /prefers-color-scheme:dark/);
});

t.test('HTML in headless Chromium: the transcript reads, nothing injected runs', async (t) => {
  const chromium = ['chromium', 'chromium-browser'].find((c) => spawnSync('which', [c]).status === 0);
  if (!chromium) {
    t.fail('chromium is not installed (apt-get install chromium)');
    return;
  }
  const dir = tmpDir(t);
  const page = join(dir, 'session.html');
  t.equal(exp(['-f', 'html', zoo.legacy, '-o', page]).code, 0);
  const flags = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ];
  const browse = (extra: string[], profile: string) =>
    spawnSync(chromium, [...flags, `--user-data-dir=${join(dir, profile)}`, ...extra, `file://${page}`], { timeout: 90_000, maxBuffer: 1 << 26 });
  const dom = browse(['--dump-dom'], 'p1');
  t.equal(dom.status, 0, `chromium --dump-dom (${dom.stderr?.toString().slice(-300)})`);
  const html = dom.stdout.toString();
  t.ok(html.includes('Why does the cart test fail?'), 'the first user turn is in the page');
  t.ok(html.includes('Prices are in cents now.'), 'the answer is in the page');
  t.ok(html.includes('npm test -- cart'), 'the command is in the page');
  // Text serializes with `<` as `&lt;`, so a `<b id="injected"` can only be an element.
  t.notOk(html.includes('<b id="injected"'), 'no injected element in the live DOM');
  t.notOk(html.includes('<img'), 'no injected image in the live DOM');
  t.notOk(/<script/i.test(html), 'no script element in the live DOM');
  t.match(html, /<title>Why does the cart test fail\?<\/title>/, 'the title was not changed by a script');
  const shot = join(dir, 'shot.png');
  const s = browse([`--screenshot=${shot}`, '--window-size=1000,1400'], 'p2');
  t.equal(s.status, 0, 'chromium --screenshot');
  t.ok(existsSync(shot) && readFileSync(shot).subarray(1, 4).toString() === 'PNG', 'a PNG screenshot');
  if (process.env.ROLLOUT_KEEP_SCREENSHOT) spawnSync('cp', [shot, process.env.ROLLOUT_KEEP_SCREENSHOT]);
});

t.test('a large session exports in constant memory', async (t) => {
  const h = tmpDir(t);
  const chunk = 'x'.repeat(1023) + '\n';
  const output = chunk.repeat(256); // 256 KB per tool output
  const s = sessionLines({ turns: [{ user: 'turn', tool: { cmd: 'cat big.log', output } }] });
  const [meta, ...turn] = s.lines;
  const path = join(h, 'sessions/2026/08/20', `rollout-2026-08-20T14-03-07-${s.id}.jsonl`);
  writeRaw(h, path.slice(h.length + 1), meta + '\n');
  const fd = openSync(path, 'a');
  const turns = 600; // ~150 MB
  for (let i = 0; i < turns; i++) writeSync(fd, turn.join('\n') + '\n');
  closeSync(fd);
  for (const f of ['json', 'md', 'csv'] as const) {
    const out = join(h, `out.${f}`);
    // 48 MB of heap could not hold a third of this session's text.
    const r = spawnSync(
      process.execPath,
      ['--max-old-space-size=48', join(REPO, 'dist/cmd/rollout-export.js'), '-f', f, '--max-output', '64', '-o', out, s.id],
      { env: { ...process.env, CODEX_HOME: h } },
    );
    t.equal(r.status, 0, `${f}: exit 0 (${r.stderr.toString().slice(-500)})`);
    if (f === 'json') {
      const doc = JSON.parse(readFileSync(out, 'utf8'));
      t.equal(doc.session.turns, turns);
      t.equal(doc.items.filter((i: any) => i.kind === 'tool_call').length, turns);
    }
    if (f === 'csv') t.equal(readFileSync(out, 'utf8').split('\r\n').length, turns + 2);
  }
});

t.test('real Codex 0.169 files export in every format', async (t) => {
  const real = join(REPO, 'test/fixtures/real');
  const manifest = JSON.parse(readFileSync(join(real, 'manifest.json'), 'utf8'));
  for (const s of Object.values<any>(manifest.sessions)) {
    for (const f of READABLE) t.equal(exp(['-f', f, s.id], { home: real }).code, 0, `${s.key} ${f}`);
    const doc = checkData(t, s.id, real);
    const user = doc.items.filter((i: any) => i.kind === 'message' && i.role === 'user' && !i.context).map((i: any) => i.text);
    t.same(user.slice(-s.userMessages.length), s.userMessages, `${s.key}: what the user said`);
    t.equal(doc.session.title, s.firstUserMessage, `${s.key}: the title, Codex's first user message`);
    t.equal(doc.session.name, s.name ?? null, `${s.key}: the name Codex shows`);
    if (s.toolCall) {
      const call = doc.items.find((i: any) => i.kind === 'tool_call');
      t.match(call, { tool: 'exec_command', exit_code: 0, cwd: s.cwd }, `${s.key}: the tool call with its exit code and directory`);
      t.type(call.duration_ms, 'number');
    }
    if (s.forkedFromId) t.ok(doc.session.inherited_turns > 0, `${s.key}: inherited turns`);
  }
});

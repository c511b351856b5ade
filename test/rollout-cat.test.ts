// rollout-cat through real subprocesses: what comes out, what is warned about, and exit codes.
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { bareLines, ndjson, REPO, run, sessionLines, skippableFrame, tmpDir, writeRaw, writeSession, zstd } from './helpers/fixtures.js';

const cat = (home: string, args: string[], input?: Buffer | string) => run('rollout-cat', ['--codex-home', home, ...args], { input });

function basicHome(t: any) {
  const home = tmpDir(t);
  const legacy = writeSession(home, {
    id: '0198c4d2-7a31-7c40-9b8e-2f4a61d0c5e7',
    turns: [{ user: 'Why does npm test fail?', tool: { cmd: 'npm test', output: 'FAIL' } }, { user: 'fix it' }],
  });
  const paginated = writeSession(home, {
    id: '0198c8f1-0a11-7c3e-9d20-5b7e1f3a6c90',
    history: 'paginated',
    start: new Date('2026-08-21T09:12:31.004Z'),
    turns: [{ user: 'Rename Cart to Basket' }],
  });
  return { home, legacy, paginated };
}

t.test('writes a session byte for byte, by id, prefix and path', async (t) => {
  const { home, legacy, paginated } = basicHome(t);
  const original = readFileSync(legacy.path);
  for (const ref of [legacy.id, '0198c4', legacy.path]) {
    const r = cat(home, [ref]);
    t.equal(r.code, 0, ref);
    t.ok(r.stdout.equals(original), `${ref}: identical bytes`);
    t.equal(r.err, '');
  }
  const both = cat(home, [paginated.id, legacy.id]);
  t.ok(both.stdout.equals(Buffer.concat([readFileSync(paginated.path), original])), 'several sessions, in the order given');
});

t.test('--type filters by envelope type and payload type', async (t) => {
  const { home, legacy } = basicHome(t);
  const tokens = ndjson(cat(home, ['--type', 'event_msg:token_count', legacy.id]).out);
  t.equal(tokens.length, 2);
  t.ok(tokens.every((l) => l.type === 'event_msg' && l.payload.type === 'token_count'));
  const two = ndjson(cat(home, ['--type', 'session_meta', '--type', 'turn_context', legacy.id]).out);
  t.same(
    two.map((l) => l.type),
    ['session_meta', 'turn_context', 'turn_context'],
  );
  const expected = legacy.lines.filter((l) => JSON.parse(l).type === 'event_msg');
  t.same(cat(home, ['--type', 'event_msg', legacy.id]).out.trimEnd().split('\n'), expected, 'same lines as a full parse selects');
});

t.test('--meta writes only the canonical session_meta, even for a copied fork', async (t) => {
  const home = tmpDir(t);
  const src = sessionLines({ id: '0198c4d2-7a31-7c40-9b8e-000000000001', turns: [{ user: 'a' }] });
  const fork = writeSession(home, { id: '0198c4d2-7a31-7c40-9b8e-000000000002', meta: { forked_from_id: src.id } });
  appendFileSync(fork.path, src.lines.map((l) => l + '\n').join(''));
  const metas = ndjson(cat(home, ['--meta', fork.id]).out);
  t.same(
    metas.map((m) => [m.type, m.payload.id]),
    [['session_meta', fork.id]],
  );
});

t.test('a .jsonl.zst reads like the plain file; the plain file wins over its .zst', async (t) => {
  const home = tmpDir(t);
  const s = writeSession(home, { turns: [{ user: 'compressed' }] }, { zst: 'only' });
  const plain = Buffer.from(s.lines.map((l) => l + '\n').join(''));
  t.ok(cat(home, [s.id]).stdout.equals(plain));
  writeFileSync(`${s.path}.zst`, Buffer.concat([skippableFrame(Buffer.from('x')), zstd(plain, 2)]));
  t.ok(cat(home, [s.id]).stdout.equals(plain), 'two frames and a skippable frame');
  for (const decoder of ['js', 'native']) {
    t.ok(run('rollout-cat', ['--codex-home', home, s.id], { env: { ROLLOUT_ZSTD: decoder } }).stdout.equals(plain), decoder);
  }
  writeFileSync(s.path, '{"timestamp":"t","type":"session_meta","payload":{"id":"plain-wins"}}\n');
  t.match(cat(home, [s.id]).out, /plain-wins/);
});

t.test('stdin: plain or compressed, with -', async (t) => {
  const { home, legacy } = basicHome(t);
  const original = readFileSync(legacy.path);
  t.ok(cat(home, ['-'], original).stdout.equals(original));
  t.ok(cat(home, ['-'], zstd(original)).stdout.equals(original));
});

t.test('damaged lines are reported with file:line and never stop the stream', async (t) => {
  const home = tmpDir(t);
  const good = '{"timestamp":"t","type":"session_meta","payload":{"id":"x"}}';
  const bytes = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(`${good}\r\n\n{"timestamp":"t","type":"event_msg","payload":{"type":"x","text":"`),
    Buffer.from([0xe2, 0x82]),
    Buffer.from('"}}\nnot json at all\n{"timestamp":"t","type":"brand_new_type","payload":{}}\n{"timestamp":"t","typ'),
  ]);
  const path = writeRaw(home, 'sessions/2026/08/20/rollout-2026-08-20T16-03-07-0198c4d2-7a31-7c40-9b8e-2f4a61d0c5e7.jsonl', bytes);
  const r = cat(home, [path]);
  t.equal(r.code, 0, 'warnings are not failures');
  const out = r.stdout.toString('latin1').split('\n');
  t.equal(out[0], good, 'BOM and CR removed');
  t.equal(out.length, 5, 'blank line skipped, torn line left out, the rest kept (raw bytes included)');
  t.match(out[3], /brand_new_type/, 'unknown record types pass through');
  t.match(r.err, `rollout-cat: warning: ${path}:3: invalid UTF-8; passed through raw`);
  t.match(r.err, `rollout-cat: warning: ${path}:4: not valid JSON; passed through raw`);
  t.match(r.err, `rollout-cat: warning: ${path}:6: torn last line (21 bytes without a newline) left out`);
  const strict = cat(home, ['--strict', path]);
  t.equal(strict.code, 1);
  t.match(strict.err, `rollout-cat: error: ${path}:3: invalid UTF-8 (--strict)`);
  t.equal(strict.out.split('\n')[0], good, 'lines before the error were written');
  t.equal(cat(home, ['-q', path]).err, '', '-q silences warnings');
});

t.test('warnings are capped per file', async (t) => {
  const home = tmpDir(t);
  const path = writeRaw(home, 'bad.jsonl', 'x\n'.repeat(25));
  const r = cat(home, [path]);
  t.equal(r.err.trim().split('\n').length, 11);
  t.match(r.err, '15 more warnings like these');
});

t.test('a 50 MB line streams through intact', async (t) => {
  const home = tmpDir(t);
  const big = `{"timestamp":"t","type":"response_item","payload":{"type":"message","content":[{"type":"input_image","image_url":"data:image/png;base64,${'A'.repeat(50 << 20)}"}]}}`;
  const path = writeRaw(
    home,
    'big.jsonl',
    `{"timestamp":"t","type":"session_meta","payload":{"id":"x"}}\n${big}\n{"timestamp":"t","type":"event_msg","payload":{"type":"token_count"}}\n`,
  );
  const r = cat(home, [path]);
  t.equal(r.code, 0);
  t.equal(r.stdout.length, readFileSync(path).length);
  t.equal(cat(home, ['--type', 'event_msg', path]).out.split('\n').length, 2, 'filtering skips it without parsing');
});

t.test('a broken .zst is a clear error; other sessions still come out', async (t) => {
  const { home, legacy } = basicHome(t);
  const broken = writeRaw(
    home,
    'sessions/2026/08/25/rollout-2026-08-25T10-00-00-0198d000-0000-7000-8000-000000000001.jsonl.zst',
    zstd(readFileSync(legacy.path)).subarray(0, 100),
  );
  const r = cat(home, [broken, legacy.id]);
  t.equal(r.code, 1);
  t.match(r.err, `rollout-cat: error: ${broken}: corrupt zstd data`);
  t.ok(r.stdout.subarray(r.stdout.length - readFileSync(legacy.path).length).equals(readFileSync(legacy.path)));
});

t.test('--full follows a referenced fork chain: each parent up to its cut, then the file', async (t) => {
  const home = tmpDir(t);
  const root = writeSession(home, { history: 'paginated', start: new Date('2026-08-01T10:00:00Z'), turns: [{ user: 'one' }, { user: 'two' }] });
  const rootBytes = readFileSync(root.path);
  const cut1 = rootBytes.indexOf('\n', rootBytes.indexOf('"two"')) + 1;
  const cut1Ordinal = rootBytes.subarray(0, cut1).toString().split('\n').length - 1;
  const child = writeSession(home, {
    history: 'paginated',
    start: new Date('2026-08-02T10:00:00Z'),
    firstOrdinal: cut1Ordinal,
    meta: { forked_from_id: root.id, history_base: { thread_id: root.id, end_ordinal_exclusive: cut1Ordinal, end_byte_offset: cut1 } },
    turns: [{ user: 'three' }],
  });
  const childBytes = readFileSync(child.path);
  const cut2 = childBytes.length;
  const grandchild = writeSession(
    home,
    {
      history: 'paginated',
      start: new Date('2026-08-03T10:00:00Z'),
      meta: { forked_from_id: child.id, history_base: { thread_id: child.id, end_ordinal_exclusive: 0, end_byte_offset: cut2 } },
      turns: [{ user: 'four' }],
    },
    { zst: 'only' },
  );
  const r = cat(home, ['--full', grandchild.id]);
  t.equal(r.code, 0, r.err);
  const own = Buffer.from(grandchild.lines.map((l) => l + '\n').join(''));
  t.ok(r.stdout.equals(Buffer.concat([rootBytes.subarray(0, cut1), childBytes, own])), 'root prefix + child + own lines');
  t.ok(cat(home, [grandchild.id]).stdout.equals(own), 'without --full only the file itself');

  writeSession(home, {
    history: 'paginated',
    start: new Date('2026-08-04T10:00:00Z'),
    meta: { history_base: { thread_id: '0198ffff-0000-7000-8000-000000000000', end_ordinal_exclusive: 1, end_byte_offset: 10 } },
  });
  const orphan = cat(home, ['--full', '--last', '--all']);
  t.equal(orphan.code, 1);
  t.match(orphan.err, /history_base names rollout 0198ffff-0000-7000-8000-000000000000, which is not in this home/);
});

t.test('old generations pass through, and --normalize turns them into envelopes', async (t) => {
  const home = tmpDir(t);
  const idA = '0197a000-0000-4000-8000-00000000000a';
  const idC = '0197c000-0000-4000-8000-00000000000c';
  const id0 = '0197e000-0000-4000-8000-00000000000e';
  const a = writeRaw(home, `sessions/rollout-2025-05-08-${idA}.jsonl`, bareLines('A', idA, ['hi', 'hello']).join('\n') + '\n');
  const c = writeRaw(home, `sessions/2025/08/01/rollout-2025-08-01T10-00-00-${idC}.jsonl`, bareLines('C', idC, ['q', 'a']).join('\n') + '\n');
  writeRaw(
    home,
    `sessions/rollout-2025-04-20-${id0}.json`,
    JSON.stringify(
      {
        session: { id: id0, timestamp: '2025-04-20T10:00:00.000Z', instructions: '' },
        items: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'ts cli' }] }],
      },
      null,
      2,
    ),
  );
  t.ok(cat(home, [idA]).stdout.equals(readFileSync(a)), 'bare lines pass through unchanged');
  t.ok(cat(home, [idC]).stdout.equals(readFileSync(c)));
  const na = ndjson(cat(home, ['--normalize', idA]).out);
  t.same(
    na.map((l) => l.type),
    ['session_meta', 'response_item', 'response_item'],
  );
  t.equal(na[0].payload.id, idA);
  const nc = ndjson(cat(home, ['--normalize', idC]).out);
  t.same(
    nc.map((l) => l.type),
    ['session_meta', 'response_item', 'response_item'],
    'record_type lines dropped',
  );
  t.same(ndjson(cat(home, ['--normalize', '--type', 'response_item', idC]).out).length, 2);
  const doc = ndjson(cat(home, [id0]).out);
  t.equal(doc.length, 1, 'a .json document is one compact line');
  t.same(
    ndjson(cat(home, ['--normalize', id0]).out).map((l) => l.type),
    ['session_meta', 'response_item'],
  );
  t.same(ndjson(cat(home, ['--meta', '--normalize', idA]).out)[0].type, 'session_meta');
});

t.test('--batch: references from stdin, misses reported inline', async (t) => {
  const { home, legacy, paginated } = basicHome(t);
  const input = `${legacy.id}\nnope\n${JSON.stringify({ id: paginated.id, path: paginated.path })}\n`;
  const r = cat(home, ['--batch', '--meta'], input);
  t.equal(r.code, 1);
  t.same(
    ndjson(r.out).map((l) => l.payload?.id ?? l),
    [legacy.id, { ref: 'nope', missing: true }, paginated.id],
  );
  t.match(r.err, "no session matches 'nope'");
});

t.test('names from session_index.jsonl', async (t) => {
  const { home, paginated } = basicHome(t);
  writeFileSync(
    join(home, 'session_index.jsonl'),
    JSON.stringify({ id: paginated.id, thread_name: 'basket rename', updated_at: '2026-08-21T10:00:00Z' }) + '\n',
  );
  t.equal(ndjson(cat(home, ['--meta', 'basket rename']).out)[0].payload.id, paginated.id);
});

t.test('usage errors exit 2 with a hint', async (t) => {
  const { home } = basicHome(t);
  for (const args of [[], ['--nope'], ['--all'], ['--last', 'x'], ['--batch', 'x'], ['--type']]) {
    const r = cat(home, args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.err, /^rollout-cat: error: /);
  }
  t.equal(cat(home, ['--version']).out, 'rollout-cat 0.1.0\n');
});

t.test('a reader that goes away ends the run quietly', async (t) => {
  const home = tmpDir(t);
  const s = writeSession(home, { turns: Array.from({ length: 3000 }, (_, i) => ({ user: `turn ${i}`, tool: { cmd: 'ls', output: 'x'.repeat(2000) } })) });
  const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
    const child = spawn('bash', [
      '-c',
      `node ${join(REPO, 'dist/cmd/rollout-cat.js')} --codex-home ${home} ${s.id} | head -n 1 >/dev/null; echo "\${PIPESTATUS[0]}"`,
    ]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', () => resolve({ code: Number(out.trim()), err }));
  });
  t.equal(r.code, 0);
  t.equal(r.err, '');
});

t.test("the TypeScript CLI's pretty .json is printed as its document on one line (as jq -c), the man page says so", async (t) => {
  const home = join(REPO, 'test/fixtures/homes/basic');
  const file = join(home, 'sessions/rollout-2025-04-20-0196a0b1-0000-4000-8000-000000000000.json');
  const raw = readFileSync(file, 'utf8');
  t.ok(raw.includes('\n  '), 'the file is pretty-printed');
  const r = cat(home, ['0196a0b1']);
  t.equal(r.code, 0, r.err);
  t.equal(r.out, JSON.stringify(JSON.parse(raw)) + '\n', 'one line: the same document without the whitespace');
  t.match(readFileSync(join(REPO, 'man/rollout-cat.md'), 'utf8'), /printed as that document on one line, as `jq -c \.`/);
});

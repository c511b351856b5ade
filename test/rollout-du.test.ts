// rollout-du as a subprocess, against sessions that hold every kind of content: each number is
// checked against a count made here another way (every line parsed, images found by a regular
// expression), never against numbers written down.
import { appendFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import Database from 'better-sqlite3';
import { ndjson, run, tmpDir, uuidv7, writeRaw, writeSession, zstd } from './helpers/fixtures.js';
import { onTerminal } from './helpers/tty.js';
import { dirFor, envelope, fileName, message, reasoning } from './helpers/generations.js';

t.setTimeout(300_000);

const KINDS = ['images', 'tool_output', 'reasoning', 'compaction', 'copied', 'other'] as const;
type Counts = Record<(typeof KINDS)[number], number>;

const png = (n: number, seed: string) => `data:image/png;base64,${Buffer.alloc(n, seed).toString('base64')}`;
const IMAGE = png(3000, 'screenshot');
const TOOL_IMAGE = png(1200, 'chart');

/** What the bytes of these lines are, counted by parsing each (`copied(i, line)`: the line is copied history). */
function expected(lines: string[], copied: (i: number, env: any) => boolean = () => false): Counts & { uncompressed: number } {
  const c: Counts = { images: 0, tool_output: 0, reasoning: 0, compaction: 0, copied: 0, other: 0 };
  lines.forEach((line, i) => {
    const size = Buffer.byteLength(line) + 1;
    const images = [...line.matchAll(/data:image\/[a-z+.-]+;base64,[A-Za-z0-9+/=]*/g)].reduce((n, m) => n + m[0].length, 0);
    c.images += images;
    const env = JSON.parse(line);
    const p = env.payload ?? {};
    const kind =
      i > 0 && copied(i, env)
        ? 'copied'
        : env.type === 'compacted'
          ? 'compaction'
          : env.type === 'response_item' && ['function_call_output', 'custom_tool_call_output'].includes(p.type)
            ? 'tool_output'
            : env.type === 'response_item' && p.type === 'reasoning'
              ? 'reasoning'
              : 'other';
    c[kind] += size - images;
  });
  return { ...c, uncompressed: lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0) };
}

const day = (d: number, h = 10) => new Date(Date.UTC(2026, 6, d, h));

/** A tool output that returns text and a picture, as an array of content items. */
const imageOutput = (callId: string) =>
  JSON.stringify({
    type: 'function_call_output',
    call_id: callId,
    output: [
      { type: 'input_text', text: 'rendered the chart' },
      { type: 'input_image', image_url: TOOL_IMAGE },
    ],
  });

function home(t: any) {
  const dir = tmpDir(t);
  // A: a cli session with an attached screenshot, a tool that returns a picture, encrypted reasoning, a compaction.
  const a = writeSession(dir, { start: day(1), cwd: '/src/app', turns: [{ user: 'look at this', tool: { cmd: 'ls', output: 'a\nb' } }] });
  let clock = day(1, 11).getTime();
  const more = [
    envelope(clock++, null, 'response_item', message('user', ['what is wrong here?'], { image: IMAGE })),
    envelope(clock++, null, 'event_msg', JSON.stringify({ type: 'user_message', message: 'what is wrong here?', images: [IMAGE], local_images: [] })),
    envelope(clock++, null, 'response_item', reasoning('thinking', 'gAAAA' + 'x'.repeat(5000))),
    envelope(clock++, null, 'response_item', imageOutput('call_img')),
    envelope(
      clock,
      null,
      'compacted',
      JSON.stringify({ message: 'summary', replacement_history: [JSON.parse(message('user', ['what is wrong here?'], { image: IMAGE }))] }),
    ),
  ];
  appendFileSync(a.path, more.map((l) => l + '\n').join(''));
  a.lines.push(...more);

  // B: a legacy fork of A, which copies A's lines (A's session_meta first) after its own head.
  const forkOwn = writeSession(tmpDir(t), { start: day(2), cwd: '/src/app', meta: { forked_from_id: a.id }, turns: [{ user: 'go on' }] });
  const bLines = [forkOwn.lines[0], ...a.lines, ...forkOwn.lines.slice(1)];
  const b = {
    id: forkOwn.id,
    lines: bLines,
    path: writeRaw(dir, join('sessions/2026/07/02', fileName('D', day(2).getTime(), forkOwn.id)), bLines.map((l) => l + '\n').join('')),
    copied: (i: number) => i >= 1 && i <= a.lines.length,
  };

  // C: a paginated sub-agent whose first lines are its parent's history, up to subagent_history_start_ordinal.
  const cSpec = {
    start: day(3),
    cwd: '/src/app',
    history: 'paginated' as const,
    source: { subagent: { thread_spawn: { parent_thread_id: a.id, depth: 1 } } },
    meta: { subagent_history_start_ordinal: 9 },
    turns: [{ user: 'parent asked this', tool: { cmd: 'cat x', output: 'y' } }, { user: 'my own work' }],
  };
  const c = { ...writeSession(dir, cSpec), copied: (_i: number, env: any) => env.ordinal < 9 };

  // D: compressed, with a screenshot.
  const dId = uuidv7(day(4).getTime());
  const dLines = writeSession(tmpDir(t), { id: dId, start: day(4), cwd: '/src/app', turns: [{ user: 'old' }] }).lines;
  dLines.push(envelope(day(4, 12).getTime(), null, 'response_item', message('user', ['again'], { image: IMAGE })));
  const dPlain = join(dirFor(dir, 'D', day(4).getTime(), false), fileName('D', day(4).getTime(), dId));
  writeRaw(dir, dPlain.slice(dir.length + 1) + '.zst', zstd(Buffer.from(dLines.map((l) => l + '\n').join(''))));
  const d = { id: dId, lines: dLines, path: dPlain + '.zst' };

  // E: an exec run elsewhere, in August.
  const e = writeSession(dir, {
    start: new Date(Date.UTC(2026, 7, 9)),
    cwd: '/srv/other',
    source: 'exec',
    turns: [{ user: 'build', tool: { cmd: 'make', output: 'ok' } }],
  });
  return { dir, a, b, c, d, e };
}

const du = (dir: string, ...args: string[]) => {
  const r = run('rollout-du', args, { env: { CODEX_HOME: dir, ROLLOUT_INDEX: '' } });
  if (r.code !== 0) throw new Error(`rollout-du ${args.join(' ')}: ${r.err}`);
  return ndjson(r.out);
};

const sum = (rows: any[], key: string) => rows.reduce((n, r) => n + r[key], 0);

t.test('per session: each kind as counted by parsing every line; on disk beside decompressed', (t) => {
  const h = home(t);
  const rows = du(h.dir);
  const total = rows.pop();
  t.same(total.total, true, 'the total comes last');
  const byId = new Map(rows.map((r) => [r.session, r]));
  const want: Array<[string, { id: string; lines: string[]; path: string }, (i: number, env: any) => boolean]> = [
    ['A: images, tool output, reasoning, compaction', h.a, () => false],
    ['B: a legacy fork copying A', h.b, h.b.copied],
    ['C: a sub-agent with copied history', h.c, h.c.copied],
    ['D: compressed', h.d, () => false],
    ['E: exec', h.e, () => false],
  ];
  for (const [what, s, copied] of want) {
    const row = byId.get(s.id);
    const exp = expected(s.lines, copied);
    t.match(row, { ...exp, on_disk: statSync(s.path).size, files: 1, sessions: 1, path: s.path }, what);
    t.equal(sum([row], 'images') + KINDS.slice(1).reduce((n, k) => n + row[k], 0), row.uncompressed, `${what}: the kinds make up the whole`);
  }
  t.ok(byId.get(h.a.id).images >= 3 * IMAGE.length + TOOL_IMAGE.length, 'A: the screenshot three times, the chart once');
  t.ok(byId.get(h.b.id).copied > 0 && byId.get(h.c.id).copied > 0, 'copied history found in both forms');
  t.ok(byId.get(h.d.id).on_disk < byId.get(h.d.id).uncompressed, 'the .zst takes less on disk');
  const sizes = rows.map((r) => r.on_disk);
  t.same(
    sizes,
    [...sizes].sort((x, y) => y - x),
    'largest on disk first',
  );
  for (const k of ['sessions', 'files', 'on_disk', 'uncompressed', ...KINDS]) t.equal(total[k], sum(rows, k), `total ${k} is the sum`);
  t.end();
});

t.test('groupings: kind, source, dir, month agree with the sessions', (t) => {
  const h = home(t);
  const sessions = du(h.dir);
  const total = sessions.pop();
  const kinds = du(h.dir, '--by', 'kind');
  t.same(kinds.pop(), { ...total, groups: KINDS.length }, 'the same total whatever the grouping (and a group per kind)');
  for (const k of KINDS) t.equal(kinds.find((r) => r.kind === k).bytes, total[k], `kind ${k}`);
  const bySource = du(h.dir, '--by', 'source');
  bySource.pop();
  t.same(Object.fromEntries(bySource.map((r) => [r.source, r.sessions])), { cli: 3, subagent: 1, exec: 1 });
  const byDir = du(h.dir, '--by', 'dir', '--sort', 'key');
  t.same(
    byDir.slice(0, -1).map((r) => [r.dir, r.sessions]),
    [
      ['/src/app', 4],
      ['/srv/other', 1],
    ],
  );
  const byMonth = du(h.dir, '--by', 'month', '--sort', '-key');
  t.same(
    byMonth.slice(0, -1).map((r) => r.month),
    ['2026-08', '2026-07'],
  );
  t.equal(
    byMonth[1].uncompressed,
    sum(
      sessions.filter((r) => r.cwd === '/src/app'),
      'uncompressed',
    ),
  );
  const limited = du(h.dir, '--sort', '-copied', '--limit', '1');
  t.equal(limited.length, 2, 'one group, then the total');
  t.equal(limited[0].session, h.b.id, 'the fork copied the most');
  t.equal(limited[1].sessions, 5, 'the total still counts every session');
  t.end();
});

t.test('the selection filters narrow', (t) => {
  const h = home(t);
  t.same(
    du(h.dir, '--source', 'exec').map((r) => r.session ?? 'total'),
    [h.e.id, 'total'],
  );
  t.same(du(h.dir, '--cwd', '/srv/other', '--by', 'kind').at(-1).uncompressed, expected(h.e.lines).uncompressed);
  t.equal(du(h.dir, '--no-subagents').at(-1).sessions, 4);
  t.equal(du(h.dir, '--search', 'parent asked this').at(-1).sessions, 1);
  t.same(du(h.dir, '--provider', 'nobody'), [
    { total: true, groups: 0, sessions: 0, files: 0, on_disk: 0, uncompressed: 0, images: 0, tool_output: 0, reasoning: 0, compaction: 0, copied: 0, other: 0 },
  ]);
  t.end();
});

t.test('appended lines add to the counts; a torn last line is other until it is finished', (t) => {
  const h = home(t);
  du(h.dir);
  const at = Date.UTC(2026, 6, 1, 12);
  const added = [
    envelope(at, null, 'response_item', imageOutput('call_2')),
    envelope(at + 1, null, 'response_item', message('user', ['more'], { image: IMAGE })),
  ];
  const torn = Buffer.from(added[1] + '\n');
  appendFileSync(h.a.path, added[0] + '\n');
  appendFileSync(h.a.path, torn.subarray(0, 100));
  const index = run('rollout-index', [], { env: { CODEX_HOME: h.dir, ROLLOUT_INDEX: '' } });
  t.match(JSON.parse(index.out), { updated: 1, added: 0, bytes_read: Buffer.byteLength(added[0]) + 1 + 100 }, 'only the appended bytes were read');
  let row = du(h.dir, '--no-update').find((r) => r.session === h.a.id);
  const before = expected([...h.a.lines, added[0]]);
  t.match(row, { ...before, other: before.other + 100, uncompressed: before.uncompressed + 100 }, 'the torn bytes count as other');
  appendFileSync(h.a.path, torn.subarray(100));
  row = du(h.dir).find((r) => r.session === h.a.id);
  t.match(row, expected([...h.a.lines, ...added]), 'finished, the line is counted once, as what it is');
  t.end();
});

t.test('an index made before the kinds were counted is brought up to date', (t) => {
  const h = home(t);
  const want = du(h.dir);
  const index = join(h.dir, 'rollout-index.sqlite');
  const db = new Database(index);
  // As schema 2 had it: without the columns of 3 (the kinds) and of 4 (usage).
  for (const c of ['uncompressed', ...KINDS, 'usage']) db.exec(`ALTER TABLE sessions DROP COLUMN ${c}`);
  db.pragma('user_version = 2');
  db.close();
  const r = run('rollout-du', ['--no-update'], { env: { CODEX_HOME: h.dir, ROLLOUT_INDEX: '' } });
  t.equal(r.code, 1, '--no-update cannot read it');
  t.match(r.err, /schema 2/);
  t.same(du(h.dir), want, 'with the update, the same answer as before');
  t.end();
});

t.test('a table on a terminal, with the total last', (t) => {
  const h = home(t);
  const shown = onTerminal('rollout-du', ['--by', 'source'], { env: { CODEX_HOME: h.dir, ROLLOUT_INDEX: '', NO_COLOR: '1' }, columns: 120 });
  t.equal(shown.code, 0);
  const lines = shown.screen.trimEnd().split('\n');
  t.match(lines[0], /^SOURCE\s+ON DISK\s+SIZE\s+IMAGES\s+TOOL OUT\s+REASONING\s+COMPACTION\s+COPIED\s+OTHER\s+SESSIONS$/);
  t.match(lines.at(-1), /^total\s+\d.*\s5$/);
  t.same(
    lines.slice(1, -1).map((l) => l.split(/\s+/)[0]),
    ['cli', 'subagent', 'exec'],
  );
  const narrow = onTerminal('rollout-du', [], { env: { CODEX_HOME: h.dir, ROLLOUT_INDEX: '', NO_COLOR: '1' }, columns: 60 });
  for (const l of narrow.screen.trimEnd().split('\n')) t.ok(l.length <= 60, `fits 60 columns: ${l}`);
  t.end();
});

t.test('usage errors', (t) => {
  const h = home(t);
  for (const [args, msg] of [
    [['--by', 'year'], /--by takes session, dir, month, source, kind/],
    [['--sort', 'bigness'], /--sort takes/],
    [['--by', 'kind', '--sort', 'images'], /--by kind sorts by/],
    [['--limit', '0'], /--limit/],
    [['--json', '--table'], /choose one/],
    [['extra'], /unexpected argument/],
  ] as const) {
    const r = run('rollout-du', [...args], { env: { CODEX_HOME: h.dir, ROLLOUT_INDEX: '' } });
    t.equal(r.code, 2, args.join(' '));
    t.match(r.err, msg);
  }
  t.end();
});

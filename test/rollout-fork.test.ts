// rollout-fork through real subprocesses: where it cuts, what the new file holds, and what it refuses.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { bareLines, ndjson, run, tmpDir, uuidv7, writeRaw, writeReferencedFork, writeSession, zstd, type Turn } from './helpers/fixtures.js';

const fork = (home: string, args: string[], input?: Buffer | string) =>
  run('rollout-fork', ['--codex-home', home, ...args], { input, env: { ROLLOUT_INDEX: '' } });

/** Every file under `dir`, relative, sorted. */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  walk(dir);
  return out.sort();
}

const linesOf = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean);
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
/** A line without its ordinal: what must stay identical when only the ordinal is renumbered. */
const sansOrdinal = (line: string) => line.replace(/^(\{"timestamp":"[^"]*"),"ordinal":\d+/, '$1');
/** Index of the source line that is turn `id`'s task_started. */
const taskAt = (lines: string[], id: string) => lines.findIndex((l) => l.includes('"task_started"') && l.includes(`"turn_id":"${id}"`));

const TURN_IDS = ['01990000-0000-7000-8000-000000000001', '01990000-0000-7000-8000-000000000002', '01990000-0000-7000-8000-000000000003'];
const threeTurns = (extra: Partial<Turn> = {}): Turn[] => ['first ask', 'second ask', 'third ask'].map((user, i) => ({ user, turnId: TURN_IDS[i], ...extra }));

/** Runs a fork that must succeed; returns its summary and the new file's lines. */
function ok(t: any, home: string, args: string[], input?: Buffer | string) {
  const r = fork(home, args, input);
  t.equal(r.code, 0, `rollout-fork ${args.join(' ')}: ${r.err}`);
  const summary = ndjson(r.out)[0];
  return { summary, lines: linesOf(summary.path), err: r.err };
}

t.test('a new session: fresh ids, Codex layout, the source meta fields, kept lines byte for byte', async (t) => {
  const home = tmpDir(t);
  const src = writeSession(home, { turns: threeTurns(), git: { branch: 'main', commit_hash: 'abc' } });
  const before = sha(src.path);
  const { summary, lines } = ok(t, home, [src.id, '--keep-turns', '2']);
  t.match(summary, { forked_from_id: src.id, turns: 2 });
  t.match(Object.keys(summary), ['id', 'path', 'forked_from_id', 'turns', 'lines']);
  t.match(relative(home, summary.path), new RegExp(`^sessions/\\d{4}/\\d{2}/\\d{2}/rollout-\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}-${summary.id}\\.jsonl$`));
  t.match(summary.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUIDv7');
  const cut = taskAt(src.lines, TURN_IDS[2]);
  t.same(lines.slice(1), src.lines.slice(0, cut), 'the source lines before turn 3, unchanged (timestamps included)');
  t.equal(summary.lines, lines.length);
  const meta = JSON.parse(lines[0]);
  const source = JSON.parse(src.lines[0]).payload;
  t.equal(meta.type, 'session_meta');
  t.notOk('ordinal' in meta, 'legacy: no ordinals');
  t.same(Object.keys(meta.payload), ['session_id', 'id', 'forked_from_id', ...Object.keys(source).slice(2)], 'source key order, forked_from_id after id');
  t.match(meta.payload, { id: summary.id, session_id: summary.id, forked_from_id: src.id, cwd: source.cwd, git: source.git, history_mode: 'legacy' });
  t.not(meta.payload.timestamp, source.timestamp, 'fresh timestamp');
  t.ok(Date.now() - Date.parse(meta.timestamp) < 60_000);
  t.equal(sha(src.path), before, 'the source is untouched');
  t.notOk(lines.join('\n').includes('third ask'), 'nothing after the cut');
});

t.test('every cut option', async (t) => {
  const home = tmpDir(t);
  const src = writeSession(home, { turns: threeTurns() });
  const [t1, t2, t3] = TURN_IDS.map((id) => taskAt(src.lines, id));
  const kept = (args: string[]) => ok(t, home, [src.id, ...args]);
  const cases: Array<[string[], number, number, number]> = [
    [[], 0, src.lines.length, 3],
    [['--keep-turns', '1'], 0, t2, 1],
    [['--keep-turns', '3'], 0, src.lines.length, 3],
    [['--drop-turns', '1'], 0, t3, 2],
    [['--drop-turns', '0'], 0, src.lines.length, 3],
    [['--last-turns', '1'], t3, src.lines.length, 1],
    [['--last-turns', '2'], t2, src.lines.length, 2],
    [['--before-turn', TURN_IDS[1]], 0, t2, 1],
    [['--before-turn', TURN_IDS[0]], 0, t1, 0],
    [['--after-turn', TURN_IDS[1]], 0, t3, 2],
    [['--after-turn', TURN_IDS[2]], 0, src.lines.length, 3],
  ];
  for (const [args, from, to, turns] of cases) {
    const { summary, lines } = kept(args);
    t.same(lines.slice(1), src.lines.slice(from, to), `${args.join(' ') || 'no cut'}: lines ${from}..${to}`);
    t.equal(summary.turns, turns, `${args.join(' ') || 'no cut'}: ${turns} turns`);
  }
});

t.test('rollbacks are applied before counting; a rolled-back turn cannot be cut on', async (t) => {
  const home = tmpDir(t);
  const ids = [...TURN_IDS, '01990000-0000-7000-8000-000000000004'];
  const base = writeSession(tmpDir(t), { turns: ['one', 'two', 'three (rolled back)', 'four'].map((user, i) => ({ user, turnId: ids[i] })) });
  const lines = [...base.lines];
  const rollback = JSON.stringify({ timestamp: '2026-08-20T14:09:00.000Z', type: 'event_msg', payload: { type: 'thread_rolled_back', num_turns: 1 } });
  lines.splice(taskAt(lines, ids[3]), 0, rollback);
  const src = writeSession(home, { id: base.id }, { raw: Buffer.from(lines.map((l) => l + '\n').join('')) });
  const t4 = taskAt(lines, ids[3]);
  t.equal(ok(t, home, [src.id]).summary.turns, 3, 'three real turns');
  const two = ok(t, home, [src.id, '--keep-turns', '2']);
  t.same(two.lines.slice(1), lines.slice(0, t4), 'the 2 effective turns: the rolled-back turn and its rollback come along');
  t.equal(two.summary.turns, 2);
  const last = ok(t, home, [src.id, '--last-turns', '1']);
  t.same(last.lines.slice(1), lines.slice(t4));
  t.equal(fork(home, [src.id, '--keep-turns', '4']).code, 1, 'only 3 turns count');
  const r = fork(home, [src.id, '--before-turn', ids[2]]);
  t.equal(r.code, 1);
  t.match(r.err, `rollout-fork: error: ${src.path}: --before-turn: turn ${ids[2]} was rolled back`);
});

t.test('files without turn events: turns come from user messages', async (t) => {
  const home = tmpDir(t);
  const base = writeSession(tmpDir(t), { turns: threeTurns() });
  const lines = base.lines.filter((l) => !/"type":"(task_started|task_complete)"/.test(l));
  const src = writeSession(home, { id: base.id }, { raw: Buffer.from(lines.map((l) => l + '\n').join('')) });
  const second = lines.findIndex((l) => l.includes('"input_text","text":"second ask"'));
  const { summary, lines: got } = ok(t, home, [src.id, '--keep-turns', '1']);
  t.same(got.slice(1), lines.slice(0, second), 'cut right before the second real user message');
  t.equal(summary.turns, 1);
  const r = fork(home, [src.id, '--after-turn', TURN_IDS[0]]);
  t.equal(r.code, 1);
  t.match(r.err, 'has no turn ids');
});

t.test('paginated: only ordinals change, contiguous from 0; big numbers and key order survive', async (t) => {
  const home = tmpDir(t);
  const base = writeSession(tmpDir(t), { history: 'paginated', turns: threeTurns() });
  const lines = [...base.lines];
  // A line JSON.parse would not round-trip: a float with trailing digits, a big integer, a key order of its own.
  lines.splice(
    3,
    0,
    `{"timestamp":"2026-08-20T14:03:08.500Z","ordinal":3,"type":"response_item","payload":{"type":"reasoning","z":1,"a":2,"create_time":1795312143.2081258000,"n":123456789012345678901234567890}}`,
  );
  const renumberedSource = lines.map((l, i) => l.replace(/"ordinal":\d+/, `"ordinal":${i}`));
  const src = writeSession(home, { id: base.id, history: 'paginated' }, { raw: Buffer.from(renumberedSource.map((l) => l + '\n').join('')) });
  const { lines: got } = ok(t, home, [src.id, '--last-turns', '2']);
  const from = taskAt(renumberedSource, TURN_IDS[1]);
  t.same(
    got.map((l) => JSON.parse(l).ordinal),
    got.map((_, i) => i),
    'ordinals 0..n-1',
  );
  t.same(got.slice(1).map(sansOrdinal), renumberedSource.slice(from).map(sansOrdinal), 'everything else byte for byte');
  const all = ok(t, home, [src.id]).lines;
  t.ok(all.includes(renumberedSource[3].replace('"ordinal":3', '"ordinal":4')), 'the odd line is intact but for its ordinal');
  t.equal(JSON.parse(all[0]).payload.history_mode, 'paginated');
});

/** A paginated parent and a referenced fork of it (its first two turns, then one of its own). */
function referencedPair(t: any) {
  const home = tmpDir(t);
  const parent = writeSession(home, { history: 'paginated', turns: threeTurns(), start: new Date('2026-08-20T10:00:00.000Z') });
  const end = taskAt(parent.lines, TURN_IDS[2]);
  const child = writeReferencedFork(home, parent, end, {
    start: new Date('2026-08-20T11:00:00.000Z'),
    turns: [{ user: 'own ask', turnId: '01990000-0000-7000-8000-0000000000c1' }],
  });
  // Codex's full history: the parent's prefix, then the child's records after its head session_meta.
  return { home, parent, child, end, endByte: child.endByte, history: child.history! };
}

t.test('a referenced fork as source: inherited lines are copied in, so the fork outlives its parents', async (t) => {
  const { home, parent, child, history } = referencedPair(t);
  const { summary, lines } = ok(t, home, [child.id]);
  t.equal(summary.turns, 3);
  t.same(lines.slice(1).map(sansOrdinal), history.map(sansOrdinal), "the parent's prefix, then the child's own lines");
  t.same(
    lines.map((l) => JSON.parse(l).ordinal),
    lines.map((_, i) => i),
  );
  const meta = JSON.parse(lines[0]).payload;
  t.notOk('history_base' in meta, 'self-contained');
  t.notOk('forked_from_ordinal_exclusive' in meta);
  t.equal(meta.forked_from_id, child.id);
  rmSync(parent.path);
  const cat = run('rollout-cat', ['--codex-home', home, '--full', summary.id]);
  t.equal(cat.code, 0, 'still readable without the parent');
  t.equal(cat.out.split('\n').filter(Boolean).length, lines.length);
  const gone = fork(home, [child.id]);
  t.equal(gone.code, 1, 'the child itself cannot be forked without its parent');
  t.match(gone.err, 'not in this home');
});

t.test('--reference writes a Codex-0.169-style referenced fork', async (t) => {
  const { home, parent, child, end, endByte } = referencedPair(t);
  const full = ok(t, home, [child.id, '--reference']);
  t.equal(full.lines.length, 1, 'just the meta: the history stays in the parent');
  const meta = JSON.parse(full.lines[0]);
  const lastOrdinal = JSON.parse(child.lines.at(-1)!).ordinal;
  t.equal(meta.ordinal, lastOrdinal + 1, 'the meta continues the ordinals');
  t.same(meta.payload.history_base, { thread_id: child.id, end_ordinal_exclusive: lastOrdinal + 1, end_byte_offset: statSync(child.path).size });
  t.equal(meta.payload.forked_from_ordinal_exclusive, lastOrdinal + 1);
  const keys = Object.keys(meta.payload);
  t.same(keys.slice(0, 5), ['session_id', 'id', 'forked_from_id', 'forked_from_ordinal_exclusive', 'timestamp'], 'the key order Codex writes');
  t.equal(keys[keys.indexOf('history_mode') + 1], 'history_base');

  // A cut inside the inherited prefix points at the parent itself.
  const one = ok(t, home, [child.id, '--reference', '--keep-turns', '1']);
  const t2 = taskAt(parent.lines, TURN_IDS[1]);
  const bytes = Buffer.byteLength(
    parent.lines
      .slice(0, t2)
      .map((l) => l + '\n')
      .join(''),
  );
  t.same(JSON.parse(one.lines[0]).payload.history_base, { thread_id: parent.id, end_ordinal_exclusive: t2, end_byte_offset: bytes });
  t.equal(one.summary.turns, 1);
  const cat = run('rollout-cat', ['--codex-home', home, '--full', one.summary.id]);
  t.same(cat.out.split('\n').filter(Boolean).slice(0, -1), parent.lines.slice(0, t2), 'Codex-style history: the parent prefix');
  t.ok(end > t2 && endByte > bytes);

  const legacy = writeSession(home, { turns: threeTurns() });
  const r = fork(home, [legacy.id, '--reference']);
  t.equal(r.code, 1);
  t.match(r.err, 'needs a paginated source');
  t.equal(fork(home, [child.id, '--reference', '--last-turns', '1']).code, 1, 'a suffix cannot be referenced');
});

t.test('--interrupted: the marker only when the kept history ends mid-turn', async (t) => {
  const home = tmpDir(t);
  const src = writeSession(home, { turns: threeTurns().map((turn, i) => (i === 2 ? { ...turn, open: true } : turn)) });
  const plain = ok(t, home, [src.id]);
  t.same(plain.lines.slice(1), src.lines, 'without --interrupted the open turn is copied as it is');
  const marked = ok(t, home, [src.id, '--interrupted']);
  t.same(marked.lines.slice(1, -2), src.lines);
  const [message, event] = marked.lines.slice(-2).map((l) => JSON.parse(l));
  t.match(message.payload, {
    type: 'message',
    role: 'user',
    content: [{ type: 'input_text', text: /^<turn_aborted>\nThe user interrupted the previous turn on purpose\. .*\n<\/turn_aborted>$/s }],
  });
  t.equal(message.payload.internal_chat_message_metadata_passthrough.turn_id, TURN_IDS[2]);
  t.same(event.payload, { type: 'turn_aborted', turn_id: TURN_IDS[2], reason: 'interrupted' });
  t.equal(marked.summary.lines, src.lines.length + 3);
  t.equal(marked.summary.turns, 3, 'the marker is not a turn');
  const clean = ok(t, home, [src.id, '--keep-turns', '2', '--interrupted']);
  t.equal(clean.lines.length, 1 + taskAt(src.lines, TURN_IDS[2]), 'ends cleanly: no marker');

  const paginated = writeSession(home, { history: 'paginated', turns: [{ user: 'open one', open: true, turnId: TURN_IDS[0] }] });
  const p = ok(t, home, [paginated.id, '--interrupted']);
  t.same(
    p.lines.map((l) => JSON.parse(l).ordinal),
    p.lines.map((_, i) => i),
    'the marker continues the ordinals',
  );
  const ref = ok(t, home, [paginated.id, '--interrupted', '--reference']);
  t.same(
    ref.lines.map((l) => JSON.parse(l).ordinal),
    [0, 1, 2].map((i) => paginated.lines.length + i),
  );
});

t.test('.zst sources and stdin', async (t) => {
  const home = tmpDir(t);
  const src = writeSession(home, { turns: threeTurns() }, { zst: 'only' });
  const want = ok(t, home, [src.id, '--keep-turns', '2']).lines.slice(1);
  t.same(want, src.lines.slice(0, taskAt(src.lines, TURN_IDS[2])), 'a .zst source');
  const plain = Buffer.from(src.lines.map((l) => l + '\n').join(''));
  for (const [what, input] of [
    ['plain', plain],
    ['zstd', zstd(plain)],
  ] as const) {
    const { lines } = ok(t, home, ['-', '--keep-turns', '2'], input);
    t.same(lines.slice(1), want, `stdin, ${what}`);
  }
  const r = fork(home, ['-', '--reference'], plain);
  t.equal(r.code, 1);
  t.match(r.err, 'not stdin');
  // Stdin of a referenced fork still finds its parents in the home.
  const pair = referencedPair(t);
  const { lines } = ok(t, pair.home, ['-'], readFileSync(pair.child.path));
  t.same(lines.slice(1).map(sansOrdinal), pair.history.map(sansOrdinal));
});

t.test('--stdout, --dry-run, --name, --cwd', async (t) => {
  const home = tmpDir(t);
  const src = writeSession(home, { turns: threeTurns() });
  const before = files(home);
  const out = fork(home, [src.id, '--stdout', '--last-turns', '1']);
  t.equal(out.code, 0);
  const streamed = out.out.split('\n').filter(Boolean);
  t.same(streamed.slice(1), src.lines.slice(taskAt(src.lines, TURN_IDS[2])), '--stdout: the rollout itself');
  t.equal(JSON.parse(streamed[0]).payload.forked_from_id, src.id);
  const dry = fork(home, [src.id, '-n', '--name', 'never']);
  t.equal(dry.code, 0);
  t.match(ndjson(dry.out)[0], { forked_from_id: src.id, turns: 3, lines: src.lines.length + 1 });
  t.same(files(home), before, 'neither wrote anything');

  const named = ok(t, home, [src.id, '--name', 'my branch', '--cwd', 'sub/dir']);
  const index = linesOf(join(home, 'session_index.jsonl')).map((l) => JSON.parse(l));
  t.match(index.at(-1), { id: named.summary.id, thread_name: 'my branch' });
  t.ok(Date.parse(index.at(-1).updated_at));
  t.equal(JSON.parse(named.lines[0]).payload.cwd, join(process.cwd(), 'sub/dir'), '--cwd, made absolute');
  t.equal(run('rollout-cat', ['--codex-home', home, '--meta', 'my branch']).out.trim(), named.lines[0], 'the name resolves');
});

t.test('refusals: exit status, a clear message, nothing written', async (t) => {
  const home = tmpDir(t);
  const src = writeSession(home, { turns: threeTurns() });
  const bare = writeRaw(
    home,
    'sessions/2025/08/01/rollout-2025-08-01T10-00-00-0198c4d2-0000-7000-8000-000000000000.jsonl',
    bareLines('C', '0198c4d2-0000-7000-8000-000000000000', ['hi', 'hello']).join('\n') + '\n',
  );
  const snapshot = files(home);
  const cases: Array<[string[], number, string]> = [
    [['nope-not-a-session'], 1, "no session matches 'nope-not-a-session'"],
    [[src.id, '--keep-turns', '4'], 1, '--keep-turns 4: the session has only 3 turns'],
    [[src.id, '--last-turns', '9'], 1, '--last-turns 9: the session has only 3 turns'],
    [[src.id, '--drop-turns', '3'], 1, "--drop-turns 3 keeps none of the session's 3 turns"],
    [[src.id, '--before-turn', uuidv7()], 1, 'no turn'],
    [[bare], 1, 'no session_meta'],
    [[src.id, '--keep-turns', '1', '--last-turns', '1'], 2, 'give one of'],
    [[src.id, '--keep-turns', '0'], 2, 'at least 1'],
    [[src.id, '--keep-turns', 'x'], 2, 'whole number'],
    [[], 2, 'no session given'],
  ];
  for (const [args, code, message] of cases) {
    const r = fork(home, args);
    t.equal(r.code, code, `${args.join(' ')}: exit ${code}`);
    t.match(r.err, `rollout-fork: error: `);
    t.match(r.err, message, args.join(' '));
    t.equal(r.out, '');
  }
  t.same(files(home), snapshot, 'nothing written');
});

t.test('a torn last line is left out, with a warning', async (t) => {
  const home = tmpDir(t);
  const base = writeSession(tmpDir(t), { turns: threeTurns() });
  const raw = base.lines.map((l) => l + '\n').join('') + '{"timestamp":"2026-08-20T14:10:00.000Z","type":"event_m';
  const src = writeSession(home, { id: base.id }, { raw: Buffer.from(raw) });
  const { lines, err } = ok(t, home, [src.id]);
  t.same(lines.slice(1), base.lines);
  t.match(err, /rollout-fork: warning: .*: torn last line left out of the fork/);
});

t.test('an existing rollout index gets the new session; none is created', async (t) => {
  const home = tmpDir(t);
  const src = writeSession(home, { turns: threeTurns() });
  const first = ok(t, home, [src.id, '--keep-turns', '1']).summary;
  t.notOk(existsSync(join(home, 'rollout-index.sqlite')), 'no index, none made');
  t.equal(run('rollout-index', ['--codex-home', home], { env: { ROLLOUT_INDEX: '' } }).code, 0);
  const { summary } = ok(t, home, [src.id, '--keep-turns', '2']);
  const check = run('rollout-index', ['--codex-home', home, '--check'], { env: { ROLLOUT_INDEX: '' } });
  t.equal(check.code, 0, `the index agrees with the files: ${check.out}`);
  const listed = ndjson(run('rollout-ls', ['--codex-home', home, '--forked-from', src.id], { env: { ROLLOUT_INDEX: '' } }).out);
  t.same(listed.map((row) => row.id).sort(), [first.id, summary.id].sort(), 'both forks, the second added by rollout-fork');
});

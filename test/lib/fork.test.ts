// lib/fork.ts and lib/fork-plan.ts: ordinal rewriting, the fork's session_meta, and where cuts fall.
import t from 'tap';
import { forkMeta, interruptLines, INTERRUPTED_GUIDANCE } from '../../lib/fork/write.js';
import { mapTurns, planCut, type Cut } from '../../lib/fork/plan.js';
import { ordinalOf, ordinalSpan, renumbered } from '../../lib/core/record.js';
import { parseTurnCount } from '../../lib/core/turn-range.js';
import { isContextualText } from '../../lib/core/turns.js';
import { tmpDir, writeSession, type Turn } from '../helpers/fixtures.js';

const text = (pieces: Buffer[]) => Buffer.concat(pieces).toString();

t.test('renumbered: only the ordinal digits change in canonical lines', async (t) => {
  const line = '{"timestamp":"2026-08-21T09:12:40.120Z","ordinal":7,"type":"response_item","payload":{"n":123456789012345678901234567890,"f":1.50}}';
  t.equal(text(renumbered(Buffer.from(line), 12345)), line.replace('"ordinal":7', '"ordinal":12345'));
  const bare = '{"timestamp":"2026-08-21T09:12:40.120Z","type":"event_msg","payload":{"type":"token_count","x":1.0}}';
  t.equal(text(renumbered(Buffer.from(bare), 3)), bare.replace('","type"', '","ordinal":3,"type"'), 'inserted when missing');
  const spaced = '{ "type": "event_msg", "timestamp": "t", "ordinal": 4, "payload": {} }';
  t.same(
    JSON.parse(text(renumbered(Buffer.from(spaced), 9))),
    { timestamp: 't', ordinal: 9, type: 'event_msg', payload: {} },
    'other shapes are re-serialized',
  );
  t.same(Object.keys(JSON.parse(text(renumbered(Buffer.from(spaced), 9)))), ['timestamp', 'ordinal', 'type', 'payload'], "in Codex's key order");
  t.equal(text(renumbered(Buffer.from('not json {'), 1)), 'not json {', 'non-JSON is left alone');
});

t.test('ordinalSpan / ordinalOf', async (t) => {
  const line = Buffer.from('{"timestamp":"x","ordinal":42,"type":"a","payload":{}}');
  t.same(ordinalSpan(line), [27, 29]);
  t.equal(ordinalOf(line), 42);
  t.equal(ordinalSpan(Buffer.from('{"timestamp":"x","ordinal":42}')), null, 'no type after it: not the canonical prefix');
  t.equal(ordinalOf(Buffer.from('{"ordinal":5,"timestamp":"x"}')), 5, 'parsed when not canonical');
  t.equal(ordinalOf(Buffer.from('{"timestamp":"x","type":"a","payload":{}}')), null);
});

t.test('forkMeta: new ids, fresh time, the rest in order; history_base only when referencing', async (t) => {
  const source = {
    account_scoped: true,
    session_id: 'S',
    id: 'A',
    forked_from_id: 'OLD',
    forked_from_ordinal_exclusive: 3,
    timestamp: '2026-01-01T00:00:00.000Z',
    cwd: '/a',
    runtime_workspace_roots: ['/a', '/b'],
    history_mode: 'paginated',
    history_base: { thread_id: 'P', end_ordinal_exclusive: 3, end_byte_offset: 10 },
    subagent_history_start_ordinal: 2,
    context_window: { window_id: 'W' },
    git: { branch: 'main' },
  };
  const now = new Date('2026-11-22T00:00:00.000Z');
  const copy = forkMeta(source, { id: 'N', now, base: null });
  t.same(Object.keys(copy), [
    'account_scoped',
    'session_id',
    'id',
    'forked_from_id',
    'timestamp',
    'cwd',
    'runtime_workspace_roots',
    'history_mode',
    'context_window',
    'git',
  ]);
  t.match(copy, { session_id: 'N', id: 'N', forked_from_id: 'A', timestamp: '2026-11-22T00:00:00.000Z', cwd: '/a', git: { branch: 'main' } });
  t.not((copy.context_window as any).window_id, 'W', 'a fresh context window');
  const base = { thread_id: 'A', end_ordinal_exclusive: 9, end_byte_offset: 99 };
  const ref = forkMeta(source, { id: 'N', now, cwd: '/c', base });
  t.same(Object.keys(ref).slice(0, 6), ['account_scoped', 'session_id', 'id', 'forked_from_id', 'forked_from_ordinal_exclusive', 'timestamp']);
  t.match(ref, { forked_from_ordinal_exclusive: 9, history_base: base, cwd: '/c', runtime_workspace_roots: ['/c', '/b'] });
  const old = forkMeta({ id: 'A', timestamp: 't' }, { id: 'N', now, base: null });
  t.same(Object.keys(old), ['session_id', 'id', 'forked_from_id', 'timestamp'], 'a session_id is added first when the source has none');
});

t.test("interruptLines: Codex's marker, which Codex's own matcher sees as context", async (t) => {
  const [message, event] = interruptLines('T1', new Date('2026-11-22T00:00:00.000Z'), 7).map((l) => JSON.parse(l));
  t.equal(message.ordinal, 7);
  t.equal(event.ordinal, 8);
  t.equal(message.payload.content[0].text, `<turn_aborted>\n${INTERRUPTED_GUIDANCE}\n</turn_aborted>`);
  t.ok(isContextualText(message.payload.content[0].text), 'not a user turn');
  t.same(event.payload, { type: 'turn_aborted', turn_id: 'T1', reason: 'interrupted' });
  const legacy = interruptLines(null, new Date(), null).map((l) => JSON.parse(l));
  t.notOk('ordinal' in legacy[0]);
  t.equal(legacy[1].payload.turn_id, null);
});

t.test('mapTurns and planCut over a real file', async (t) => {
  const ids = ['T1', 'T2', 'T3'];
  const turns: Turn[] = ['a', 'b', 'c'].map((user, i) => ({ user, turnId: ids[i], open: i === 2 }));
  const { path, lines } = writeSession(tmpDir(t), { turns });
  const map = await mapTurns([{ path }]);
  t.equal(map.lines, lines.length);
  t.same(
    map.tasks.map((x) => x.turnId),
    ids,
  );
  t.same(
    map.users.map((u) => u.start),
    map.tasks.map((x) => x.at),
    'each turn starts at its task_started',
  );
  const cut = (kind: 'keep' | 'drop' | 'last', n: number): Cut => ({ kind: 'turns', range: parseTurnCount(String(n), kind)! });
  t.same(planCut(map, cut('keep', 2), path), { start: 0, end: map.tasks[2].at, turns: 2, midTurn: null });
  t.same(planCut(map, cut('drop', 1), path), planCut(map, cut('keep', 2), path), 'dropping the last is keeping the others');
  t.same(planCut(map, cut('drop', 0), path), planCut(map, { kind: 'full' }, path), 'dropping none keeps all');
  t.same(planCut(map, { kind: 'full' }, path).midTurn, { turnId: 'T3' }, 'the open last turn');
  t.same(planCut(map, cut('last', 1), path), { start: map.tasks[2].at, end: lines.length, turns: 1, midTurn: { turnId: 'T3' } });
  t.same(planCut(map, cut('last', 3), path).start, map.tasks[0].at, 'the last turns start at their first turn');
  t.throws(() => planCut(map, { kind: 'after', turnId: 'T9' }, path), /no turn T9/);
  t.throws(() => planCut(map, cut('keep', 4), path), { message: '--keep-turns 4: the session has only 3 turns', where: { file: path } });
  t.throws(() => planCut(map, cut('last', 4), path), { message: '--last-turns 4: the session has only 3 turns', where: { file: path } });
  t.throws(() => planCut(map, cut('drop', 3), path), { message: "--drop-turns 3 keeps none of the session's 3 turns", where: { file: path } });
  t.ok(map.before.get(map.tasks[1].at)!.end > 0, 'the place before each cut is known');
});

import t from 'tap';
import { generationOf, Normalizer, parseLine, peekTimestamp, peekType, quickCheck, timestampEnd, typeFilter, typeOf } from '../../lib/core/record.js';

const b = (s: string) => Buffer.from(s);

t.test('peekType reads the canonical envelope prefix without parsing', async (t) => {
  t.same(peekType(b('{"timestamp":"2026-08-20T14:03:21.905Z","type":"event_msg","payload":{"type":"task_started","turn_id":"x"}}')), {
    type: 'event_msg',
    payloadType: 'task_started',
  });
  t.same(peekType(b('{"timestamp":"2026-08-21T09:12:40.121Z","ordinal":17,"type":"response_item","payload":{"type":"message"}}')), {
    type: 'response_item',
    payloadType: 'message',
  });
  t.same(peekType(b('{"timestamp":"t","type":"session_meta","payload":{"id":"x"}}')), { type: 'session_meta' });
  t.equal(peekType(b('{ "timestamp": "t", "type": "event_msg", "payload": {} }')), null, 'another shape: no answer');
  t.equal(peekType(b('{"timestamp":"t","type":"ev\\u0065nt_msg","payload":{}}')), null, 'escapes: no answer');
  t.equal(peekType(b('{"id":"x","timestamp":"t"}')), null);
});

t.test('typeOf falls back to parsing; lines that are not envelopes have no type', async (t) => {
  t.same(typeOf(b('{ "timestamp": "t", "type": "event_msg", "payload": {"type": "token_count"} }')), { type: 'event_msg', payloadType: 'token_count' });
  t.same(typeOf(b('{"type":"message","role":"user"}')), {});
  t.same(typeOf(b('not json')), {});
});

t.test('typeFilter keeps by type and by type:payload_type', async (t) => {
  const token = b('{"timestamp":"t","type":"event_msg","payload":{"type":"token_count"}}');
  const meta = b('{"timestamp":"t","type":"session_meta","payload":{"id":"x"}}');
  const spaced = b('{"timestamp": "t", "type": "event_msg", "payload": {"type": "token_count"}}');
  t.equal(typeFilter([]), null);
  const events = typeFilter(['event_msg'])!;
  t.same([events(token), events(meta), events(spaced)], [true, false, true]);
  const tokens = typeFilter(['event_msg:token_count', 'session_meta'])!;
  t.same([tokens(token), tokens(meta), tokens(b('{"timestamp":"t","type":"event_msg","payload":{"type":"task_started"}}'))], [true, true, false]);
  t.equal(events(b('garbage')), false);
});

t.test('quickCheck: UTF-8 and object shape', async (t) => {
  t.equal(quickCheck(b('{"a":1}')), null);
  t.equal(quickCheck(b('  {"a":1}\t')), null);
  t.equal(quickCheck(Buffer.from([0x7b, 0xff, 0x7d])), 'utf8');
  t.equal(quickCheck(b('[1,2]')), 'json');
  t.equal(quickCheck(b('{"a":')), 'json');
});

t.test('parseLine never throws', async (t) => {
  t.same(parseLine(b('{"a":[1]}')), { a: [1] });
  t.equal(parseLine(b('{"a":')), undefined);
  t.equal(parseLine(Buffer.from([0x22, 0xc3, 0x22])), undefined, 'truncated UTF-8');
});

t.test('generations from the first record and the name form', async (t) => {
  const meta = { timestamp: 't', type: 'session_meta', payload: { id: 'x', history_mode: 'legacy' } };
  t.equal(generationOf(meta, 'nested'), 'D');
  t.equal(generationOf({ ...meta, payload: { id: 'x', history_mode: 'paginated' } }, 'nested'), 'E');
  t.equal(generationOf({ ...meta, ordinal: 0 }, 'nested'), 'E');
  t.equal(generationOf({ session: { id: 'x' }, items: [] }, 'json'), '0');
  t.equal(generationOf({ id: 'x', timestamp: '2025-05-08T10:00:00Z' }, 'flat-date'), 'A');
  t.equal(generationOf({ id: 'x', timestamp: '2025-06-08T10:00:00Z' }, 'flat'), 'B');
  t.equal(generationOf({ id: 'x', timestamp: '2025-08-08T10:00:00Z' }, 'nested'), 'C');
  t.equal(generationOf({ id: 'x', timestamp: 't', git: {} }, 'flat'), 'C');
  t.equal(generationOf('text', 'nested'), null);
});

t.test('the Normalizer wraps bare lines in envelopes and drops state lines', async (t) => {
  const n = new Normalizer();
  const meta = n.convert({ id: 'abc', timestamp: '2025-08-01T10:00:00Z', instructions: null, git: { branch: 'main' } });
  t.same(JSON.parse(meta[0]), {
    timestamp: '2025-08-01T10:00:00.000Z',
    type: 'session_meta',
    payload: { id: 'abc', timestamp: '2025-08-01T10:00:00Z', instructions: null, git: { branch: 'main' } },
  });
  t.same(n.convert({ record_type: 'state' }), []);
  t.same(JSON.parse(n.convert({ type: 'message', role: 'user', content: [] })[0]), {
    timestamp: '2025-08-01T10:00:00.000Z',
    type: 'response_item',
    payload: { type: 'message', role: 'user', content: [] },
  });
});

t.test('the Normalizer turns a generation-0 document into a meta and items', async (t) => {
  const out = new Normalizer().convert({
    session: { id: 'd0', timestamp: '2025-04-20T10:00:00.000Z', instructions: '' },
    items: [{ type: 'message', role: 'user', content: [] }, 'junk'],
  });
  t.same(
    out.map((l) => JSON.parse(l).type),
    ['session_meta', 'response_item'],
  );
});

t.test('the line time prefix: one reader for every binary', async (t) => {
  const line = (s: string) => Buffer.from(s);
  t.equal(peekTimestamp(line('{"timestamp":"2026-08-20T14:03:07.391Z","type":"event_msg","payload":{}}')), '2026-08-20T14:03:07.391Z');
  t.equal(timestampEnd(line('{"timestamp":"2026-08-20T14:03:07.391Z","type":"x"}')), 39, 'just past the closing quote');
  t.equal(peekTimestamp(line('{"timestamp": "2026-08-20T14:03:07.391Z"}')), null, 'spaced JSON is another shape: parse it');
  t.equal(peekTimestamp(line('{"type":"x","timestamp":"2026-08-20T14:03:07.391Z"}')), null, 'so is another key order');
  t.equal(peekTimestamp(line('{"timestamp":"' + 'x'.repeat(100) + '"}')), null, 'no timestamp is that long');
  t.equal(peekTimestamp(line('{"timestamp":"2026-08-20T14:03')), null, 'a torn line');
});

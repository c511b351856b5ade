// What a line's bytes are spent on, from its bytes alone, must agree with what parsing it says.
import t from 'tap';
import { imageBytes, kindOf, turnItemType } from '../../lib/core/kinds.js';
import { peekType } from '../../lib/core/record.js';

const line = (type: string, payload: unknown, ordinal?: number) =>
  Buffer.from(JSON.stringify({ timestamp: '2026-08-20T14:03:21.904Z', ...(ordinal === undefined ? {} : { ordinal }), type, payload }));
const png = (n: number) => `data:image/png;base64,${Buffer.alloc(n, 'pixels').toString('base64')}`;
const kind = (b: Buffer) => {
  const info = peekType(b);
  return kindOf(info, info?.payloadType === 'item_completed' ? turnItemType(b) : null);
};

t.test('each data URL counts, from data: to the end of its base64, wherever it sits', async (t) => {
  const a = png(3000);
  const b = png(10).replace('png', 'jpeg');
  const msg = line('response_item', {
    type: 'message',
    role: 'user',
    content: [
      { type: 'input_image', image_url: a },
      { type: 'input_text', text: 'x' },
    ],
  });
  t.equal(imageBytes(msg), a.length);
  const two = line('event_msg', { type: 'user_message', message: 'see', images: [a, b] });
  t.equal(imageBytes(two), a.length + b.length);
  // A data URL inside a string inside a string (a tool's JSON output, escaped) ends at its escaped quote.
  const nested = line('response_item', { type: 'function_call_output', call_id: 'c', output: JSON.stringify({ image: a, more: 'text' }) });
  t.equal(imageBytes(nested), a.length);
  t.equal(
    imageBytes(line('response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'no picture; base64, data:image/ words' }] })),
    0,
  );
  t.equal(imageBytes(Buffer.from(`{"x":"data:image/svg+xml;utf8,<svg/>"}`)), 0, 'not base64: not counted');
  t.equal(imageBytes(Buffer.from(`{"x":"data:image/${'y'.repeat(80)};base64,AAAA"}`)), 0, 'no media type that long');
  t.equal(imageBytes(Buffer.from(`{"x":"data:image/png;base64,AAAA`)), 'data:image/png;base64,AAAA'.length, 'cut off: to the end of the line');
});

t.test('a generated image counts by its base64 result', async (t) => {
  const raw = Buffer.alloc(900, 'gen').toString('base64');
  const b = line('response_item', { type: 'image_generation_call', id: 'ig_1', status: 'completed', result: raw });
  t.equal(imageBytes(b, peekType(b)), raw.length);
  const url = png(40);
  const asUrl = line('event_msg', { type: 'image_generation_end', call_id: 'c', status: 'completed', result: url });
  t.equal(imageBytes(asUrl, peekType(asUrl)), url.length, 'a data URL result counts once');
});

t.test('kinds by record type', async (t) => {
  const cases: Array<[Buffer, string]> = [
    [line('response_item', { type: 'function_call_output', call_id: 'c', output: 'ok' }), 'tool_output'],
    [line('response_item', { type: 'custom_tool_call_output', call_id: 'c', output: 'ok' }, 4), 'tool_output'],
    [line('response_item', { type: 'reasoning', summary: [], content: null, encrypted_content: 'gAAAA' }), 'reasoning'],
    [line('response_item', { type: 'compaction', encrypted_content: 'gAAAA' }), 'compaction'],
    [line('compacted', { message: 's', replacement_history: [] }), 'compaction'],
    [line('event_msg', { type: 'exec_command_end', call_id: 'c', stdout: 'x' }), 'tool_output'],
    [line('event_msg', { type: 'agent_reasoning', text: 'hmm' }), 'reasoning'],
    [
      line('event_msg', { type: 'item_completed', thread_id: 't', turn_id: 'u', item: { type: 'CommandExecution', id: 'i', aggregated_output: 'x' } }, 9),
      'tool_output',
    ],
    [line('event_msg', { type: 'item_completed', thread_id: 't', turn_id: 'u', item: { type: 'Reasoning', id: 'i' } }), 'reasoning'],
    [line('event_msg', { type: 'item_completed', thread_id: 't', turn_id: 'u', item: { type: 'UserMessage', id: 'i', content: [] } }), 'other'],
    [line('response_item', { type: 'message', role: 'user', content: [] }), 'other'],
    [line('session_meta', { id: 'x' }), 'other'],
    [line('turn_context', { cwd: '/' }), 'other'],
    [Buffer.from('{"type":"response_item","timestamp":"x","payload":{"type":"reasoning"}}'), 'other'],
  ];
  for (const [b, want] of cases) t.equal(kind(b), want, b.toString().slice(0, 120));
  t.equal(kindOf(null), 'other');
  t.equal(kindOf({ type: 'response_item', payloadType: 'reasoning' }), 'reasoning', 'a bare line is told by its own type');
});

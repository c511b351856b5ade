// Reading members of a JSON line from its bytes must agree with JSON.parse, whatever the cut.
import t from 'tap';
import { memberValue, stringEnd, stringText, valueEnd, withoutMembers } from '../../lib/core/json-bytes.js';

const b = (v: unknown) => Buffer.from(JSON.stringify(v));

t.test('a member is found only where it is structure, never inside a string', async (t) => {
  const line = b({ type: 'x', note: 'say ,"output":"fake" and {"output":1}', output: 'real' });
  const v = memberValue(line, 'output');
  t.equal(JSON.parse(line.toString('utf8', v, stringEnd(line, v) + 1)), 'real');
  t.equal(memberValue(b({ other: 1 }), 'output'), -1);
});

t.test('strings end at their unescaped closing quote', async (t) => {
  for (const s of ['', 'plain', 'a "quoted" word', 'ends with a backslash \\', '\\"', 'é ✓ 😀', '\n\t\u0001']) {
    const line = b({ s, after: 1 });
    const v = memberValue(line, 's');
    t.equal(JSON.parse(line.toString('utf8', v, stringEnd(line, v) + 1)), s, JSON.stringify(s));
  }
  t.equal(stringEnd(Buffer.from('{"s":"cut off \\"'), 5), -1);
});

t.test('values of every kind are skipped whole', async (t) => {
  const values = [1, -2.5e3, true, null, 'x', { a: [1, { b: '}' }] }, [[], {}, '"]'], { text: 'long '.repeat(100) }];
  for (const value of values) {
    const line = b({ v: value, next: 'n' });
    const at = memberValue(line, 'v');
    t.same(JSON.parse(line.toString('utf8', at, valueEnd(line, at))), value, JSON.stringify(value).slice(0, 40));
  }
  t.equal(valueEnd(Buffer.from('{"v":{"a":"'), 5), -1);
});

t.test('dropping members leaves the rest of the line as it was', async (t) => {
  const full = {
    timestamp: 't',
    type: 'response_item',
    payload: { type: 'reasoning', summary: [{ type: 'summary_text', text: 'kept' }], content: null, encrypted_content: 'gAAAA'.repeat(50) },
  };
  const { content: _c, encrypted_content: _e, ...rest } = full.payload;
  t.same(JSON.parse(withoutMembers(b(full), ['encrypted_content', 'content']).toString()), { ...full, payload: rest });
  // First member (its comma follows it), every occurrence, nested ones.
  t.same(JSON.parse(withoutMembers(b({ big: 'x', a: 1 }), ['big']).toString()), { a: 1 });
  t.same(JSON.parse(withoutMembers(b({ only: 'x' }), ['only']).toString()), {});
  const msg = {
    content: [
      { type: 'input_image', image_url: 'data:image/png;base64,AAAA' },
      { type: 'input_text', text: 'hi' },
      { type: 'input_image', image_url: 'data:,' },
    ],
  };
  t.same(JSON.parse(withoutMembers(b(msg), ['image_url']).toString()), {
    content: [{ type: 'input_image' }, { type: 'input_text', text: 'hi' }, { type: 'input_image' }],
  });
  const none = b({ a: 1 });
  t.equal(withoutMembers(none, ['b']), none, 'the same buffer when there is nothing to drop');
});

t.test('head and tail of a long string decode whatever the cut splits', async (t) => {
  // Every cut position through escapes, multi-byte characters and surrogate pairs.
  const s = 'ab\\"c\ndé✓😀\u0001'.repeat(12);
  const line = b({ output: s });
  const v = memberValue(line, 'output');
  const end = stringEnd(line, v);
  t.equal(stringText(line, v, end, 1e6, 0), s, 'short enough: the whole string');
  const raw = end - v - 1;
  for (let head = 1; head < raw - 2; head++) {
    const tail = Math.max(1, raw - head - 7);
    const text = stringText(line, v, end, head, tail);
    t.ok(text !== null, `head ${head}`);
    const [h, tl] = text!.split('\n…\n');
    // A part of the string, never a mangled one: each piece is a prefix / suffix of the original.
    if (!s.startsWith(h) || !s.endsWith(tl)) t.fail(`head ${head}: ${JSON.stringify(h)} / ${JSON.stringify(tl)}`);
  }
  t.end();
});

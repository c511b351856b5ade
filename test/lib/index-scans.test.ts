// Documents cross from the reading thread to the writing one packed: nothing may change on the way.
import t from 'tap';
import { pack, unpack } from '../../lib/index/scans.js';
import type { Doc } from '../../lib/index/scan.js';

t.test('packed documents come back as they went, texts as their UTF-8 bytes', async (t) => {
  const docs: Doc[] = [
    { text: 'plain', role: 'user', line: 3, ordinal: null },
    { text: '', role: 'assistant', line: 4, ordinal: 0 },
    { text: 'Grüße 🚀 naïve — 中文', role: 'reasoning', line: 5, ordinal: 9_007_199_254_740_991 },
    { text: 'a\u0000b\nc', role: 'tool', line: 6, ordinal: 12 },
    { text: 'x'.repeat(100_000), role: 'output', line: 1e9, ordinal: null },
    { text: 'lone \ud800 surrogate', role: 'agent', line: 8, ordinal: 1 },
  ];
  const [packed, transfer] = pack(docs);
  t.equal(transfer.length, 5, 'every array is transferred, not copied');
  const back = [...unpack(structuredClone(packed, { transfer }))];
  t.same(
    back.map((d) => ({ ...d, text: Buffer.from(d.text as Uint8Array).toString('utf8') })),
    docs.map((d) => ({ ...d, text: Buffer.from(d.text, 'utf8').toString('utf8') })),
  );
  t.equal(packed.texts.byteLength, 0, 'the sender no longer holds the texts');
  t.equal(Buffer.from('still there').toString(), 'still there', "Buffer's shared pool was not transferred with them");
});

t.test('no documents pack to empty arrays', async (t) => {
  const [packed] = pack([]);
  t.same([...unpack(packed)], []);
});

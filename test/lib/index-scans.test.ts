// Documents cross from the reading thread to the writing one packed: nothing may change on the way.
import t from 'tap';
import { pack, unpack } from '../../lib/index/scans.js';
import { RolloutError } from '../../lib/cli/errors.js';
import { unreadable, type Doc } from '../../lib/index/scan.js';

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

t.test('a file that cannot be read is listed without contents; a failing index stops the run', async (t) => {
  t.equal(unreadable(new RolloutError('corrupt zstd data (bad frame)', { file: '/x' })), 'corrupt zstd data (bad frame)');
  const missing = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), { code: 'ENOENT' });
  t.equal(unreadable(missing), "no such file or directory, open '/x'");
  t.equal(unreadable(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })), null);
  t.equal(unreadable(Object.assign(new TypeError('bad'), { code: 'ERR_INVALID_ARG_TYPE' })), null);
  t.equal(unreadable(new TypeError('a bug')), null);
});

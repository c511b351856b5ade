import assert from 'node:assert/strict';
import fc from 'fast-check';
import t from 'tap';
import { lineBatches, newStats, type Line } from '../../lib/core/lines.js';

async function* chunked(bytes: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes.length ? sizes[i % sizes.length] : bytes.length);
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

/** The same chunks, each copied into one buffer that is overwritten by the next (a transient source). */
async function* reusing(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const shared = Buffer.alloc(64);
  for await (const c of chunks) {
    c.copy(shared);
    yield shared.subarray(0, c.length);
    shared.fill(0x21);
  }
}

async function collect(bytes: Buffer, sizes: number[] = [], transient = false, reused = transient) {
  const stats = newStats();
  const out: Line[] = [];
  const source = reused ? reusing(chunked(bytes, sizes)) : chunked(bytes, sizes);
  for await (const batch of lineBatches(source, stats, { transient })) {
    // A batch's span, when it has one, is exactly its lines from spanFirst on, newline-terminated.
    if (batch.span) {
      const joined = Buffer.concat(batch.slice(batch.spanFirst).flatMap((l) => [l.bytes, Buffer.from('\n')]));
      assert.ok(joined.equals(batch.span), 'span matches its lines');
    }
    for (const l of batch) out.push({ ...l, bytes: Buffer.from(l.bytes) });
  }
  return { out, stats };
}

/** The obvious splitter the real one must agree with. */
function naive(bytes: Buffer) {
  let body = bytes;
  let base = 0;
  if (body.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))) {
    body = body.subarray(3);
    base = 3;
  }
  const result: { text: Buffer; no: number; offset: number }[] = [];
  let start = 0;
  let no = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== 0x0a) continue;
    no++;
    let text = body.subarray(start, i);
    if (text.length && text[text.length - 1] === 0x0d) text = text.subarray(0, -1);
    if (!/^[ \t\r]*$/.test(text.toString('latin1'))) result.push({ text, no, offset: base + start });
    start = i + 1;
  }
  const rest = body.subarray(start);
  const torn = /^[ \t\r]*$/.test(rest.toString('latin1')) ? null : rest;
  return { result, torn };
}

t.test('splits on newlines and numbers lines as sed does', async (t) => {
  const { out, stats } = await collect(Buffer.from('{"a":1}\n\n{"b":2}\n'));
  t.same(
    out.map((l) => [l.bytes.toString(), l.no, l.offset, l.end]),
    [
      ['{"a":1}', 1, 0, 8],
      ['{"b":2}', 3, 9, 17],
    ],
  );
  t.equal(stats.blank, 1);
  t.equal(stats.torn, null);
  t.equal(stats.bytes, 17);
});

t.test('a leading BOM is dropped but offsets stay true to the file', async (t) => {
  const { out, stats } = await collect(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n')]));
  t.equal(out[0].bytes.toString(), '{"a":1}');
  t.equal(out[0].offset, 3);
  t.ok(stats.bom);
});

t.test('CRLF ends a line like LF', async (t) => {
  const { out, stats } = await collect(Buffer.from('{"a":1}\r\n{"b":2}\r\n'), [3]);
  t.same(
    out.map((l) => l.bytes.toString()),
    ['{"a":1}', '{"b":2}'],
  );
  t.equal(stats.crlf, 2);
});

t.test('a last line without newline is torn, not yielded', async (t) => {
  const { out, stats } = await collect(Buffer.from('{"a":1}\n{"b":'), [4]);
  t.equal(out.length, 1);
  t.same(stats.torn && { no: stats.torn.no, offset: stats.torn.offset, text: stats.torn.bytes.toString() }, { no: 2, offset: 8, text: '{"b":' });
});

t.test('trailing whitespace without newline is not a torn line', async (t) => {
  const { stats } = await collect(Buffer.from('{"a":1}\n  '));
  t.equal(stats.torn, null);
});

t.test('a line spanning many chunks arrives whole', async (t) => {
  const long = 'x'.repeat(5_000_000);
  const { out } = await collect(Buffer.from(`{"a":"${long}"}\n{"b":1}\n`), [65_536]);
  t.equal(out[0].bytes.length, long.length + 8);
  t.equal(out[1].offset, long.length + 9);
});

t.test('reading from the middle continues offsets and line numbers', async (t) => {
  const stats = newStats();
  const got: Line[] = [];
  async function* one() {
    yield Buffer.from('{"c":3}\n');
  }
  for await (const b of lineBatches(one(), stats, { startOffset: 100, startLine: 7 })) got.push(...b);
  t.same([got[0].no, got[0].offset, got[0].end], [8, 100, 108]);
});

t.test('agrees with a naive splitter on random bytes cut into random chunks', async (t) => {
  const alphabet = fc.constantFrom(0x0a, 0x0d, 0x20, 0x7b, 0x7d, 0x61, 0xef, 0xbb, 0xbf, 0x00, 0xff);
  const input = fc.tuple(fc.boolean(), fc.array(alphabet, { maxLength: 400 })).map(([bom, bytes]) => Buffer.from(bom ? [0xef, 0xbb, 0xbf, ...bytes] : bytes));
  await fc.assert(
    fc.asyncProperty(
      input,
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
      fc.boolean(),
      fc.boolean(),
      async (bytes, sizes, transient, reused) => {
        const expected = naive(bytes);
        // A source may reuse its buffer whether or not the caller says so.
        const { out, stats } = await collect(bytes, sizes, transient, reused || transient);
        assert.deepStrictEqual(
          out.map((l) => [l.bytes.toString('hex'), l.no, l.offset]),
          expected.result.map((l) => [l.text.toString('hex'), l.no, l.offset]),
        );
        assert.equal(stats.torn?.bytes.toString('hex') ?? null, expected.torn?.toString('hex') ?? null);
      },
    ),
    { numRuns: 500 },
  );
  t.pass('500 random streams, some from a source that reuses its buffer, split like the reference');
});

// Writing into a home: the whole file or nothing, never an overwrite when asked not to, no stray temp.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { inBlocks, mtimeOf, prepareAtomic, writeAtomic } from '../../lib/fs/atomic.js';
import { tmpDir } from '../helpers/fixtures.js';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield Buffer.from(p);
}

t.test('bytes or a stream of chunks, into a directory made on the way', async (t) => {
  const dir = tmpDir(t);
  const a = join(dir, 'new/deeper/a.jsonl');
  t.equal(await writeAtomic(a, Buffer.from('{"x":1}\n')), 8);
  t.equal(readFileSync(a, 'utf8'), '{"x":1}\n');
  const b = join(dir, 'b.jsonl');
  t.equal(await writeAtomic(b, chunks('one\n', '', 'two\n'), { durable: false }), 8);
  t.equal(readFileSync(b, 'utf8'), 'one\ntwo\n');
  t.equal(await writeAtomic(b, chunks('three\n')), 6, 'replaces by default');
  t.equal(readFileSync(b, 'utf8'), 'three\n');
  t.same(readdirSync(dir).sort(), ['b.jsonl', 'new'], 'no temp file left behind');
});

t.test('mode and mtime are set before the file appears', async (t) => {
  const dir = tmpDir(t);
  const path = join(dir, 'm.jsonl');
  const mtime = new Date('2026-01-02T03:04:05Z');
  await writeAtomic(path, Buffer.from('x\n'), { mode: 0o600, mtime });
  const st = statSync(path);
  t.equal(st.mode & 0o777, 0o600);
  t.equal(st.mtimeMs, mtime.getTime());
});

t.test("a file's own mtime (mtimeOf) is kept to the microsecond, whatever its nanoseconds", async (t) => {
  const dir = tmpDir(t);
  const theirs = join(dir, 'theirs.jsonl');
  writeFileSync(theirs, 'x\n');
  const micros = (p: string) => statSync(p, { bigint: true }).mtimeNs / 1000n;
  // Times whose double of milliseconds lies just below the microsecond they are in: passing
  // Stats.mtimeMs on would lose one.
  for (const [i, us] of [1796248832270999n, 1796325889739840n, 1767323045000000n, 1796248832000001n].entries()) {
    execFileSync('touch', ['-m', '-d', `@${us / 1_000_000n}.${String(us % 1_000_000n).padStart(6, '0')}123`, theirs]);
    t.equal(micros(theirs), us, `set up: ${us}`);
    const path = join(dir, `ours-${i}.jsonl`);
    await writeAtomic(path, Buffer.from('y\n'), { mtime: mtimeOf(theirs) });
    t.equal(micros(path), us, `${us} microseconds kept`);
  }
});

t.test('exclusive never overwrites, and a failed write leaves nothing', async (t) => {
  const dir = tmpDir(t);
  const path = join(dir, 'x.jsonl');
  writeFileSync(path, 'theirs\n');
  await t.rejects(writeAtomic(path, Buffer.from('ours\n'), { exclusive: true }), /already exists; not overwritten/);
  t.equal(readFileSync(path, 'utf8'), 'theirs\n');
  async function* broken(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('half');
    throw new Error('source failed');
  }
  const other = join(dir, 'y.jsonl');
  await t.rejects(writeAtomic(other, broken()), /source failed/);
  t.same(readdirSync(dir), ['x.jsonl'], 'neither the file nor its temp');
});

t.test('a file larger than one early flush, synced ahead by its writer, lands whole under its name', async (t) => {
  const dir = tmpDir(t);
  const path = join(dir, 'big.jsonl');
  const block = Buffer.alloc(1 << 20, 0x61);
  async function* big(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 80; i++) yield block;
  }
  const prepared = await prepareAtomic(path, big(), { syncFolder: false });
  await prepared.sync();
  t.equal(await prepared.commit(), 80 << 20);
  t.equal(statSync(path).size, 80 << 20);
  t.same(readdirSync(dir), ['big.jsonl'], 'no temp file left behind');
});

t.test('temp names of one run never repeat, and an aborted write leaves nothing', async (t) => {
  const dir = tmpDir(t);
  const path = join(dir, 'a.jsonl');
  const held = await Promise.all([1, 2, 3].map(() => prepareAtomic(path, Buffer.from('x\n'))));
  t.equal(new Set(readdirSync(dir)).size, 3, 'three temp files side by side');
  for (const p of held) p.abort();
  t.same(readdirSync(dir), []);
});

t.test('inBlocks gathers pieces into blocks of about a megabyte, in order', async (t) => {
  async function* pieces(): AsyncGenerator<Uint8Array | string | readonly (Uint8Array | string)[]> {
    for (let i = 0; i < 3000; i++) yield `line ${i} ${'x'.repeat(500)}\n`;
    yield [Buffer.alloc(2 << 20, 0x61), 'tail'];
  }
  const out: Buffer[] = [];
  for await (const b of inBlocks(pieces())) out.push(Buffer.from(b));
  t.ok(out.every((b) => b.length <= 2 << 20));
  t.ok(out.length >= 3 && out.length <= 5, `${out.length} blocks`);
  const text = Buffer.concat(out).toString();
  t.ok(text.startsWith('line 0 '));
  t.ok(text.endsWith('a'.repeat(10) + 'tail'));
  t.equal(text.length, Array.from({ length: 3000 }, (_, i) => `line ${i} ${'x'.repeat(500)}\n`.length).reduce((a, b) => a + b) + (2 << 20) + 4);
});

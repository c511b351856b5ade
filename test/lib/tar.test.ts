// The tar writer and the strict reader, against GNU tar both ways: what we write GNU tar lists and
// extracts byte for byte, what GNU tar writes in pax format we read, and what a bundle must never
// hold (links, devices, FIFOs, paths that climb out) we refuse.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, linkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { badPath, BLOCK, fileHeader, readTar, writeTar, type TarInput } from '../../lib/bundle/tar.js';
import { tmpDir } from '../helpers/fixtures.js';

async function* of(...parts: Buffer[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield p;
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

/** Every member's path and bytes, as our reader gives them. */
async function readAll(chunks: AsyncIterable<Buffer>): Promise<Array<{ path: string; size: number; mtime: number; data: Buffer }>> {
  const out = [];
  for await (const m of readTar(chunks)) out.push({ path: m.path, size: m.size, mtime: m.mtime, data: await collect(m.data) });
  return out;
}

/** A stream cut into pieces of `n` bytes: the reader must not care where chunks end. */
async function* pieces(buf: Buffer, n: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < buf.length; at += n) yield buf.subarray(at, at + n);
}

const LONG = 'sessions/2026/01/02/rollout-2026-01-02T10-00-00-0199a213-81c0-7800-8aa1-bbab2a035a53_0199a213-81c0-7800-8aa1-bbab2a035a54.jsonl.zst';

function input(path: string, data: Buffer, mtime = 1_700_000_000): TarInput {
  return { path, size: data.length, mtime, data: () => of(data) };
}

const sample = (): Array<[string, Buffer]> => [
  ['manifest.json', Buffer.from('{"format":"x"}\n')],
  ['sessions/2026/01/02/a.jsonl', Buffer.alloc(BLOCK, 'a')],
  [LONG, Buffer.from('x'.repeat(1000))],
  ['archived_sessions/empty.jsonl', Buffer.alloc(0)],
  ['archived_sessions/ünïcode.jsonl', Buffer.from('héllo\n')],
];

const gnu = (args: string[], cwd?: string) => spawnSync('tar', args, { cwd, encoding: 'utf8' });

t.test('our writer: GNU tar lists and extracts every member, byte for byte, long and non-ASCII names too', async (t) => {
  const dir = tmpDir(t);
  const archive = await collect(writeTar(sample().map(([p, d]) => input(p, d))));
  t.equal(archive.length % BLOCK, 0);
  writeFileSync(join(dir, 'a.tar'), archive);
  const list = gnu(['-tvf', 'a.tar'], dir);
  t.equal(list.status, 0, list.stderr);
  t.equal(list.stderr, '', 'no warning from GNU tar');
  t.same(
    list.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/).slice(5).join(' ')),
    sample().map(([p]) => p),
  );
  t.match(list.stdout, /^-rw-r--r-- 0\/0 /m, 'mode 0644, uid and gid 0, no user or group names');
  mkdirSync(join(dir, 'out'));
  const x = gnu(['-xf', '../a.tar'], join(dir, 'out'));
  t.equal(x.status, 0, x.stderr);
  for (const [p, d] of sample()) t.same(readFileSync(join(dir, 'out', p)), d, p);
  t.same(
    await readAll(pieces(archive, 7)),
    sample().map(([path, data]) => ({ path, size: data.length, mtime: 1_700_000_000, data })),
    'and we read it back',
  );
});

t.test('our writer: the same members give the same bytes', async (t) => {
  const a = await collect(writeTar(sample().map(([p, d]) => input(p, d))));
  const b = await collect(writeTar(sample().map(([p, d]) => input(p, d))));
  t.equal(createHash('sha256').update(a).digest('hex'), createHash('sha256').update(b).digest('hex'));
});

t.test('our writer, compressed with zstd: tar --zstd lists it', async (t) => {
  const dir = tmpDir(t);
  writeFileSync(join(dir, 'a.tar'), await collect(writeTar(sample().map(([p, d]) => input(p, d)))));
  t.equal(spawnSync('zstd', ['-q', 'a.tar'], { cwd: dir }).status, 0);
  const list = gnu(['--zstd', '-tf', 'a.tar.zst'], dir);
  t.equal(list.status, 0, list.stderr);
  t.equal(list.stdout.trim().split('\n').length, sample().length);
});

t.test('our writer refuses a member whose data is not its size, before the end blocks', async (t) => {
  const grew: TarInput = { path: 'a', size: 3, mtime: 0, data: () => of(Buffer.from('abcd')) };
  await t.rejects(collect(writeTar([grew])), /grew while being written/);
  const shrank: TarInput = { path: 'a', size: 3, mtime: 0, data: () => of(Buffer.from('ab')) };
  await t.rejects(collect(writeTar([shrank])), /shrank while being written/);
  t.throws(() => fileHeader({ path: '../a', size: 0, mtime: 0 }), /'\.\.' component/);
});

t.test('GNU tar --format=pax: our reader reads its archives', async (t) => {
  const dir = tmpDir(t);
  const src = join(dir, 'src');
  for (const [p, d] of sample()) {
    mkdirSync(join(src, p, '..'), { recursive: true });
    writeFileSync(join(src, p), d);
  }
  const files = sample().map(([p]) => p);
  const c = gnu(['--format=pax', '-cf', '../g.tar', ...files], src);
  t.equal(c.status, 0, c.stderr);
  const got = await readAll(pieces(readFileSync(join(dir, 'g.tar')), 4096));
  t.same(
    got.map((m) => [m.path, m.data]),
    sample(),
  );
});

t.test("GNU tar's links, FIFOs, devices and directories: refused", async (t) => {
  const dir = tmpDir(t);
  writeFileSync(join(dir, 'f'), 'x');
  symlinkSync('f', join(dir, 'sym'));
  linkSync(join(dir, 'f'), join(dir, 'hard'));
  spawnSync('mkfifo', [join(dir, 'fifo')]);
  mkdirSync(join(dir, 'sub'));
  const cases: Array<[string[], RegExp]> = [
    [['sym'], /"sym" is a symbolic link/],
    [['f', 'hard'], /"hard" is a hard link/],
    [['fifo'], /"fifo" is a FIFO/],
    [['sub'], /"sub\/" is a directory/],
    [['/dev/null'], /is a character device/],
  ];
  for (const [files, re] of cases) {
    const r = spawnSync('tar', ['--format=pax', '-cf', '-', ...files], { cwd: dir });
    t.equal(r.status, 0, files.join(' '));
    await t.rejects(readAll(of(r.stdout)), re, files.join(' '));
  }
});

/** An archive whose one member's header says `path` (checksum made right), through our own header writer. */
function forged(path: string, mutate?: (h: Buffer) => void): Buffer {
  const h = fileHeader({ path: 'x'.repeat(path.length > 100 ? 100 : path.length), size: 1, mtime: 0 });
  h.fill(0, 0, 100);
  h.write(path, 0, 100, 'utf8');
  mutate?.(h);
  h.fill(0x20, 148, 156);
  const sum = h.reduce((a, b) => a + b, 0);
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return Buffer.concat([h, Buffer.alloc(BLOCK, 'a'), Buffer.alloc(BLOCK * 2)]);
}

t.test('hostile archives are refused with a reason', async (t) => {
  const good = await collect(writeTar([input('a/b', Buffer.from('hello'))]));
  t.same(
    (await readAll(of(good))).map((m) => m.path),
    ['a/b'],
  );
  const cases: Array<[string, Buffer, RegExp]> = [
    ['absolute path', forged('/etc/passwd'), /absolute path/],
    ['.. component', forged('sessions/../../x'), /'\.\.' component/],
    ['. component', forged('./x'), /'\.' component/],
    ['empty component', forged('a//b'), /empty or '\.' component/],
    ['a trailing slash', forged('a/'), /empty or '\.' component/],
    ['bad checksum', Buffer.concat([good.subarray(0, 10), Buffer.from('Z'), good.subarray(11)]), /checksum is wrong/],
    ['not ustar', forged('a', (h) => h.write('ustar  \0', 257, 8, 'latin1')), /not a POSIX/],
    ['GNU long name', forged('a', (h) => h.write('L', 156, 1, 'latin1')), /GNU long name/],
    ['empty stream', Buffer.alloc(0), /truncated \(it ends before its first header\)/],
    ['cut in a header', good.subarray(0, 300), /truncated/],
    ['cut in the data', good.subarray(0, BLOCK + 3), /truncated \(it ends in the data of "a\/b"\)/],
    ['cut in the padding', good.subarray(0, BLOCK + 100), /truncated \(it ends in the padding/],
    ['no end blocks', good.subarray(0, BLOCK * 2), /truncated \(it ends without its end blocks\)/],
    ['one end block', good.subarray(0, BLOCK * 3), /lone zero block|truncated/],
    ['a size beyond the data', forged('a', (h) => h.write('00000077777\0', 124, 12, 'ascii')), /truncated/],
    ['a size that is not a number', forged('a', (h) => h.write('zzzzzzzzzzz\0', 124, 12, 'ascii')), /size is not an octal number/],
    ['data after the end', Buffer.concat([good, Buffer.from('junk')]), /data after the end/],
  ];
  for (const [what, archive, re] of cases) await t.rejects(readAll(pieces(archive, 100)), re, what);
  t.same((await readAll(of(Buffer.concat([good, Buffer.alloc(10240)])))).length, 1, 'zero padding after the end is fine');
});

t.test('pax headers: a long path is read from the pax record; a global header may not set paths', async (t) => {
  const archive = await collect(writeTar([input(LONG, Buffer.from('z'))]));
  t.same(
    (await readAll(of(archive))).map((m) => m.path),
    [LONG],
  );
  const hostile = await collect(writeTar([input('a'.repeat(126), Buffer.from('z'))]));
  // Replace the pax path record by one that climbs out (same length keeps the record valid).
  const text = hostile.toString('latin1').replace('a'.repeat(126) + '\n', '../../' + 'a'.repeat(120) + '\n');
  await t.rejects(readAll(of(Buffer.from(text, 'latin1'))), /'\.\.' component/);
});

t.test('a member left unread is skipped; one read halfway is skipped past the rest', async (t) => {
  const archive = await collect(writeTar([input('a', Buffer.alloc(5000, 1)), input('b', Buffer.alloc(700, 2)), input('c', Buffer.from('c'))]));
  const seen: string[] = [];
  for await (const m of readTar(pieces(archive, 333))) {
    seen.push(m.path);
    if (m.path === 'b') for await (const _ of m.data) break;
    if (m.path === 'c') t.same(await collect(m.data), Buffer.from('c'));
  }
  t.same(seen, ['a', 'b', 'c']);
});

t.test('badPath', async (t) => {
  t.equal(badPath('sessions/2026/01/02/x.jsonl'), null);
  t.equal(badPath(''), 'an empty name');
  t.equal(badPath('a\0b'), 'a NUL byte in the name');
});

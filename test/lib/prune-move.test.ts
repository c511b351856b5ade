// lib/move.ts: the rename path, the copy path used across filesystems (tested directly: a test
// machine rarely has two filesystems at hand), and compression.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { compressFile, copyThenRemove, copyVerified, moveFile } from '../../lib/fs/move.js';
import { tmpDir } from '../helpers/fixtures.js';

function file(dir: string, name: string, bytes: Buffer | string, mode = 0o640): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  chmodSync(p, mode);
  const when = new Date('2026-03-04T05:06:07.891Z');
  utimesSync(p, when, when);
  return p;
}

t.test('moveFile renames, makes the folder, keeps mtime, never overwrites', async (t) => {
  const dir = tmpDir(t);
  const src = file(dir, 'a.jsonl', 'line\n');
  const dst = join(dir, 'x/y/a.jsonl');
  t.equal(await moveFile(src, dst), 'renamed');
  t.notOk(existsSync(src));
  t.equal(readFileSync(dst, 'utf8'), 'line\n');
  t.equal(statSync(dst).mtime.toISOString(), '2026-03-04T05:06:07.891Z');
  const other = file(dir, 'b.jsonl', 'other\n');
  await t.rejects(moveFile(other, dst), /already exists; not overwritten/);
  t.equal(readFileSync(dst, 'utf8'), 'line\n', 'the existing file is untouched');
  t.ok(existsSync(other), 'and the source stays');
});

t.test('copyThenRemove: the cross-filesystem move', async (t) => {
  const dir = tmpDir(t);
  const bytes = Buffer.concat([Buffer.from('{"a":1}\n'), Buffer.alloc(3 << 20, 0x61), Buffer.from('\n')]);
  const src = file(dir, 'big.jsonl', bytes);
  const dst = join(dir, 'other/big.jsonl');
  mkdirSync(join(dir, 'other'));
  await copyThenRemove(src, dst);
  t.notOk(existsSync(src), 'removed after the copy');
  t.same(readFileSync(dst), bytes, 'every byte');
  t.equal(statSync(dst).mode & 0o777, 0o640, 'mode kept');
  t.equal(statSync(dst).mtime.toISOString(), '2026-03-04T05:06:07.891Z', 'mtime kept');
  const again = file(dir, 'big.jsonl', 'different\n');
  await t.rejects(copyThenRemove(again, dst), /already exists and differs/);
  t.ok(existsSync(again), 'a refused copy removes nothing');
});

t.test('copyVerified: never overwrites; an identical copy already there is fine', async (t) => {
  const dir = tmpDir(t);
  const src = file(dir, 's.jsonl', 'same\n');
  const dst = join(dir, 'b/s.jsonl');
  const sha256 = createHash('sha256').update('same\n').digest('hex');
  t.same(await copyVerified(src, dst), { bytes: 5, sha256 });
  t.ok(existsSync(src), 'a copy leaves the source');
  t.equal(readFileSync(dst, 'utf8'), 'same\n');
  t.same(await copyVerified(src, dst), { bytes: 5, sha256 }, 'copying again finds the same bytes there');
  writeFileSync(src, 'changed\n');
  await t.rejects(copyVerified(src, dst), /already exists and differs/);
  t.equal(readFileSync(dst, 'utf8'), 'same\n');
});

t.test('compressFile: one frame, verified, mtime and mode kept, plain removed', async (t) => {
  const dir = tmpDir(t);
  const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => `{"timestamp":"2026-01-01T00:00:00.000Z","n":${i}}\n`).join(''));
  const src = file(dir, 'rollout.jsonl', bytes, 0o600);
  const z = await compressFile(src);
  t.equal(z.path, src + '.zst');
  t.notOk(existsSync(src));
  t.equal(z.bytes, statSync(z.path).size);
  t.ok(z.bytes < bytes.length / 5, 'it is smaller');
  t.same(spawnSync('zstd', ['-dc', z.path]).stdout, bytes, 'the zstd CLI reads back the same bytes');
  t.equal(statSync(z.path).mode & 0o777, 0o600);
  t.equal(statSync(z.path).mtime.toISOString(), '2026-03-04T05:06:07.891Z');
  const list = spawnSync('zstd', ['-lv', z.path]).stdout.toString();
  t.match(list, /# Zstandard Frames: 1/, 'a single frame');

  // A stale .zst beside a plain file (ignored by readers: unreadable, or a prefix) is replaced.
  for (const stale of [Buffer.from('not zstd'), spawnSync('zstd', ['-c'], { input: bytes.subarray(0, 1000) }).stdout]) {
    const again = file(dir, 'two.jsonl', bytes);
    writeFileSync(again + '.zst', stale);
    await compressFile(again);
    t.same(spawnSync('zstd', ['-dc', again + '.zst']).stdout, bytes);
  }
  // One that holds more than the plain file is not: those bytes exist nowhere else.
  const longer = spawnSync('zstd', ['-c'], { input: Buffer.concat([bytes, Buffer.from('{"more":1}\n')]) }).stdout;
  const behind = file(dir, 'three.jsonl', bytes);
  writeFileSync(behind + '.zst', longer);
  await t.rejects(compressFile(behind), /holds bytes the plain file lacks; nothing compressed/);
  t.same(readFileSync(behind + '.zst'), longer, 'the .zst is untouched');
  t.ok(existsSync(behind), 'and the plain file stays');
});

// Digests and stream comparison: what every copy, compression and backup is proven with.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { compareStreams, digest, digestFile, sameDigest } from '../../lib/core/verify.js';
import { tmpDir } from '../helpers/fixtures.js';

t.test('compareStreams', async (t) => {
  async function* chunks(...parts: string[]) {
    for (const p of parts) yield Buffer.from(p);
  }
  t.same(await compareStreams(chunks('ab', 'cdef'), chunks('abc', 'de', 'f')), { same: true, at: 6 });
  t.same(await compareStreams(chunks('abcdef', 'gh'), chunks('abc')), { same: false, at: 3, longer: 'a', aLength: 8, bLength: 3 });
  t.same(await compareStreams(chunks('ab'), chunks('a', 'bcd')), { same: false, at: 2, longer: 'b', aLength: 2, bLength: 4 });
  t.same(await compareStreams(chunks('abXd'), chunks('ab', 'cd')), { same: false, at: 2 });
  t.same(await compareStreams(chunks(), chunks()), { same: true, at: 0 });
});

t.test('digest: size and SHA-256 of a stream, of a file; sameDigest compares both', async (t) => {
  async function* chunks(...parts: string[]) {
    for (const p of parts) yield Buffer.from(p);
  }
  const abc = { bytes: 3, sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' };
  t.same(await digest(chunks('a', 'bc')), abc, 'the known SHA-256 of "abc", whatever the chunks');
  const file = join(tmpDir(t), 'f');
  writeFileSync(file, 'abc');
  t.same(await digestFile(file), abc);
  t.ok(sameDigest(abc, { ...abc }));
  t.notOk(sameDigest(abc, { ...abc, bytes: 4 }), 'a size that differs is a difference');
});

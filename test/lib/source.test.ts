import t from 'tap';
import { openSource } from '../../lib/core/source.js';
import { looksLikeZstd } from '../../lib/core/zstd.js';
import { skippableFrame, tmpDir, writeRaw, zstd } from '../helpers/fixtures.js';

async function slurp(path: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of openSource(path)) parts.push(c);
  return Buffer.concat(parts);
}

const body = Buffer.from(Array.from({ length: 5000 }, (_, i) => `{"n":${i}}\n`).join(''));

for (const decoder of ['native', 'js']) {
  t.test(`zstd (${decoder}): several frames and skippable frames decode to the original`, async (t) => {
    const old = process.env.ROLLOUT_ZSTD;
    process.env.ROLLOUT_ZSTD = decoder === 'js' ? 'js' : '';
    t.teardown(() => {
      process.env.ROLLOUT_ZSTD = old;
    });
    const dir = tmpDir(t);
    const multi = writeRaw(dir, 'a.jsonl.zst', Buffer.concat([skippableFrame(Buffer.from('meta')), zstd(body, 3), skippableFrame(Buffer.alloc(10))]));
    t.ok((await slurp(multi)).equals(body));
    const plain = writeRaw(dir, 'b.jsonl', body);
    t.ok((await slurp(plain)).equals(body), 'plain files pass through');
    const broken = writeRaw(dir, 'c.jsonl.zst', zstd(body).subarray(0, 200));
    await t.rejects(slurp(broken), /corrupt zstd data/);
    const garbage = writeRaw(dir, 'd.jsonl.zst', Buffer.concat([zstd(body).subarray(0, 12), Buffer.alloc(100, 0x41)]));
    await t.rejects(slurp(garbage), /corrupt zstd data/);
  });
}

t.test('zstd is recognized by content, skippable frames included', async (t) => {
  t.ok(looksLikeZstd(zstd(Buffer.from('x'))));
  t.ok(looksLikeZstd(skippableFrame(Buffer.from('x'))));
  t.notOk(looksLikeZstd(Buffer.from('{"a"')));
  t.notOk(looksLikeZstd(Buffer.from('{')));
});

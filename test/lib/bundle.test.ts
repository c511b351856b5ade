// A bundle written where its manifest can be amended (-o FILE, not compressed) reads each file once:
// the plan only sizes the files, the archive takes their digests, and the manifest written over its
// placeholder at the end makes the very bytes of a bundle planned with digests first.
import { appendFileSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { bundleBytes, planBundle, type Plan } from '../../lib/bundle/bundle.js';
import { checkBundle } from '../../lib/bundle/check.js';
import { writeAtomic } from '../../lib/fs/atomic.js';
import { codexHome } from '../../lib/home/paths.js';
import { tmpDir, writeSession } from '../helpers/fixtures.js';

function home(t: Parameters<typeof tmpDir>[0]) {
  const dir = tmpDir(t);
  const a = writeSession(dir, { start: new Date('2026-08-01T09:00:00Z'), turns: [{ user: 'one' }, { user: 'two' }] });
  const b = writeSession(dir, { start: new Date('2026-08-02T09:00:00Z'), turns: [{ user: 'three' }] }, { root: 'archived_sessions' });
  return { dir, a, b, index: join(dir, 'idx.sqlite') };
}

const plan = (h: ReturnType<typeof home>, hashAsWritten: boolean): Promise<Plan> =>
  planBundle(codexHome(h.dir), { filters: { archived: 'include' }, index: h.index, hashAsWritten }, (err) => {
    throw err;
  });

async function written(p: Plan, out: string): Promise<Buffer> {
  const { chunks, amend } = bundleBytes(p, false);
  await writeAtomic(out, chunks, { amend });
  return readFileSync(out);
}

t.test('hashed as written: no digest before the archive, the same bytes after it', async (t) => {
  const h = home(t);
  const late = await plan(h, true);
  t.ok(late.late, 'a home without a store is planned late');
  t.ok(
    late.files.every((f) => f.sha256 === ''),
    'no file read yet',
  );
  const early = await plan(h, false);
  t.notOk(early.late);
  const dir = tmpDir(t);
  const lateBytes = await written(late, join(dir, 'late.tar'));
  t.same(lateBytes, await written(early, join(dir, 'early.tar')), 'byte for byte the bundle planned with digests');
  const m = await checkBundle(join(dir, 'late.tar'));
  t.equal(m.sessions.length, 2, 'and it checks whole');
});

t.test('hashed as written: a file that grew since the plan goes as it was sized, one that shrank stops the bundle', async (t) => {
  const h = home(t);
  const sizedBefore = readFileSync(h.a.path);
  const grown = await plan(h, true);
  appendFileSync(h.a.path, h.a.lines[1] + '\n');
  const out = join(tmpDir(t), 'g.tar');
  await written(grown, out);
  const m = await checkBundle(out);
  t.equal(m.sessions.flatMap((s) => s.files).find((f) => h.a.path.endsWith(f.path))!.size, sizedBefore.length, 'the bytes the plan sized');

  const shrunk = await plan(h, true);
  truncateSync(h.a.path, 10);
  const bad = join(tmpDir(t), 's.tar');
  await t.rejects(written(shrunk, bad), /changed while being bundled/);
  t.throws(() => readFileSync(bad), { code: 'ENOENT' }, 'and nothing takes the name');
});

t.test('a compressed bundle cannot be amended, so it is never planned late', async (t) => {
  const late = await plan(home(t), true);
  t.throws(() => bundleBytes(late, true), /cannot be amended/);
});

import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import t from 'tap';
import { codexHome, discover } from '../../lib/home/paths.js';
import { destinationReason, outsideReason, References, refuseReason, writerLockHeld } from '../../lib/fs/safety.js';
import { tmpDir, uuidv7 } from '../helpers/fixtures.js';
import { aged, DAY, holdWriterLock, MINUTE } from '../helpers/prune.js';

t.test('outsideReason: only rollout files in the roots, reached without a symlink', async (t) => {
  const dir = tmpDir(t);
  const home = codexHome(dir);
  const outside = tmpDir(t);
  const s = aged(dir, DAY);
  const a = aged(dir, DAY, {}, { root: 'archived_sessions' });
  t.equal(await outsideReason(home, s.path), null);
  t.equal(await outsideReason(home, a.path), null);
  const far = aged(outside, DAY);
  t.match(await outsideReason(home, far.path), /outside the sessions and archived_sessions/);
  t.match(await outsideReason(home, join(dir, 'config.toml')), /outside/);
  const odd = join(dirname(s.path), 'notes.jsonl');
  writeFileSync(odd, '{}\n');
  t.equal(await outsideReason(home, odd), 'not a rollout file name');
  const nested = join(dir, 'archived_sessions', '2026', basename(a.path));
  t.match(await outsideReason(home, nested), /outside/, 'archived_sessions is flat');

  mkdirSync(join(dir, 'sessions/2025/02'), { recursive: true });
  symlinkSync(dirname(far.path), join(dir, 'sessions/2025/02/03'));
  t.match(await outsideReason(home, join(dir, 'sessions/2025/02/03', basename(far.path))), /reached through a symlink \(.*sessions\/2025\/02\/03\)/);
  const link = join(dirname(s.path), `rollout-2026-01-01T00-00-00-${uuidv7()}.jsonl`);
  symlinkSync(far.path, link);
  t.match(await outsideReason(home, link), /reached through a symlink/);
  t.equal(await outsideReason(home, join(dirname(s.path), `rollout-2026-01-01T00-00-00-${uuidv7()}.jsonl`)), 'no longer exists');
  const dirNamed = join(dirname(s.path), `rollout-2026-01-01T00-00-00-${uuidv7()}.jsonl`);
  mkdirSync(dirNamed);
  t.equal(await outsideReason(home, dirNamed), 'not a regular file');
});

t.test('outsideReason: a home that is itself a symlink is fine (Codex canonicalizes it)', async (t) => {
  const real = tmpDir(t);
  const s = aged(real, DAY);
  const linked = join(tmpDir(t), 'home-link');
  symlinkSync(real, linked);
  const home = codexHome(linked);
  t.equal(await outsideReason(home, join(linked, s.path.slice(real.length))), null);
});

t.test('destinationReason', async (t) => {
  const dir = tmpDir(t);
  const home = codexHome(dir);
  t.equal(await destinationReason(home, join(dir, 'archived_sessions', 'rollout-x.jsonl')), null, 'a folder not made yet is fine');
  t.match(await destinationReason(home, join(dir, 'elsewhere', 'x.jsonl')), /outside/);
  const outside = tmpDir(t);
  symlinkSync(outside, join(dir, 'archived_sessions'));
  t.match(await destinationReason(home, join(dir, 'archived_sessions', 'rollout-x.jsonl')), /symlink/);
});

t.test('writerLockHeld: a held flock is a running writer; a leftover file is not; no file is not', async (t) => {
  const dir = tmpDir(t);
  const home = codexHome(dir);
  const id = uuidv7();
  t.equal(await writerLockHeld(home, id), false, 'no lock file');
  const lock = await holdWriterLock(dir, id);
  t.teardown(lock.release);
  t.equal(await writerLockHeld(home, id), true, 'held');
  t.equal(await writerLockHeld(home, uuidv7()), false, "another thread's lock is not this one's");
  await lock.release();
  t.equal(await writerLockHeld(home, id), false, 'a killed holder leaves an unlocked file');
});

t.test('refuseReason: grace, lock, changes since selection', async (t) => {
  const dir = tmpDir(t);
  const home = codexHome(dir);
  const s = aged(dir, 20 * MINUTE);
  const [file] = await discover(home);
  const now = Date.now();
  t.equal(await refuseReason(home, { id: s.id, files: [file] }, { graceMs: 10 * MINUTE, now }), null);
  t.match(await refuseReason(home, { id: s.id, files: [file] }, { graceMs: 30 * MINUTE, now }), /^modified within the grace period/);
  const lock = await holdWriterLock(dir, s.id);
  t.teardown(lock.release);
  t.equal(await refuseReason(home, { id: s.id, files: [file] }, { graceMs: 0, now }), 'open in a running Codex (its writer lock is held)');
  await lock.release();
  const later = new Date(now - 15 * MINUTE);
  utimesSync(s.path, later, later);
  t.match(await refuseReason(home, { id: s.id, files: [file] }, { graceMs: 0, now }), /^changed since it was selected/);
});

t.test('References: who reads whom through history_base', async (t) => {
  const dir = tmpDir(t);
  const home = codexHome(dir);
  const parent = aged(dir, 10 * DAY, { history: 'paginated' });
  const child = aged(dir, 9 * DAY, { history: 'paginated', meta: { history_base: { thread_id: parent.id, end_ordinal_exclusive: 3, end_byte_offset: 10 } } });
  const rev = uuidv7();
  // A revision of the child itself: the child reading its own older file is no outside reference.
  aged(
    dir,
    8 * DAY,
    { id: child.id, history: 'paginated', meta: { history_base: { thread_id: child.id, end_ordinal_exclusive: 3, end_byte_offset: 10 } } },
    { rolloutId: rev },
  );
  const all = await discover(home);
  const files = (id: string) => all.filter((f) => f.name.threadId === id);
  const refs = await References.scan(all, all);
  t.same(refs.readersOf({ id: parent.id, files: files(parent.id) }), [child.id]);
  t.same(refs.readersOf({ id: child.id, files: files(child.id) }), []);
  const none = await References.scan(all, []);
  t.same(none.readersOf({ id: parent.id, files: files(parent.id) }), [], 'nothing to protect, nothing read');
});

import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { codexHome, discover, fileAt, parseRolloutName, rootOf, stampTime } from '../../lib/home/paths.js';
import { tmpDir, writeRaw, writeSession } from '../helpers/fixtures.js';

const A = '0198c4d2-7a31-7c40-9b8e-2f4a61d0c5e7';
const B = '0198c8f1-0a11-7c3e-9d20-5b7e1f3a6c90';

t.test('CODEX_HOME: flag, then environment, then ~/.codex', async (t) => {
  t.equal(codexHome('/x').dir, '/x');
  t.equal(codexHome(undefined, { CODEX_HOME: '/y' }).sessions, '/y/sessions');
  t.match(codexHome(undefined, {}).dir, /\/\.codex$/);
});

t.test('every historical name form parses; others do not', async (t) => {
  t.same(parseRolloutName(`rollout-2026-08-20T16-03-07-${A}.jsonl`), {
    stamp: '2026-08-20T16-03-07',
    threadId: A,
    rolloutId: A,
    compressed: false,
    json: false,
  });
  t.same(parseRolloutName(`rollout-2026-08-20T16-03-07-${A}_${B}.jsonl.zst`), {
    stamp: '2026-08-20T16-03-07',
    threadId: A,
    rolloutId: B,
    compressed: true,
    json: false,
  });
  t.equal(parseRolloutName(`rollout-2025-05-08-${A}.jsonl`)?.stamp, '2025-05-08');
  t.equal(parseRolloutName(`rollout-2025-04-20-${A}.json`)?.json, true);
  t.equal(parseRolloutName(`rollout-2026-08-20T16-03-07-${A.toUpperCase()}.jsonl`)?.threadId, A, 'ids are lowercased');
  for (const bad of [
    `rollout-2026-08-20T16-03-07-${A}.jsonl.tmp`,
    `.rollout-2026-08-20T16-03-07-${A}.jsonl.rollout-ab12.tmp`,
    `x-${A}.jsonl`,
    `rollout-2026-08-20T16-03-07-${A}.json.zst`,
    'history.jsonl',
  ]) {
    t.equal(parseRolloutName(bad), null, bad);
  }
  t.equal(stampTime('2026-08-20T16-03-07'), Date.UTC(2026, 7, 20, 16, 3, 7));
});

t.test('discovery: both roots, every form, pairs, and nothing that is not a session', async (t) => {
  const home = tmpDir(t);
  const nested = writeSession(home, { start: new Date('2026-08-20T14:00:00Z'), turns: [{ user: 'hi' }] });
  const both = writeSession(home, { start: new Date('2026-08-21T14:00:00Z') }, { zst: true });
  const onlyZst = writeSession(home, { start: new Date('2026-08-22T14:00:00Z') }, { zst: 'only' });
  const archived = writeSession(home, { start: new Date('2026-08-19T14:00:00Z') }, { root: 'archived_sessions' });
  const flat = writeRaw(home, `sessions/rollout-2025-06-01T10-00-00-${A}.jsonl`, '{"id":"x","timestamp":"t"}\n');
  const json = writeRaw(home, `sessions/rollout-2025-04-20-${B}.json`, '{"session":{},"items":[]}');
  writeRaw(home, `sessions/2026/08/20/rollout-2026-08-20T10-00-00-${B}.jsonl.tmp`, 'x\n');
  writeRaw(home, 'sessions/2026/08/20/notes.jsonl', 'x\n');
  writeRaw(home, `sessions/2026/08/23/rollout-2026-08-23T10-00-00-${A}.jsonl`, '');
  writeRaw(home, `sessions/backup/rollout-2026-08-23T10-00-00-${A}.jsonl`, '{}\n');
  mkdirSync(join(home, 'elsewhere'));
  writeFileSync(join(home, 'elsewhere/target.jsonl'), '{}\n');
  symlinkSync(join(home, 'elsewhere/target.jsonl'), join(home, `sessions/2026/08/20/rollout-2026-08-20T11-00-00-${B}.jsonl`));

  const files = await discover(codexHome(home));
  t.same(
    files.map((f) => [f.path, f.root, f.form, f.compressed, f.files.length]),
    [
      [json, 'sessions', 'json', false, 1],
      [flat, 'sessions', 'flat', false, 1],
      [archived.path, 'archived_sessions', 'nested', false, 1],
      [nested.path, 'sessions', 'nested', false, 1],
      [both.path, 'sessions', 'nested', false, 2],
      [`${onlyZst.path}.zst`, 'sessions', 'nested', true, 1],
    ],
  );
  t.ok(files.every((f) => f.size > 0 && f.ino > 0 && f.mtimeMs > 0));
  t.same(
    (await discover(codexHome(home), { roots: ['archived_sessions'] })).map((f) => f.path),
    [archived.path],
  );
});

t.test('a missing home is an error that names it; a home without session folders is empty', async (t) => {
  await t.rejects(discover(codexHome('/nonexistent/rollout-home')), {
    message: /no such folder: no Codex home here/,
    where: { file: '/nonexistent/rollout-home' },
  });
  t.same(await discover(codexHome(tmpDir(t))), []);
});

t.test('rootOf and fileAt describe user-given paths', async (t) => {
  const home = tmpDir(t);
  const h = codexHome(home);
  const s = writeSession(home, {}, { zst: true });
  t.equal(rootOf(h, s.path), 'sessions');
  t.equal(rootOf(h, join(home, 'archived_sessions', 'x.jsonl')), 'archived_sessions');
  t.equal(rootOf(h, '/tmp/x.jsonl'), null);
  const f = await fileAt(h, s.path);
  t.same([f.form, f.files.length, f.name.threadId.length], ['nested', 2, 36]);
  const loose = writeRaw(home, '../loose.jsonl', '{}\n');
  t.equal((await fileAt(h, loose)).name.threadId, '', 'any readable file, ids from its contents');
});

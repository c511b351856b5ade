// The write side of lib/codex-state.ts, against Codex 0.169's real schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { deleteThreadRows, moveThreadRow, removeNameEntries } from '../../lib/codex/state.js';
import { codexHome } from '../../lib/home/paths.js';
import { tmpDir, uuidv7 } from '../helpers/fixtures.js';
import { historyDb, query, stateDb } from '../helpers/prune.js';

t.test('deleteThreadRows removes the thread and what hangs off it, nothing else', async (t) => {
  const dir = tmpDir(t);
  const home = codexHome(dir, {});
  const [a, b] = [uuidv7(), uuidv7()];
  const db = stateDb(dir, [
    { id: a, path: '/x/a.jsonl' },
    { id: b, path: '/x/b.jsonl' },
  ]);
  query(db, "INSERT INTO thread_dynamic_tools (thread_id, position, name, description, input_schema) VALUES (?, 0, 'n', 'd', '{}') RETURNING 1", a);
  query(db, "INSERT INTO thread_spawn_edges VALUES (?, ?, 'open') RETURNING 1", a, b);
  query(db, "INSERT INTO thread_spawn_edges VALUES (?, ?, 'open') RETURNING 1", b, uuidv7());
  const history = historyDb(dir, [a, b]);
  const removed = deleteThreadRows(home, a);
  t.equal(removed, 1 + 1 + 1 + 2 + 1 + 1, 'threads, tools, edge, two items, a turn, the projection state');
  t.same(
    query(db, 'SELECT id FROM threads').map((r) => r.id),
    [b],
  );
  t.same(query(db, 'SELECT count(*) AS n FROM thread_dynamic_tools')[0].n, 0);
  t.same(
    query(db, 'SELECT parent_thread_id AS p FROM thread_spawn_edges').map((r) => r.p),
    [b],
    "b's own edge stays",
  );
  t.same(
    query(history, 'SELECT DISTINCT thread_id AS id FROM thread_turns').map((r) => r.id),
    [b],
  );
  t.equal(deleteThreadRows(home, a), 0, 'a second time finds nothing');
  t.equal(deleteThreadRows(codexHome(tmpDir(t), {}), a), 0, 'no DBs, nothing to do');
});

t.test('moveThreadRow records archive and unarchive like Codex', async (t) => {
  const dir = tmpDir(t);
  const home = codexHome(dir, {});
  const id = uuidv7();
  const name = `rollout-2026-05-06T07-08-09-${id}.jsonl`;
  const db = stateDb(dir, [{ id, path: join(dir, 'sessions/2026/05/06', name) }]);
  const now = Date.parse('2026-11-22T10:00:00.123Z');
  const mtime = Date.parse('2026-05-06T07:30:00.456Z');
  t.ok(moveThreadRow(home, id, { rolloutPath: (old) => join(dir, 'archived_sessions', old.split('/').pop()!), archived: true, nowMs: now, mtimeMs: mtime }));
  let row = query(db, 'SELECT * FROM threads WHERE id = ?', id)[0];
  t.match(row, {
    rollout_path: join(dir, 'archived_sessions', name),
    archived: 1,
    archived_at: Math.floor(now / 1000),
    updated_at: Math.floor(mtime / 1000),
    updated_at_ms: mtime,
  });
  t.ok(moveThreadRow(home, id, { rolloutPath: () => join(dir, 'sessions/2026/05/06', name), archived: false, nowMs: now, mtimeMs: now }));
  row = query(db, 'SELECT * FROM threads WHERE id = ?', id)[0];
  t.match(row, { rollout_path: join(dir, 'sessions/2026/05/06', name), archived: 0, archived_at: null, updated_at_ms: now });
  t.notOk(moveThreadRow(home, uuidv7(), { rolloutPath: (p) => p, archived: true, nowMs: now, mtimeMs: now }), 'no row, nothing written');
});

t.test('removeNameEntries rewrites session_index.jsonl without the ids, keeping the rest as it was', async (t) => {
  const dir = tmpDir(t);
  const home = codexHome(dir, {});
  const [a, b] = [uuidv7(), uuidv7()];
  const path = join(dir, 'session_index.jsonl');
  const e = (id: string, n: string) => JSON.stringify({ id, thread_name: n, updated_at: '2026-01-01T00:00:00Z' });
  writeFileSync(path, [e(a, 'one'), e(b, 'two'), 'not json', e(a.toUpperCase(), 'three')].join('\n') + '\n' + e(b, 'torn'));
  t.equal(await removeNameEntries(home, new Set([a])), 2);
  t.equal(readFileSync(path, 'utf8'), [e(b, 'two'), 'not json'].join('\n') + '\n' + e(b, 'torn'), 'a half-written last entry is kept as far as it got');
  const before = readFileSync(path, 'utf8');
  t.equal(await removeNameEntries(home, new Set([uuidv7()])), 0);
  t.equal(readFileSync(path, 'utf8'), before, 'untouched when nothing matches');
});

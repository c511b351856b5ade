// The snapshot that lets a listing skip the walk: it must notice every change a full run would.
import { appendFileSync, mkdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import t from 'tap';
import { openIndex } from '../../lib/index/db.js';
import { distrust, readSnapshot, saveSnapshot, takeSnapshot, unchanged, withdrawSnapshot, type Snapshot } from '../../lib/index/fresh.js';
import { codexHome } from '../../lib/home/paths.js';
import { tmpDir, uuidv7, writeRaw, writeSession } from '../helpers/fixtures.js';

const past = new Date('2026-09-01T12:00:00Z');

/** Directories written just now cannot be vouched for (see RACY_MS); a test ages them. */
function age(...dirs: string[]): void {
  for (const d of dirs) utimesSync(d, past, past);
}

function setup(t: Parameters<typeof tmpDir>[0]) {
  const dir = tmpDir(t);
  const home = codexHome(dir);
  const a = writeSession(dir, { turns: [{ user: 'one' }], start: new Date('2026-08-01T10:00:00Z') }, { mtime: past });
  const b = writeSession(dir, { turns: [{ user: 'two' }], start: new Date('2026-08-02T10:00:00Z') }, { mtime: past });
  mkdirSync(home.archived, { recursive: true });
  const ageAll = () => age(dirname(a.path), dirname(b.path), dirname(dirname(a.path)), dirname(dirname(dirname(a.path))), home.sessions, home.archived);
  ageAll();
  return { dir, home, a, b, ageAll };
}

t.test('an untouched home is unchanged; reading files does not count as a change', async (t) => {
  const { home, a } = setup(t);
  const snap = takeSnapshot(home);
  t.ok(unchanged(snap, home));
  t.ok(unchanged(stored(t, snap), home), 'survives being stored in the index');
  writeFileSync('/dev/null', a.path);
  t.ok(unchanged(snap, home));
});

t.test('appends, new files, deletions, moves and names are all changes', async (t) => {
  const cases: Array<[string, (s: ReturnType<typeof setup>) => void]> = [
    [
      'an append (same directory times)',
      (s) => appendFileSync(s.a.path, '{"timestamp":"2026-08-01T10:05:00.000Z","type":"event_msg","payload":{"type":"task_started"}}\n'),
    ],
    ['a new session in a known day', (s) => writeRaw(s.dir, `sessions/2026/08/01/rollout-2026-08-01T11-00-00-${uuidv7()}.jsonl`, '{}\n')],
    ['a new day directory', (s) => mkdirSync(join(s.home.sessions, '2026/08/03'), { recursive: true })],
    ['a deleted session', (s) => rmSync(s.b.path)],
    ['an archive move', (s) => renameSync(s.a.path, join(s.home.archived, s.a.path.split('/').pop()!))],
    [
      'a renamed session (session_index.jsonl)',
      (s) => writeFileSync(join(s.dir, 'session_index.jsonl'), '{"id":"x","thread_name":"n","updated_at":"2026-09-01T00:00:00Z"}\n'),
    ],
    [
      'a mtime put back after a rewrite of the same size',
      (s) => {
        writeFileSync(s.b.path, Buffer.alloc(Buffer.byteLength(s.b.lines.join('\n') + '\n'), 0x20));
        utimesSync(s.b.path, past, past);
      },
    ],
  ];
  for (const [what, change] of cases) {
    const s = setup(t);
    const snap = takeSnapshot(s.home);
    t.ok(unchanged(snap, s.home), `${what}: unchanged before`);
    change(s);
    t.notOk(unchanged(snap, s.home), what);
  }
});

t.test('an empty file that fills up later, and a root that appears, are changes', async (t) => {
  const s = setup(t);
  const empty = join(dirname(s.a.path), `rollout-2026-08-01T12-00-00-${uuidv7()}.jsonl`);
  writeFileSync(empty, '');
  s.ageAll();
  rmSync(s.home.archived, { recursive: true });
  const snap = takeSnapshot(s.home);
  t.ok(unchanged(snap, s.home));
  appendFileSync(empty, '{}\n');
  t.notOk(unchanged(snap, s.home), 'the empty file grew');
  const again = takeSnapshot(s.home);
  mkdirSync(s.home.archived);
  t.notOk(unchanged(again, s.home), 'archived_sessions appeared');
});

t.test('a directory changed just now is never vouched for', async (t) => {
  const s = setup(t);
  writeRaw(s.dir, `sessions/2026/08/01/rollout-2026-08-01T11-00-00-${uuidv7()}.jsonl`, '{}\n');
  t.notOk(unchanged(takeSnapshot(s.home), s.home));
});

t.test('a snapshot of another home never matches', async (t) => {
  const s = setup(t);
  const other = setup(t);
  t.notOk(unchanged(takeSnapshot(s.home), other.home));
});

t.test('files beside subdirectories (a flat legacy rollout in sessions/) are checked as their own', async (t) => {
  const s = setup(t);
  const flat = writeRaw(s.dir, `sessions/rollout-2025-05-01-${uuidv7()}.json`, '{"session":{}}\n');
  const archived = writeRaw(s.dir, `archived_sessions/rollout-2026-08-01T09-00-00-${uuidv7()}.jsonl`, '{}\n');
  utimesSync(flat, past, past);
  utimesSync(archived, past, past);
  s.ageAll();
  const snap = takeSnapshot(s.home);
  t.ok(unchanged(snap, s.home));
  t.ok(unchanged(stored(t, snap), s.home), 'survives being stored in the index');
  for (const path of [flat, archived, s.a.path]) {
    const again = takeSnapshot(s.home);
    appendFileSync(path, ' ');
    t.notOk(unchanged(again, s.home), `an append to ${path.split('/').slice(-2).join('/')}`);
  }
});

t.test('a snapshot stored by an earlier version, or a damaged one, is not vouched for', async (t) => {
  const s = setup(t);
  const snap = takeSnapshot(s.home);
  const db = openIndex(join(s.dir, 'index.sqlite'), { create: true });
  t.teardown(() => db.close());
  saveSnapshot(db, snap);
  const back = readSnapshot(db)!;
  t.same({ ...back, dirs: [...back.dirs] }, snap, 'read back row by row as it was taken');
  t.equal(db.prepare('SELECT count(*) FROM snapshot').pluck().get(), snap.dirs.length, 'one row per directory');
  saveSnapshot(db, snap);
  t.equal(db.prepare('SELECT count(*) FROM snapshot').pluck().get(), snap.dirs.length, 'stored again, it replaces the rows');
  const value = db.prepare("SELECT value FROM meta WHERE key = 'snapshot'").pluck().get() as string;
  db.prepare("UPDATE meta SET value = ? WHERE key = 'snapshot'").run(JSON.stringify({ home: s.home.dir, entries: '', stats: '', dirs: [] }));
  t.equal(readSnapshot(db), null, 'the earlier shape, one JSON value');
  db.prepare("UPDATE meta SET value = '{' WHERE key = 'snapshot'").run();
  t.equal(readSnapshot(db), null, 'not JSON');
  db.prepare("UPDATE meta SET value = ? WHERE key = 'snapshot'").run(value);
  t.ok(unchanged(readSnapshot(db)!, s.home), 'restored, it holds again');
  db.prepare("UPDATE snapshot SET stats = substr(stats, 1, 8) WHERE names != ''").run();
  t.notOk(unchanged(readSnapshot(db)!, s.home), 'stats that do not cover the names');
});

t.test('a full run keeps the rows that still hold, replaces the others and drops those of directories gone', async (t) => {
  const s = setup(t);
  const db = openIndex(join(s.dir, 'index.sqlite'), { create: true });
  t.teardown(() => db.close());
  const snap = takeSnapshot(s.home);
  saveSnapshot(db, snap);
  const rows = () => db.prepare('SELECT dir, mtime FROM snapshot ORDER BY dir').all() as Array<{ dir: string; mtime: number | null }>;
  const [kept, ...others] = snap.dirs;
  withdrawSnapshot(db);
  t.equal(readSnapshot(db), null, 'withdrawn, it vouches for nothing');
  t.equal(rows().length, snap.dirs.length, 'yet its rows are still there to be kept');
  saveSnapshot(db, { ...snap, dirs: others.slice(1) }, [kept.dir]);
  t.same(
    rows().map((r) => r.dir),
    [kept, ...others.slice(1)].map((d) => d.dir).sort(),
  );
  distrust(db, [others[1].dir, others[1].dir]);
  t.equal(rows().find((r) => r.dir === others[1].dir)!.mtime, null, 'a directory written by another run is vouched for no more');
  t.notOk(unchanged(readSnapshot(db)!, s.home), 'nor is the home');
});

/** The snapshot as a later run reads it back from an index. */
function stored(t: Parameters<typeof tmpDir>[0], snap: Snapshot): Snapshot {
  const db = openIndex(join(tmpDir(t), 'index.sqlite'), { create: true });
  t.teardown(() => db.close());
  saveSnapshot(db, snap);
  return readSnapshot(db)!;
}

// rollout-fsck as a subprocess: what it prints, its exit status, choosing sessions, and --repair end to end.
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { ndjson, run, tmpDir, writeSession } from './helpers/fixtures.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const text = (lines: string[]) => Buffer.from(lines.map((l) => l + '\n').join(''));
const OLD = new Date('2026-09-01T12:00:00Z');

/** A home with one sound session, one with fixable damage, one with a missing parent (not fixable). */
function home(t: { teardown(fn: () => void): void }) {
  const dir = tmpDir(t);
  const good = writeSession(dir, { history: 'paginated', turns: [{ user: 'good' }] }, { mtime: OLD });
  const bad = writeSession(dir, { start: new Date('2026-08-21T10:00:00Z'), turns: [{ user: 'bad' }] });
  writeFileSync(bad.path, Buffer.concat([BOM, text([bad.lines[0], 'junk', ...bad.lines.slice(1)]), Buffer.from('{"torn')]));
  utimesSync(bad.path, OLD, OLD);
  const orphan = writeSession(
    dir,
    {
      start: new Date('2026-08-22T10:00:00Z'),
      history: 'paginated',
      firstOrdinal: 5,
      meta: { history_base: { thread_id: '0198ffff-0000-7000-8000-000000000000', end_ordinal_exclusive: 5, end_byte_offset: 100 } },
      turns: [{ user: 'orphan' }],
    },
    { mtime: OLD },
  );
  const fsck = (...args: string[]) => run('rollout-fsck', [...args, '--codex-home', dir]);
  return { dir, good, bad, orphan, fsck };
}

t.test('one NDJSON line per problem, a summary on stderr, exit 1', async (t) => {
  const { bad, orphan, fsck } = home(t);
  const r = fsck();
  t.equal(r.code, 1);
  const rows = ndjson(r.out);
  t.same(Object.keys(rows[0]), ['id', 'path', 'line', 'problem', 'fixable', 'fix', 'detail']);
  t.same(
    rows.map((p) => [p.id, p.path, p.line, p.problem, p.fixable]),
    [
      [bad.id, bad.path, 1, 'bom', true],
      [bad.id, bad.path, 2, 'not_json', true],
      [bad.id, bad.path, bad.lines.length + 2, 'torn_line', true],
      [orphan.id, orphan.path, 1, 'missing_parent', false],
    ],
  );
  t.equal(r.err, 'rollout-fsck: checked 3 files: 4 problems in 2 files (3 fixable)\n');
  t.equal(fsck('-q').err, '', '-q: no summary');
});

t.test('a sound home: no output, exit 0', async (t) => {
  const dir = tmpDir(t);
  writeSession(dir, { turns: [{ user: 'fine' }] });
  const r = run('rollout-fsck', ['--codex-home', dir]);
  t.same([r.code, r.out, r.err], [0, '', 'rollout-fsck: checked 1 file: no problems\n']);
});

t.test('--repair fixes what it can, backs up first, and exits 1 while unfixable problems remain', async (t) => {
  const { dir, bad, orphan, fsck } = home(t);
  const original = readFileSync(bad.path);
  const dry = fsck('--repair', '--dry-run', '--grace', '0');
  t.equal(dry.code, 1);
  t.same(readFileSync(bad.path), original, 'a dry run changes nothing');
  t.same(
    ndjson(dry.out)
      .filter((l) => l.action)
      .map((l) => [l.action, l.dry_run]),
    [['repair', true]],
  );

  const r = fsck('--repair');
  t.equal(r.code, 1, r.err);
  const repair = ndjson(r.out).filter((l) => l.action);
  const backup = join(dir, 'rollout-backup', relative(dir, bad.path));
  t.same(repair, [
    {
      action: 'repair',
      id: bad.id,
      path: bad.path,
      fixed: ['bom', 'not_json', 'torn_line'],
      backup: [backup],
      rejected: `${bad.path}.rejected`,
      rejected_lines: 2,
      removed: [],
      dry_run: false,
    },
  ]);
  t.equal(r.err, 'rollout-fsck: checked 3 files: 4 problems in 2 files (3 fixable); repaired 1 file (3 problems)\n');
  t.same(readFileSync(backup), original);
  t.same(readFileSync(bad.path), text(bad.lines));
  t.equal(readFileSync(`${bad.path}.rejected`, 'utf8'), 'junk\n{"torn\n');

  const after = fsck();
  t.same(
    ndjson(after.out).map((p) => [p.path, p.problem]),
    [[orphan.path, 'missing_parent']],
    'only the unfixable problem is left',
  );
  t.equal(fsck(bad.id).code, 0, 'the repaired session checks clean');
});

t.test('--repair leaves a file that is still being written alone', async (t) => {
  const { bad, fsck } = home(t);
  utimesSync(bad.path, new Date(), new Date());
  const r = fsck('--repair', bad.id);
  t.equal(r.code, 1);
  const skip = ndjson(r.out).find((l) => l.action);
  t.same([skip.action, skip.path], ['skip', bad.path]);
  t.match(skip.reason, 'modified within the grace period');
  t.match(r.err, 'skipped 1');
  t.equal(fsck('--repair', '--grace', '0', bad.id).code, 0, '--grace 0 takes it');
});

t.test('choosing sessions: ids take every file of the thread, paths one file; --stdin; a bad reference', async (t) => {
  const { dir, good, bad, orphan, fsck } = home(t);
  const rev = writeSession(
    dir,
    { id: good.id, start: new Date('2026-08-20T15:00:00Z'), history: 'paginated', turns: [{ user: 'r' }] },
    { rolloutId: '0198eeee-0000-7000-8000-000000000001' },
  );
  writeFileSync(rev.path, BOM);
  const byId = ndjson(fsck(good.id).out);
  t.same(
    byId.map((p) => [p.path, p.problem]),
    [
      [rev.path, 'bom'],
      [rev.path, 'no_session_meta'],
    ],
    "the revision's problems show under the thread",
  );
  t.same(ndjson(fsck(good.path).out), [], 'a path is that file alone');

  const stdin = run('rollout-fsck', ['--stdin', '--codex-home', dir], { input: `${JSON.stringify({ id: orphan.id, path: orphan.path })}\n${bad.id}\n` });
  t.same([...new Set(ndjson(stdin.out).map((p) => p.id))], [orphan.id, bad.id]);

  const missing = fsck('0198ffff-0000-7000-8000-000000000000', orphan.id);
  t.equal(missing.code, 1);
  t.match(missing.err, 'rollout-fsck: error: no session with id 0198ffff-0000-7000-8000-000000000000');
  t.same(
    ndjson(missing.out).map((p) => p.problem),
    ['missing_parent'],
    'the others are still checked',
  );
});

t.test("'-' checks a rollout on stdin", async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { turns: [{ user: 'x' }] });
  const r = run('rollout-fsck', ['-', '--codex-home', dir], { input: Buffer.concat([text(s.lines), Buffer.from('nope\n')]) });
  t.equal(r.code, 1);
  t.same(
    ndjson(r.out).map((p) => [p.id, p.path, p.line, p.problem]),
    [[s.id, '-', s.lines.length + 1, 'not_json']],
  );
  t.equal(run('rollout-fsck', ['-', '--codex-home', dir], { input: text(s.lines) }).code, 0);
});

t.test('usage errors', async (t) => {
  const dir = tmpDir(t);
  for (const args of [['--dry-run'], ['--backup', 'x'], ['--repair', '-'], ['--repair', '--grace', 'soon'], ['--stdin', 'abc'], ['--frobnicate']]) {
    const r = run('rollout-fsck', [...args, '--codex-home', dir]);
    t.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
  }
  t.notOk(existsSync(join(dir, 'rollout-backup')));
});

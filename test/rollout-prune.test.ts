// rollout-prune as a user runs it: real subprocesses on throwaway homes whose files are backdated
// with utimes, each rule tested on both sides of its boundary.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import t from 'tap';
import { ndjson, run, tmpDir, uuidv7 } from './helpers/fixtures.js';
import { aged, DAY, historyDb, holdWriterLock, MINUTE, query, stateDb, tree } from './helpers/prune.js';

const prune = (home: string, args: string[], input?: string) => run('rollout-prune', args, { env: { CODEX_HOME: home, ROLLOUT_INDEX: '' }, input });

t.test('usage: explicit criteria, one action, well-formed values', async (t) => {
  const home = tmpDir(t);
  for (const args of [
    [],
    ['--archive'],
    ['--older-than', '30d', '--archive', '--compress'],
    ['--older-than', 'soon'],
    ['--older-than', '30'],
    ['--older-than', '30d', 'abc'],
    ['--stdin', '--grace', 'x'],
    ['--older-than', '1d', '--min-size', 'big'],
    ['--older-than', '1d', '--archive', '--archived'],
    ['--older-than', '1d', '--unarchive', '--active'],
    ['--older-than', '1d', '--bogus'],
  ]) {
    const r = prune(home, args);
    t.equal(r.code, 2, `${args.join(' ')}: exit 2`);
    t.match(r.err, /^rollout-prune: error: /, 'says why');
    t.equal(r.out, '', 'nothing on stdout');
  }
  const r = prune(home, ['--older-than', '30d']);
  t.equal(r.code, 0, 'nothing matched is a success');
  t.equal(r.out, '');
  t.equal(
    r.err,
    `rollout-prune: no sessions in ${home}: sessions/ and archived_sessions/ hold no rollout files\nrollout-prune: deleted 0 sessions (0 B)\n`,
    'an empty home, said so',
  );
});

t.test('--older-than: last activity on either side of the boundary', async (t) => {
  const home = tmpDir(t);
  const old = aged(home, 31 * DAY);
  const recent = aged(home, 29 * DAY);
  // Content newer than the mtime (a copied file): the last line's timestamp wins.
  const copied = aged(home, 40 * DAY, { start: new Date(Date.now() - 20 * DAY) });
  const r = prune(home, ['--older-than', '30d']);
  t.equal(r.code, 0, r.err);
  t.same(ndjson(r.out), [{ action: 'delete', id: old.id, path: old.path, to: null, bytes: sizeOf(old.lines), dry_run: false }]);
  t.notOk(existsSync(old.path), 'the old session is gone');
  t.ok(existsSync(recent.path), 'the recent one stays');
  t.ok(existsSync(copied.path), 'a session whose last line is recent stays, whatever its mtime');
  t.match(r.err, /^rollout-prune: deleted 1 session \(/);

  const dated = prune(home, ['--older-than', new Date(Date.now() - 25 * DAY).toISOString().slice(0, 10)]);
  t.same(
    ndjson(dated.out).map((l) => l.id),
    [recent.id],
    'a date works as the cutoff too (the copy, active 20 days ago, stays)',
  );
});

const sizeOf = (lines: string[]) => Buffer.byteLength(lines.map((l) => l + '\n').join(''));

t.test('--dry-run prints exactly the lines of the real run and changes nothing', async (t) => {
  const home = tmpDir(t);
  aged(home, 40 * DAY);
  aged(home, 50 * DAY, {}, { root: 'archived_sessions' });
  aged(home, 45 * DAY, {}, { zst: 'only' });
  aged(home, 1 * DAY);
  const before = tree(home);
  const dry = prune(home, ['--older-than', '30d', '--include-archived', '-n']);
  t.equal(dry.code, 0, dry.err);
  t.same(tree(home), before, 'nothing changed');
  t.match(dry.err, /would have deleted 3 sessions/);
  const real = prune(home, ['--older-than', '30d', '--include-archived']);
  t.same(
    ndjson(real.out),
    ndjson(dry.out).map((l) => ({ ...l, dry_run: false })),
    'the same lines, dry_run aside',
  );
  t.equal(tree(home).length, 1, 'only the recent session is left');
});

t.test('--grace: a fresh session is skipped, and taken once the grace is shorter than its age', async (t) => {
  const home = tmpDir(t);
  const fresh = aged(home, 5 * MINUTE);
  const r = prune(home, ['--stdin'], fresh.id + '\n');
  t.equal(r.code, 0, 'a skip is not an error');
  t.same(ndjson(r.out), [{ action: 'skip', id: fresh.id, path: fresh.path, reason: `modified within the grace period (${basename(fresh.path)})` }]);
  t.ok(existsSync(fresh.path));
  t.match(r.err, /deleted 0 sessions.*skipped 1/);
  const shorter = prune(home, ['--stdin', '--grace', '4m'], fresh.id + '\n');
  t.equal(ndjson(shorter.out)[0].action, 'delete');
  t.notOk(existsSync(fresh.path));
});

t.test('a session open in a running Codex (writer lock held) is skipped; a stale lock file is not a lock', async (t) => {
  const home = tmpDir(t);
  const s = aged(home, 40 * DAY);
  const lock = await holdWriterLock(home, s.id);
  t.teardown(lock.release);
  const held = prune(home, ['--older-than', '30d']);
  t.same(ndjson(held.out), [{ action: 'skip', id: s.id, path: s.path, reason: 'open in a running Codex (its writer lock is held)' }]);
  t.ok(existsSync(s.path));
  await lock.release();
  t.ok(existsSync(join(home, 'thread-writer-locks', `${s.id}.lock`)), 'the lock file stays behind, as after a killed Codex');
  const stale = prune(home, ['--older-than', '30d']);
  t.equal(ndjson(stale.out)[0].action, 'delete');
  t.notOk(existsSync(s.path));
});

/** A paginated parent and a fork that reads it through history_base. */
function family(home: string, ago: number) {
  const parent = aged(home, ago + DAY, { history: 'paginated' });
  const size = statSync(parent.path).size;
  const child = aged(home, ago, {
    history: 'paginated',
    firstOrdinal: parent.lines.length,
    meta: { forked_from_id: parent.id, history_base: { thread_id: parent.id, end_ordinal_exclusive: parent.lines.length, end_byte_offset: size } },
  });
  return { parent, child };
}

t.test('history_base: a parent a kept fork reads is skipped; with its fork in the same run both go, fork first', async (t) => {
  const home = tmpDir(t);
  const { parent, child } = family(home, 40 * DAY);
  const alone = prune(home, ['--stdin'], parent.id + '\n');
  t.same(ndjson(alone.out), [{ action: 'skip', id: parent.id, path: parent.path, reason: `referenced by ${child.id}` }]);
  t.ok(existsSync(parent.path));
  const archive = prune(home, ['--stdin', '--archive'], parent.id + '\n');
  t.equal(ndjson(archive.out)[0].reason, `referenced by ${child.id}`, 'archiving it is refused too');
  const compress = prune(home, ['--stdin', '--compress', '-n'], parent.id + '\n');
  t.equal(ndjson(compress.out)[0].action, 'compress', 'compressing it is fine');

  const both = prune(home, ['--stdin'], `${parent.id}\n${child.id}\n`);
  t.same(
    ndjson(both.out).map((l) => [l.action, l.id]),
    [
      ['delete', child.id],
      ['delete', parent.id],
    ],
  );
  t.notOk(existsSync(parent.path) || existsSync(child.path));
});

t.test('history_base: when the fork is skipped (grace), its parent stays too', async (t) => {
  const home = tmpDir(t);
  const { parent, child } = family(home, 40 * DAY);
  const now = new Date();
  utimesSync(child.path, now, now);
  const r = prune(home, ['--stdin'], `${parent.id}\n${child.id}\n`);
  t.same(
    ndjson(r.out).map((l) => [l.action, l.id, l.reason.replace(/ \(.*/, '')]),
    [
      ['skip', child.id, 'modified within the grace period'],
      ['skip', parent.id, `referenced by ${child.id}`],
    ],
  );
});

t.test('more sessions than a page: a fork chosen pages after its parent still goes first, or keeps it', async (t) => {
  // The run takes the chosen sessions a page (500) at a time, oldest first: the parent is in the
  // first page, its fork (the newest) in the second.
  const setup = () => {
    const home = tmpDir(t);
    const { parent, child } = family(home, 40 * DAY);
    utimesSync(parent.path, new Date(Date.now() - 90 * DAY), new Date(Date.now() - 90 * DAY));
    const fillers = Array.from({ length: 510 }, (_, i) => aged(home, 60 * DAY - i * MINUTE));
    return { home, parent, child, fillers };
  };
  const all = setup();
  const both = prune(all.home, ['--older-than', '30d']);
  t.equal(both.code, 0, both.err);
  const order = ndjson(both.out).map((l) => [l.action, l.id]);
  t.equal(order.length, 512, 'every session, once');
  t.ok(
    order.every(([action]) => action === 'delete'),
    'all deleted',
  );
  t.ok(order.findIndex(([, id]) => id === all.child.id) < order.findIndex(([, id]) => id === all.parent.id), 'the fork first');
  t.notOk(existsSync(all.parent.path) || existsSync(all.child.path));
  t.equal(readdirSync(join(all.home, 'sessions'), { recursive: true }).filter((p) => String(p).endsWith('.jsonl')).length, 0, 'nothing left');

  const kept = setup();
  utimesSync(kept.child.path, new Date(), new Date());
  const r = prune(kept.home, ['--older-than', '30d', '--grace', '1h']);
  const lines = ndjson(r.out);
  t.same(
    lines.filter((l) => l.action === 'skip').map((l) => [l.id, l.reason]),
    [[kept.parent.id, `referenced by ${kept.child.id}`]],
    'the fork is not chosen (active just now): its parent, pages before it, stays',
  );
  t.equal(lines.filter((l) => l.action === 'delete').length, 510);
  t.ok(existsSync(kept.parent.path) && existsSync(kept.child.path));

  // Named one by one, the fork is chosen, and left alone when its page comes (written just now):
  // the parent waited for it, and stays.
  const named = setup();
  utimesSync(named.child.path, new Date(), new Date());
  const ids = [named.parent, ...named.fillers, named.child].map((s) => s.id).join('\n') + '\n';
  const waited = ndjson(prune(named.home, ['--stdin'], ids).out);
  t.same(
    waited.filter((l) => l.action === 'skip').map((l) => [l.id, l.reason.replace(/ \(.*/, '')]),
    [
      [named.child.id, 'modified within the grace period'],
      [named.parent.id, `referenced by ${named.child.id}`],
    ],
  );
  t.ok(existsSync(named.parent.path));
});

t.test('a reverted thread: all its files move together, and its own revision is no outside reference', async (t) => {
  const home = tmpDir(t);
  const first = aged(home, 41 * DAY, { history: 'paginated' });
  const rev = uuidv7(Date.now() - 40 * DAY);
  const second = aged(
    home,
    40 * DAY,
    { id: first.id, history: 'paginated', meta: { history_base: { thread_id: first.id, end_ordinal_exclusive: 3, end_byte_offset: 100 } } },
    { rolloutId: rev },
  );
  const r = prune(home, ['--older-than', '30d', '--archive']);
  t.equal(r.code, 0, r.err);
  const lines = ndjson(r.out);
  t.equal(lines.length, 1, 'one line for the thread');
  t.equal(lines[0].path, second.path, 'named by its current (newest) file');
  t.equal(lines[0].to, join(home, 'archived_sessions', basename(second.path)));
  t.ok(
    existsSync(join(home, 'archived_sessions', basename(first.path))) && existsSync(join(home, 'archived_sessions', basename(second.path))),
    'both files moved',
  );
  t.notOk(existsSync(first.path) || existsSync(second.path));
});

t.test('symlinks and paths outside the roots are refused, per line, and the run goes on', async (t) => {
  const home = tmpDir(t);
  const outside = tmpDir(t);
  const good = aged(home, 40 * DAY);
  // A rollout outside the home, reached through a linked day folder and a linked file.
  const far = aged(outside, 40 * DAY);
  mkdirSync(join(home, 'sessions/2025/01'), { recursive: true });
  symlinkSync(dirname(far.path), join(home, 'sessions/2025/01/02'));
  const linkedFile = join(dirname(good.path), 'rollout-2025-01-03T00-00-00-' + uuidv7(Date.now() - 400 * DAY) + '.jsonl');
  symlinkSync(far.path, linkedFile);
  const viaDir = join(home, 'sessions/2025/01/02', basename(far.path));

  const sweep = prune(home, ['--older-than', '30d']);
  t.same(
    ndjson(sweep.out).map((l) => l.id),
    [good.id],
    'discovery never follows a link',
  );
  t.ok(existsSync(far.path), 'the file outside is untouched');

  const again = aged(home, 40 * DAY);
  const r = prune(home, ['--stdin'], [far.path, viaDir, linkedFile, again.path].join('\n') + '\n');
  t.equal(r.code, 1, 'refusals are errors');
  t.same(
    ndjson(r.out).map((l) => l.id),
    [again.id],
    'the good session still went',
  );
  t.match(r.err, new RegExp(`${far.path}: refused: outside the sessions`));
  t.match(r.err, /refused: reached through a symlink/);
  t.ok(existsSync(far.path) && lstatSync(linkedFile).isSymbolicLink(), 'nothing outside changed, the link is still there');

  // An archive folder that leads out of the home is no destination.
  const moved = aged(home, 40 * DAY);
  const elsewhere = join(outside, 'archive');
  mkdirSync(elsewhere);
  symlinkSync(elsewhere, join(home, 'archived_sessions'));
  const a = prune(home, ['--stdin', '--archive'], moved.id + '\n');
  t.equal(a.code, 1);
  t.match(a.err, /refused: .*would be reached through a symlink/);
  t.ok(existsSync(moved.path), 'not moved');
});

t.test('--backup copies every file of the session, layout kept, before deleting; a backup folder that cannot be written stops the run first', async (t) => {
  const home = tmpDir(t);
  const backup = join(tmpDir(t), 'bk');
  const both = aged(home, 40 * DAY, {}, { zst: true });
  const archived = aged(home, 40 * DAY, {}, { root: 'archived_sessions' });
  const bytes = readFileSync(both.path);
  const r = prune(home, ['--older-than', '30d', '--include-archived', '--backup', backup]);
  t.equal(r.code, 0, r.err);
  const rel = both.path.slice(home.length + 1);
  t.same(readFileSync(join(backup, rel)), bytes, 'the plain file, byte for byte');
  t.ok(existsSync(join(backup, rel + '.zst')), 'and its .zst sibling');
  t.ok(existsSync(join(backup, 'archived_sessions', basename(archived.path))));
  t.equal(statSync(join(backup, rel)).mtimeMs, statSync(join(backup, rel + '.zst')).mtimeMs, 'mtimes kept');
  t.notOk(existsSync(both.path) || existsSync(both.path + '.zst') || existsSync(archived.path));

  const keep = aged(home, 40 * DAY);
  const blocked = join(tmpDir(t), 'file');
  writeFileSync(blocked, 'not a directory');
  const f = prune(home, ['--older-than', '30d', '--backup', blocked]);
  t.equal(f.code, 2, 'a usage error, before anything is touched');
  t.match(f.err, /^rollout-prune: error: --backup .*: cannot be written \(.*not a directory\)/);
  t.equal(f.out, '', 'no line for a session not deleted');
  t.ok(existsSync(keep.path), 'not deleted');
});

t.test("delete, archive, unarchive keep Codex's state as codex delete/archive/unarchive do", async (t) => {
  const home = tmpDir(t);
  const gone = aged(home, 40 * DAY);
  const moved = aged(home, 40 * DAY);
  const other = aged(home, 1 * DAY);
  const db = stateDb(home, [
    { id: gone.id, path: gone.path },
    { id: moved.id, path: moved.path },
    { id: other.id, path: other.path, name: 'keep me' },
  ]);
  const history = historyDb(home, [gone.id, other.id]);
  const index = join(home, 'session_index.jsonl');
  const entries = [
    { id: gone.id, thread_name: 'old name', updated_at: '2026-01-01T00:00:00Z' },
    { id: other.id, thread_name: 'keep me', updated_at: '2026-01-02T00:00:00Z' },
    { id: gone.id, thread_name: 'newer name', updated_at: '2026-01-03T00:00:00Z' },
  ];
  writeFileSync(index, entries.map((e) => JSON.stringify(e) + '\n').join(''), { mode: 0o600 });

  t.equal(prune(home, ['--stdin'], gone.id + '\n').code, 0);
  t.same(
    query(db, 'SELECT id FROM threads ORDER BY id').map((r) => r.id),
    [moved.id, other.id].sort(),
    'the threads row is gone',
  );
  t.same(
    query(history, 'SELECT DISTINCT thread_id FROM thread_items').map((r) => r.thread_id),
    [other.id],
    'its history rows too',
  );
  t.same(
    query(history, 'SELECT thread_id FROM thread_history_projection_state').map((r) => r.thread_id),
    [other.id],
  );
  t.equal(readFileSync(index, 'utf8'), JSON.stringify(entries[1]) + '\n', "its session_index entries are gone, the others' kept");
  t.equal(statSync(index).mode & 0o777, 0o600, 'the index keeps its mode');

  const before = Date.now();
  t.equal(prune(home, ['--stdin', '--archive'], moved.id + '\n').code, 0);
  const archivedPath = join(home, 'archived_sessions', basename(moved.path));
  let row = query(db, 'SELECT * FROM threads WHERE id = ?', moved.id)[0];
  t.equal(row.rollout_path, archivedPath);
  t.equal(row.archived, 1);
  t.ok(row.archived_at >= Math.floor(before / 1000) && row.archived_at <= Date.now() / 1000 + 1, 'archived_at is now');
  t.equal(row.updated_at_ms, Math.trunc(statSync(archivedPath).mtimeMs), 'updated_at_ms is the file mtime, as Codex re-reads it');

  t.equal(prune(home, ['--stdin', '--unarchive'], moved.id + '\n').code, 0);
  row = query(db, 'SELECT * FROM threads WHERE id = ?', moved.id)[0];
  t.equal(row.rollout_path, moved.path, 'back in its dated folder');
  t.equal(row.archived, 0);
  t.equal(row.archived_at, null);
  t.ok(statSync(moved.path).mtimeMs >= before - 1000, 'the file is touched to now, as codex unarchive does');
  t.ok(row.updated_at_ms >= before - 1000);
});

t.test('--archive/--unarchive: already there is a skip; an existing destination is an error, nothing moved', async (t) => {
  const home = tmpDir(t);
  const a = aged(home, 40 * DAY, {}, { root: 'archived_sessions' });
  const r = prune(home, ['--stdin', '--archive'], a.id + '\n');
  t.same(ndjson(r.out), [{ action: 'skip', id: a.id, path: a.path, reason: 'already archived' }]);
  const s = aged(home, 40 * DAY);
  t.equal(ndjson(prune(home, ['--stdin', '--unarchive'], s.id + '\n').out)[0].reason, 'not archived');

  const clash = aged(home, 40 * DAY);
  writeFileSync(join(home, 'archived_sessions', basename(clash.path)), 'someone else');
  const c = prune(home, ['--stdin', '--archive'], clash.id + '\n');
  t.equal(c.code, 1);
  t.match(c.err, /already exists; nothing moved/);
  t.ok(existsSync(clash.path));
  t.equal(readFileSync(join(home, 'archived_sessions', basename(clash.path)), 'utf8'), 'someone else', 'not overwritten');
});

t.test('--compress: one zstd frame that decompresses to the same bytes, mtime and mode kept, plain removed', async (t) => {
  const home = tmpDir(t);
  const s = aged(home, 40 * DAY);
  const bytes = readFileSync(s.path);
  const st = statSync(s.path);
  const r = prune(home, ['--older-than', '30d', '--compress']);
  t.equal(r.code, 0, r.err);
  t.same(ndjson(r.out), [{ action: 'compress', id: s.id, path: s.path, to: s.path + '.zst', bytes: bytes.length, dry_run: false }]);
  t.notOk(existsSync(s.path), 'the plain file is gone');
  const z = s.path + '.zst';
  t.same(spawnSync('zstd', ['-dc', z]).stdout, bytes, 'the real zstd reads back the same bytes');
  t.equal(Math.trunc(statSync(z).mtimeMs), Math.trunc(st.mtimeMs), 'mtime kept');
  t.equal(statSync(z).mode & 0o777, st.mode & 0o777, 'mode kept');
  t.match(r.err, /compressed 1 session \(.* to .*\)/);
  const again = prune(home, ['--stdin', '--compress'], s.id + '\n');
  t.same(ndjson(again.out), [{ action: 'skip', id: s.id, path: z, reason: 'already compressed' }]);
  t.equal(prune(home, ['--older-than', '30d', '--compress']).out, '', 'a sweep passes over compressed sessions quietly');
  const cat = run('rollout-cat', [s.id], { env: { CODEX_HOME: home } });
  t.same(cat.stdout, bytes, 'and the toolkit still reads it');
});

t.test('--compress without the native zstd module: the zstd command, no checksum, as Codex writes', async (t) => {
  const home = tmpDir(t);
  const s = aged(home, 40 * DAY);
  const bytes = readFileSync(s.path);
  const r = run('rollout-prune', ['--older-than', '30d', '--compress'], { env: { CODEX_HOME: home, ROLLOUT_ZSTD: 'js' } });
  t.equal(r.code, 0, r.err);
  t.same(spawnSync('zstd', ['-dc', s.path + '.zst']).stdout, bytes);
  const info = spawnSync('zstd', ['-lv', s.path + '.zst']).stdout.toString();
  t.match(info, /# Zstandard Frames: 1/);
  t.notMatch(info, /XXH64/);

  const bare = tmpDir(t);
  const kept = aged(bare, 40 * DAY);
  const none = run('rollout-prune', ['--older-than', '30d', '--compress'], { env: { CODEX_HOME: bare, ROLLOUT_ZSTD: 'js', PATH: '/nonexistent' } });
  t.equal(none.code, 1, 'neither the module nor the command: an error');
  t.match(none.err, /compressing needs the zstd-napi module or the zstd command/);
  t.same(readFileSync(kept.path), Buffer.from(kept.lines.map((l) => l + '\n').join('')), 'the plain file is untouched');
  t.notOk(existsSync(kept.path + '.zst'), 'and no .zst is left behind');
});

t.test('narrowing filters: --source, --cwd, --provider, --min-size, --unnamed; roots: active by default, --archived, --include-archived', async (t) => {
  const home = tmpDir(t);
  const exec = aged(home, 40 * DAY, { source: 'exec', cwd: '/w/a/sub' });
  const cli = aged(home, 40 * DAY, { source: 'cli', cwd: '/w/b', provider: 'local' });
  const sub = aged(home, 40 * DAY, { source: { subagent: { thread_spawn: { parent_thread_id: cli.id, depth: 1 } } }, cwd: '/w/ab' });
  const big = aged(home, 40 * DAY, { source: 'cli', cwd: '/w/b', turns: [{ user: 'x'.repeat(20000) }] }, { root: 'archived_sessions' });
  writeFileSync(join(home, 'session_index.jsonl'), JSON.stringify({ id: cli.id, thread_name: 'precious', updated_at: '2026-01-01T00:00:00Z' }) + '\n');
  const chosen = (args: string[]) =>
    ndjson(prune(home, ['--older-than', '30d', '-n', ...args]).out)
      .map((l) => l.id)
      .sort();
  const ids = (args: string[]) => chosen(args.some((a) => a === '--archived' || a === '--active') ? args : ['--include-archived', ...args]);
  t.same(chosen([]), [exec.id, cli.id, sub.id].sort(), 'active sessions, as rollout-ls lists them, unless a root flag says otherwise');
  t.same(ids(['--source', 'exec']), [exec.id]);
  t.same(ids(['--source', 'subagent']), [sub.id]);
  t.same(ids(['--source', 'subagent:thread_spawn', '--source', 'exec']), [exec.id, sub.id].sort());
  t.same(ids(['--cwd', '/w/a']), [exec.id], '--cwd takes the folder and below, not a name prefix');
  t.same(ids(['--provider', 'local']), [cli.id]);
  t.same(ids(['--min-size', '20K']), [big.id]);
  t.same(ids(['--unnamed']), [exec.id, sub.id, big.id].sort());
  t.same(ids(['--archived']), [big.id]);
  t.same(ids(['--active']), [exec.id, cli.id, sub.id].sort());
  t.same(ids(['--archive']), [exec.id, cli.id, sub.id].sort(), '--archive takes active sessions only');
  t.same(ids(['--unarchive']), [big.id], '--unarchive archived ones only');
});

t.test('--keep-last N: per cwd, the N most recently active sessions survive', async (t) => {
  const home = tmpDir(t);
  const a = [50, 45, 40].map((d) => aged(home, d * DAY, { cwd: '/p/a' }));
  const b = aged(home, 60 * DAY, { cwd: '/p/b' });
  const fresh = aged(home, 1 * DAY, { cwd: '/p/c' });
  const c = aged(home, 60 * DAY, { cwd: '/p/c' });
  const r = prune(home, ['--older-than', '30d', '--keep-last', '1']);
  t.equal(r.code, 0, r.err);
  t.same(
    ndjson(r.out)
      .map((l) => l.id)
      .sort(),
    [a[0].id, a[1].id, c.id].sort(),
    'the newest of /p/a, the only one of /p/b, and /p/c (its newest is recent) survive',
  );
  t.ok(existsSync(a[2].path) && existsSync(b.path) && existsSync(fresh.path));
  t.equal(prune(home, ['--older-than', '30d', '--keep-last', 'x']).code, 2);
});

t.test('-q: nothing on stderr but errors (the lines on stdout are the record); exit 1 at the end after a per-session error', async (t) => {
  const home = tmpDir(t);
  const gone = aged(home, 40 * DAY);
  const q = prune(home, ['--older-than', '30d', '-q']);
  t.equal(q.code, 0);
  t.equal(q.err, '', 'no summary');
  t.same(
    ndjson(q.out).map((l) => l.id),
    [gone.id],
  );
  const s = aged(home, 40 * DAY);
  const r = prune(home, ['--stdin', '-q'], `no-such-session\n${s.id}\n`);
  t.equal(r.code, 1);
  t.same(
    ndjson(r.out).map((l) => l.id),
    [s.id],
  );
  t.equal(r.err, "rollout-prune: error: no session matches 'no-such-session' (not an id, id prefix, name or path)\n");
  t.notOk(existsSync(s.path), 'the run went on');
});

t.test('--stdin takes rollout-ls rows, paths and names', async (t) => {
  const home = tmpDir(t);
  const a = aged(home, 40 * DAY);
  const b = aged(home, 40 * DAY);
  const c = aged(home, 40 * DAY);
  writeFileSync(join(home, 'session_index.jsonl'), JSON.stringify({ id: c.id, thread_name: 'the c one', updated_at: '2026-01-01T00:00:00Z' }) + '\n');
  const input = [JSON.stringify({ id: a.id, path: a.path, cwd: '/x' }), b.path, 'the c one', a.id].join('\n') + '\n';
  const r = prune(home, ['--stdin', '-n'], input);
  t.equal(r.code, 0, r.err);
  t.same(
    ndjson(r.out)
      .map((l) => l.id)
      .sort(),
    [a.id, b.id, c.id].sort(),
    'each once',
  );
});

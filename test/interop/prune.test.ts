// rollout-prune's proof against the real Codex CLI (the pinned release, or CODEX_VERSION) (offline, through the loopback mock): after
// a delete by --older-than, --archive, --compress and --unarchive, `codex doctor` finds files and DB
// in agreement, thread/list shows exactly the sessions that should be there, a compressed session
// resumes, and a thread open in a running Codex (its writer lock held) is left alone.
import t, { type Test } from 'tap';
import fs from 'node:fs';
import { ndjson, run } from '../helpers/fixtures.js';
import { ALL_SOURCE_KINDS, appServer, doctorParity, interop, mockedHome, PARITY_PROBLEMS, runCodex, runCodexOk, sessionIdOf } from './codex.js';
import { userTexts } from './mock-responses.js';

await interop(t, main);

async function main() {
  const { mock, home, work } = await mockedHome(t, 'rollout-prune-interop-');
  const exec = (args: string[]) => runCodexOk(home, ['exec', ...args], { cwd: work, timeoutMs: 90_000 });
  const make = async (prompt: string) => sessionIdOf((await exec(['--skip-git-repo-check', prompt])).stderr);
  const prune = (args: string[], input = '') => {
    const r = run('rollout-prune', [...args, '--codex-home', home], { input, env: { ROLLOUT_INDEX: '' } });
    return { ...r, lines: ndjson(r.out) };
  };

  // Before the cutoff: one session to delete, and a parent that a later fork will read.
  const old = await make('OLD a session to delete by age');
  const parent = await make('PARENT a session a fork reads');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const cutoff = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const fork = sessionIdOf((await exec(['fork', '--skip-git-repo-check', parent, 'FORK a turn on the fork'])).stderr);
  const toArchive = await make('ARCHIVE me');
  const toCompress = await make('COMPRESS me');
  const toUnarchive = await make('UNARCHIVE me');
  await runCodexOk(home, ['archive', toUnarchive], { cwd: work });
  const open = await make('OPEN in an app-server');

  const parity = () => doctorParity(home, work);
  const baseline = await parity();
  async function agrees(t: Test, active: string[], archived: string[]) {
    const p = await parity();
    t.equal(p.status, baseline.status, `doctor: ${p.summary}`);
    for (const k of PARITY_PROBLEMS) t.equal(p.details[k] ?? '0', baseline.details[k] ?? '0', `doctor: no new "${k}"`);
    const server = await appServer(home, { cwd: work });
    try {
      for (const [flag, want] of [
        [false, active],
        [true, archived],
      ] as const) {
        const list = await server.request('thread/list', { sourceKinds: ALL_SOURCE_KINDS, modelProviders: [], archived: flag, limit: 100 });
        t.same(list.data.map((th: any) => th.id).sort(), [...want].sort(), `thread/list archived=${flag}`);
      }
    } finally {
      await server.close();
    }
  }

  t.test('--older-than deletes what is old; the parent its fork reads stays', async (t) => {
    const r = prune(['--older-than', cutoff, '--grace', '0']);
    t.equal(r.code, 0, r.err);
    t.same(
      r.lines.map((l) => [l.action, l.id]),
      [
        ['delete', old],
        ['skip', parent],
      ],
    );
    t.equal(r.lines[1].reason, `referenced by ${fork}`);
    await agrees(t, [parent, fork, toArchive, toCompress, open], [toUnarchive]);
    const deleted = await runCodex(home, ['exec', 'resume', '--skip-git-repo-check', old, 'next'], { cwd: work, timeoutMs: 60_000 });
    t.not(deleted.code, 0, 'Codex no longer finds the deleted session');
  });

  t.test('--archive and --unarchive move sessions as codex archive/unarchive do', async (t) => {
    const a = prune(['--stdin', '--archive', '--grace', '0'], toArchive + '\n');
    t.equal(a.code, 0, a.err);
    t.equal(a.lines[0].action, 'archive');
    const u = prune(['--stdin', '--unarchive', '--grace', '0'], toUnarchive + '\n');
    t.equal(u.code, 0, u.err);
    t.equal(u.lines[0].action, 'unarchive');
    await agrees(t, [parent, fork, toCompress, open, toUnarchive], [toArchive]);
  });

  t.test('--compress: Codex lists it and resumes it', async (t) => {
    const c = prune(['--stdin', '--compress', '--grace', '0'], toCompress + '\n');
    t.equal(c.code, 0, c.err);
    t.ok(c.lines[0].to.endsWith('.jsonl.zst') && fs.existsSync(c.lines[0].to), 'the .zst is there');
    t.notOk(fs.existsSync(c.lines[0].path), 'the plain file is gone');
    await agrees(t, [parent, fork, toCompress, open, toUnarchive], [toArchive]);
    const before = mock.responses().length;
    await exec(['resume', '--skip-git-repo-check', toCompress, 'RESUMED after compression']);
    const seen = userTexts(mock.responses()[before].body);
    t.ok(seen.includes('COMPRESS me') && seen.includes('RESUMED after compression'), 'the model saw the compressed history and the new turn');
  });

  t.test('a thread open in a running Codex is skipped while its writer lock is held', async (t) => {
    const server = await appServer(home, { cwd: work });
    try {
      await server.request('thread/resume', { threadId: open });
      const r = prune(['--stdin', '--grace', '0'], open + '\n');
      t.same(r.lines, [{ action: 'skip', id: open, path: r.lines[0]?.path, reason: 'open in a running Codex (its writer lock is held)' }]);
    } finally {
      await server.close();
    }
    const after = prune(['--stdin', '--grace', '0'], open + '\n');
    t.equal(after.lines[0]?.action, 'delete', 'once Codex has let go, it can go');
    await agrees(t, [parent, fork, toCompress, toUnarchive], [toArchive]);
  });

  t.test('deleting the fork and its parent together: fork first, then the parent', async (t) => {
    const r = prune(['--stdin', '--grace', '0'], `${parent}\n${fork}\n`);
    t.equal(r.code, 0, r.err);
    t.same(
      r.lines.map((l) => [l.action, l.id]),
      [
        ['delete', fork],
        ['delete', parent],
      ],
    );
    await agrees(t, [toCompress, toUnarchive], [toArchive]);
  });
}

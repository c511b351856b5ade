// rollout-index --codex as a subprocess: --check's NDJSON and exit status, the actions and summary
// of a run, a second run that finds nothing, sessions Codex cannot read, usage errors.
import { readdirSync } from 'node:fs';
import t from 'tap';
import { bareLines, ndjson, run, tmpDir, uuidv7, writeRaw, writeSession } from './helpers/fixtures.js';
import { stateDb } from './helpers/prune.js';

t.test('check, sync, check again', async (t) => {
  const home = tmpDir(t);
  const known = writeSession(home, { start: new Date('2026-08-01T10:00:00Z'), turns: [{ user: 'known' }] });
  const fresh = writeSession(home, { start: new Date('2026-08-02T10:00:00Z'), turns: [{ user: 'fresh' }] });
  const c = uuidv7(Date.parse('2025-08-01T10:00:00Z'));
  const genC = writeRaw(home, `sessions/2025/08/01/rollout-2025-08-01T10-00-00-${c}.jsonl`, bareLines('C', c, ['hi']).join('\n') + '\n');
  stateDb(home, [{ id: known.id, path: known.path }]);
  const index = (...args: string[]) => run('rollout-index', ['--codex', '--codex-home', home, ...args]);

  const check = index('--check');
  t.equal(check.code, 1, check.err);
  t.same(ndjson(check.out), [
    { drift: 'unreadable', id: c, path: genC, reason: 'generation C (bare lines): Codex cannot read it' },
    { drift: 'missing', id: fresh.id, path: fresh.path },
  ]);
  t.same(
    readdirSync(home).filter((n) => n.includes('backup')),
    [],
    '--check writes nothing',
  );

  const sync = index();
  t.equal(sync.code, 0, sync.err);
  const lines = ndjson(sync.out);
  const summary = lines.pop();
  t.same(lines, [
    { action: 'skip', id: c, path: genC, reason: 'generation C (bare lines): Codex cannot read it' },
    { action: 'insert', id: fresh.id, path: fresh.path },
  ]);
  t.match(summary, { inserted: 1, fixed: 0, removed: 0, unchanged: 1, unreadable: 1, raced: 0, backup: /state_5\.sqlite\.rollout-backup-/ });

  const again = index('--check');
  t.equal(again.code, 0, 'only what Codex cannot read is left, and that is no reason to fail');
  t.same(
    ndjson(again.out).map((d) => d.drift),
    ['unreadable'],
  );
});

t.test('errors', async (t) => {
  const home = tmpDir(t);
  const none = run('rollout-index', ['--codex', '--codex-home', home]);
  t.equal(none.code, 1);
  t.match(none.err, /rollout-index: error: .*state_5\.sqlite: Codex has no state DB here yet/);
  const usage = run('rollout-index', ['--codex', '--rebuild', '--codex-home', home]);
  t.equal(usage.code, 2);
  t.match(usage.err, /--codex goes with --check only, not --rebuild/);
  t.match(run('rollout-index', ['--help']).out, /--codex/);
});

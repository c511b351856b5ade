// No silent nothing: a Codex home that is not there (a mistyped CODEX_HOME or --codex-home) is an
// error that names it, from every binary that reads a home, and nothing is made in its place.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { run, tmpDir, writeSession } from './helpers/fixtures.js';

const calls: Array<[string, string[]]> = [
  ['rollout-ls', []],
  ['rollout-index', []],
  ['rollout-fsck', []],
  ['rollout-prune', ['--older-than', '1d', '-n']],
  ['rollout-cat', ['0199a213']],
  ['rollout-export', ['0199a213']],
  ['rollout-fork', ['0199a213']],
  ['rollout-name', ['0199a213']],
];

t.test('a home that does not exist is an error that names it; nothing is created', async (t) => {
  const missing = join(tmpDir(t), 'codex-hoem');
  for (const [bin, args] of calls) {
    for (const how of ['env', 'flag'] as const) {
      const r =
        how === 'env'
          ? run(bin, args, { env: { CODEX_HOME: missing, ROLLOUT_INDEX: '' } })
          : run(bin, [...args, '--codex-home', missing], { env: { ROLLOUT_INDEX: '' } });
      t.equal(r.code, 1, `${bin} (${how}): a failure`);
      t.match(r.err, `${missing}: no such folder: no Codex home here (set CODEX_HOME, or give --codex-home)`, `${bin} (${how}): says which and what to do`);
      t.notOk(existsSync(missing), `${bin} (${how}): made nothing`);
    }
  }
});

t.test('a file that is not a folder is no home either; a session given by its path needs no home', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { turns: [{ user: 'hello' }] });
  const r = run('rollout-ls', [], { env: { CODEX_HOME: s.path, ROLLOUT_INDEX: '' } });
  t.equal(r.code, 1);
  t.match(r.err, 'not a folder: no Codex home here');
  const cat = run('rollout-cat', [s.path], { env: { CODEX_HOME: join(dir, 'nowhere') } });
  t.equal(cat.code, 0, cat.err);
  t.ok(cat.out.length > 0, 'the session, by its path');
});

t.test('a home with no sessions says so on stderr, and still succeeds; -q keeps it quiet', async (t) => {
  const home = tmpDir(t);
  const said = `no sessions in ${home}: sessions/ and archived_sessions/ hold no rollout files`;
  for (const [bin, args] of [
    ['rollout-ls', []],
    ['rollout-index', []],
    ['rollout-fsck', []],
    ['rollout-prune', ['--older-than', '1d', '-n']],
  ] as const) {
    const r = run(bin, [...args], { env: { CODEX_HOME: home, ROLLOUT_INDEX: '' } });
    t.equal(r.code, 0, `${bin}: ${r.err}`);
    t.match(r.err, `${bin}: ${said}`, `${bin} says the home is empty`);
    const quiet = run(bin, [...args, '-q'], { env: { CODEX_HOME: home, ROLLOUT_INDEX: '' } });
    t.equal(quiet.err, '', `${bin} -q: nothing`);
  }
  writeSession(home, { turns: [{ user: 'hello' }] });
  const ls = run('rollout-ls', ['--cwd', '/nowhere'], { env: { CODEX_HOME: home, ROLLOUT_INDEX: '' } });
  t.equal(ls.err, '', 'a filter that matches nothing is not an empty home');
});

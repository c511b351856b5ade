// The index is a cache: an empty, foreign, garbage or damaged rollout-index.sqlite is rebuilt by the
// next run that may write it, with one notice; someone else's file is moved aside, never deleted;
// a run asked not to write says which file and what to do.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpSync, existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ndjson, REPO, run, tmpDir } from './helpers/fixtures.js';

const require = createRequire(import.meta.url);

const SESSIONS = 10; // in test/fixtures/homes/basic, archived ones aside

const KINDS: Record<string, (index: string, env: Record<string, string>) => void> = {
  empty: (index) => writeFileSync(index, ''),
  foreign: (index) => {
    const Db = require('better-sqlite3');
    const db = new Db(index);
    db.exec('CREATE TABLE sessions (x); CREATE TABLE invoices (amount); INSERT INTO invoices VALUES (42); PRAGMA user_version = 1;');
    db.close();
  },
  garbage: (index) => writeFileSync(index, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) % 251))),
  damaged: (index, env) => {
    run('rollout-index', [], { env });
    truncateSync(index, 20_000);
  },
};

for (const [kind, make] of Object.entries(KINDS)) {
  t.test(`${kind} index`, async (t) => {
    const home = join(tmpDir(t), 'home');
    cpSync(join(REPO, 'test/fixtures/homes/basic'), home, { recursive: true });
    const env = { CODEX_HOME: home, ROLLOUT_INDEX: '' };
    const index = join(home, 'rollout-index.sqlite');
    make(index, env);
    const before = readFileSync(index);

    const asIs = run('rollout-ls', ['--json', '--no-update'], { env });
    t.equal(asIs.code, 1, '--no-update will not write: a failure');
    t.match(asIs.err, new RegExp(`^rollout-ls: error: ${index}: .*run '?rollout-index`), 'naming the file and the remedy');

    const ls = run('rollout-ls', ['--json'], { env });
    t.equal(ls.code, 0, ls.err);
    t.equal(ndjson(ls.out).length, SESSIONS, 'every session listed from a new index');
    t.equal(ls.err.split('\n').filter(Boolean).length, 1, 'one notice');
    t.match(ls.err, new RegExp(`^rollout-ls: the index ${index} is .*building a new one`));
    const aside = readdirSync(home).filter((n) => n.startsWith('rollout-index.sqlite.unusable-') && !/-(wal|shm)$/.test(n));
    if (kind === 'empty') t.same(aside, [], 'an empty file is simply replaced');
    else {
      t.equal(aside.length, 1, 'what was there is moved aside');
      t.same(readFileSync(join(home, aside[0])), before, 'byte for byte');
    }
    const again = run('rollout-ls', ['--json'], { env });
    t.equal(again.err, '', 'and the next run is quiet');
    t.equal(run('rollout-index', ['--check'], { env }).code, 0, 'the new index is up to date');
  });
}

t.test('writers mend it too: rollout-index, and the update after a prune', async (t) => {
  const home = join(tmpDir(t), 'home');
  cpSync(join(REPO, 'test/fixtures/homes/basic'), home, { recursive: true });
  const env = { CODEX_HOME: home, ROLLOUT_INDEX: '' };
  const index = join(home, 'rollout-index.sqlite');
  KINDS.garbage(index, env);
  const r = run('rollout-index', [], { env });
  t.equal(r.code, 0, r.err);
  t.match(r.err, /moved it to .*unusable-.* and building a new one/);
  KINDS.garbage(index, env);
  const p = run('rollout-prune', ['--stdin', '--archive', '--grace', '0'], { env, input: '0198a000\n0198b7a0\n' });
  t.equal(p.code, 0, p.err);
  t.match(p.err, /building a new one/);
  t.ok(existsSync(index));
  t.equal(spawnSync('zstd', ['-V']).status, 0);
});

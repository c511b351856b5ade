// How every binary reads its command line (lib/cli/main.ts): a value that begins with '-' reaches
// its option, an empty value is refused, and a value reaches the program as it was typed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ndjson, run, tmpDir, writeSession } from './helpers/fixtures.js';

const home = tmpDir(t);
const session = writeSession(home, { turns: [{ user: 'first ask' }, { user: 'second ask' }, { user: 'third ask' }] });
const env = { CODEX_HOME: home, ROLLOUT_INDEX: join(home, 'index.sqlite') };

t.test('a negative number after an option is its value, refused by the option in its own words', async (t) => {
  for (const flag of ['--keep-turns', '--drop-turns', '--last-turns']) {
    const r = run('rollout-fork', [flag, '-1', session.id], { env });
    t.equal(r.code, 2, `${flag} -1: usage error`);
    t.equal(r.err.split('\n')[0], `rollout-fork: error: ${flag} takes a whole number, not '-1'`);
  }
  const limit = run('rollout-ls', ['--limit', '-3'], { env });
  t.equal(limit.code, 2);
  t.match(limit.err, "--limit takes a whole number, not '-3'");
  const maxOutput = run('rollout-export', ['--max-output', '-5', session.id], { env });
  t.equal(maxOutput.code, 2);
  t.match(maxOutput.err, "--max-output takes a whole number, not '-5'");
  t.notMatch(`${limit.err}${maxOutput.err}`, 'Unknown option');
});

t.test('a token that is one of the program’s flags is that flag, not a value', async (t) => {
  const r = run('rollout-fork', ['--keep-turns', '-q', session.id], { env });
  t.equal(r.code, 2);
  t.match(r.err, "option '--keep-turns <n>' value is missing");
  const cluster = run('rollout-ls', ['--cwd', '-q'], { env });
  t.equal(cluster.code, 2, '-q after --cwd is the quiet flag');
  t.match(cluster.err, "option '--cwd <dir>' value is missing");
  const unknown = run('rollout-ls', ['-1'], { env });
  t.equal(unknown.code, 2, 'a stray -1 is still an unknown option');
  t.match(unknown.err, "Unknown option '-1'");
});

t.test('--sort -KEY is a descending sort, given apart or with =', async (t) => {
  const apart = run('rollout-ls', ['--sort', '-turns', '--format', '%(turns)'], { env });
  const joined = run('rollout-ls', ['--sort=-turns', '--format=%(turns)'], { env });
  t.equal(apart.code, 0, apart.err);
  t.equal(apart.out, '3\n');
  t.equal(joined.out, apart.out);
});

t.test('an empty value is a usage error, whatever the option', async (t) => {
  const cases: Array<[string, string[], string]> = [
    ['rollout-ls', ['--format', ''], '--format'],
    ['rollout-ls', ['--format='], '--format'],
    ['rollout-ls', ['--sort', ''], '--sort'],
    ['rollout-export', ['-f', '', session.id], '-f'],
    ['rollout-export', ['--turns', '', session.id], '--turns'],
    // Never the default home in its place: an unset variable must not reach ~/.codex.
    ['rollout-ls', ['--codex-home', ''], '--codex-home'],
    ['rollout-prune', ['--archive', '--codex-home', '', '--older-than', '1d'], '--codex-home'],
  ];
  for (const [bin, args, flag] of cases) {
    const r = run(bin, args, { env });
    t.equal(r.code, 2, `${bin} ${args.join(' ')}: exit 2`);
    t.equal(r.err.split('\n')[0], `${bin}: error: ${flag} needs a value, and '' is empty`);
    t.equal(r.out, '');
  }
});

t.test('values arrive as typed: leading zeros kept, text after = kept whole', async (t) => {
  // A name of digits is a name: before, the parser made '007' the number 7.
  const fork = run('rollout-fork', ['--name', '007', session.id], { env });
  t.equal(fork.code, 0, fork.err);
  const made = ndjson(fork.out)[0];
  t.ok(existsSync(made.path));
  const listed = ndjson(run('rollout-ls', ['--name', '007'], { env }).out);
  t.same(
    listed.map((row) => [row.id, row.name]),
    [[made.id, '007']],
  );
  const withEquals = run('rollout-ls', ['--format=a=%(turns)', '--name', '007'], { env });
  t.equal(withEquals.out, 'a=3\n');
});

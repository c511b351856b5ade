// Turn numbers and counts as rollout-export and rollout-fork take them: a turn the session does not
// have is an error about that session (a --batch run goes on with the others), a range no session
// could satisfy is a usage error before anything is read, and nothing is written for either.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ndjson, run, tmpDir, writeSession } from './helpers/fixtures.js';

const home = tmpDir(t);
const asks = (n: number) => Array.from({ length: n }, (_, i) => ({ user: `ask ${i + 1}` }));
const three = writeSession(home, { turns: asks(3), start: new Date('2026-08-20T10:00:00Z') });
const five = writeSession(home, { turns: asks(5), start: new Date('2026-08-21T10:00:00Z') });
const env = { CODEX_HOME: home, ROLLOUT_INDEX: '' };
const exp = (args: string[], input?: string) => run('rollout-export', args, { env, input });
const turnsIn = (out: string) =>
  ndjson(out)
    .filter((i) => i.kind === 'turn')
    .map((i) => [i.session, i.turn]);

t.test('a turn the session does not have: exit 1, naming the session and its turns, nothing on stdout', async (t) => {
  for (const [spec, why] of [
    ['7', '--turns 7: the session has only 3 turns'],
    ['2..7', '--turns 2..7: the session has only 3 turns'],
    ['-4..', '--turns -4..: the session has only 3 turns'],
    ['4..', "--turns 4.. keeps none of the session's 3 turns"],
    ['2..-3', "--turns 2..-3 keeps none of the session's 3 turns"],
  ]) {
    const r = exp(['-f', 'ndjson', '--turns', spec, three.id]);
    t.equal(r.code, 1, `--turns ${spec}: exit 1`);
    t.equal(r.err, `rollout-export: error: ${three.path}: ${why}\n`);
    t.equal(r.out, '');
  }
  const out = join(tmpDir(t), 'x.md');
  t.equal(exp(['--turns', '7', '-o', out, three.id]).code, 1);
  t.notOk(existsSync(out), 'no file for a session that fails');
});

t.test('a reversed range is a usage error before any session is read', async (t) => {
  for (const spec of ['5..2', '-1..-3']) {
    const r = exp(['--turns', spec, 'no-such-session']);
    t.equal(r.code, 2, `--turns ${spec}: exit 2`);
    t.match(r.err, `rollout-export: error: --turns ${spec} is reversed`);
    t.notMatch(r.err, 'no-such-session', 'said before the session is looked for');
  }
});

t.test('--batch reports each session that lacks the turns and exports the others', async (t) => {
  const r = exp(['-f', 'ndjson', '--turns', '4..', '--batch'], `${three.id}\n${five.id}\n${three.path}\n`);
  t.equal(r.code, 1);
  t.same(turnsIn(r.out), [
    [five.id, 4],
    [five.id, 5],
  ]);
  t.equal(r.err, `rollout-export: error: ${three.path}: --turns 4.. keeps none of the session's 3 turns\n`.repeat(2));
});

t.test('negative turn numbers need no =', async (t) => {
  const r = exp(['-f', 'ndjson', '--turns', '-2..', five.id]);
  t.equal(r.code, 0, r.err);
  t.same(turnsIn(r.out), [
    [five.id, 4],
    [five.id, 5],
  ]);
  t.same(turnsIn(exp(['-f', 'ndjson', '--turns', '2..-3', five.id]).out), [
    [five.id, 2],
    [five.id, 3],
  ]);
});

t.test('rollout-fork: counts the session lacks, and negative counts, through the same rules', async (t) => {
  const before = readdirSync(join(home, 'sessions'), { recursive: true }).sort();
  const cases: Array<[string[], number, string]> = [
    [['--keep-turns', '7'], 1, `${three.path}: --keep-turns 7: the session has only 3 turns`],
    [['--last-turns', '4'], 1, `${three.path}: --last-turns 4: the session has only 3 turns`],
    [['--drop-turns', '3'], 1, `${three.path}: --drop-turns 3 keeps none of the session's 3 turns`],
    [['--keep-turns', '-1'], 2, "--keep-turns takes a whole number, not '-1'"],
    [['--drop-turns', '-2'], 2, "--drop-turns takes a whole number, not '-2'"],
    [['--last-turns=-1'], 2, "--last-turns takes a whole number, not '-1'"],
  ];
  for (const [args, code, message] of cases) {
    const r = run('rollout-fork', [...args, three.id], { env });
    t.equal(r.code, code, `${args.join(' ')}: exit ${code}`);
    t.equal(r.err.split('\n')[0], `rollout-fork: error: ${message}`);
    t.equal(r.out, '');
  }
  t.same(readdirSync(join(home, 'sessions'), { recursive: true }).sort(), before, 'nothing written');
  const kept = run('rollout-fork', ['--stdout', '--last-turns', '3', three.id], { env });
  t.equal(kept.code, 0, 'all of the turns, counted from the end');
});

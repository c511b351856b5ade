// lib/core/turn-range.ts: the one grammar of turn numbers and counts, and what a session that has
// fewer turns than asked for gets.
import t from 'tap';
import { RolloutError, UsageError } from '../../lib/cli/errors.js';
import { parseTurnCount, parseTurnRange, selectTurns } from '../../lib/core/turn-range.js';

const usageError = (f: () => unknown) => {
  try {
    f();
    return null;
  } catch (err) {
    return err instanceof UsageError ? err.message : null;
  }
};

t.test('ranges a session has', async (t) => {
  const pick = (spec: string, count: number) => selectTurns(parseTurnRange(spec), count, 's.jsonl');
  t.same(pick('2', 5), [2, 2]);
  t.same(pick('2..', 5), [2, 5]);
  t.same(pick('..3', 5), [1, 3]);
  t.same(pick('-2..', 5), [4, 5]);
  t.same(pick('-1', 5), [5, 5]);
  t.same(pick('2..-2', 5), [2, 4]);
  t.same(pick('-5..5', 5), [1, 5]);
  t.same(pick('5..5', 5), [5, 5]);
});

t.test('a turn the session does not have is an error about that session', async (t) => {
  const failure = (spec: string, count: number) => {
    try {
      selectTurns(parseTurnRange(spec), count, 's.jsonl');
      return null;
    } catch (err) {
      t.ok(err instanceof RolloutError && !(err instanceof UsageError), `${spec}: not a usage error`);
      return [(err as RolloutError).message, (err as RolloutError).where];
    }
  };
  t.same(failure('7', 3), ['--turns 7: the session has only 3 turns', { file: 's.jsonl' }]);
  t.same(failure('2..7', 3), ['--turns 2..7: the session has only 3 turns', { file: 's.jsonl' }]);
  t.same(failure('..-4', 3), ["--turns ..-4 keeps none of the session's 3 turns", { file: 's.jsonl' }]);
  t.same(failure('5..', 3), ["--turns 5.. keeps none of the session's 3 turns", { file: 's.jsonl' }]);
  t.same(failure('-9..2', 5), ['--turns -9..2: the session has only 5 turns', { file: 's.jsonl' }]);
  t.same(failure('1', 1), null);
  t.same(failure('2', 1), ['--turns 2: the session has only 1 turn', { file: 's.jsonl' }]);
  t.same(failure('1..', 0), ['--turns 1..: the session has no turns', { file: 's.jsonl' }]);
  // Signs that differ are ordered only once the count is known.
  t.same(failure('3..-3', 3), ["--turns 3..-3 keeps none of the session's 3 turns", { file: 's.jsonl' }]);
  t.same(failure('3..-3', 5), null);
});

t.test('what no session could satisfy is a usage error, said before any is read', async (t) => {
  for (const bad of ['', '..', '0', '1..0', '0..', 'x', '1-2', '3..b', '1..2..3', '+1']) {
    t.match(
      usageError(() => parseTurnRange(bad)),
      /^--turns /,
      `'${bad}'`,
    );
  }
  t.equal(
    usageError(() => parseTurnRange('5..2')),
    '--turns 5..2 is reversed: write 2..5',
  );
  t.equal(
    usageError(() => parseTurnRange('-1..-3')),
    '--turns -1..-3 is reversed: write -3..-1',
  );
  t.equal(
    usageError(() => parseTurnRange('0')),
    "--turns counts from 1 (or from -1 at the end), not '0'",
  );
});

t.test('counts are ranges: the first N, all but the last N, the last N', async (t) => {
  const pick = (kind: 'keep' | 'drop' | 'last', n: string, count: number) => selectTurns(parseTurnCount(n, kind)!, count, 's.jsonl');
  t.same(pick('keep', '2', 5), [1, 2]);
  t.same(pick('keep', '5', 5), [1, 5]);
  t.same(pick('drop', '2', 5), [1, 3]);
  t.same(pick('drop', '0', 5), [1, 5]);
  t.same(pick('last', '2', 5), [4, 5]);
  t.throws(() => pick('keep', '6', 5), { message: '--keep-turns 6: the session has only 5 turns' });
  t.throws(() => pick('drop', '5', 5), { message: "--drop-turns 5 keeps none of the session's 5 turns" });
  t.throws(() => pick('drop', '9', 5), { message: "--drop-turns 9 keeps none of the session's 5 turns" });
  t.throws(() => pick('last', '6', 5), { message: '--last-turns 6: the session has only 5 turns' });
  t.equal(parseTurnCount(undefined, 'keep'), undefined);
  t.equal(
    usageError(() => parseTurnCount('0', 'keep')),
    '--keep-turns takes a count of at least 1',
  );
  t.equal(
    usageError(() => parseTurnCount('0', 'last')),
    '--last-turns takes a count of at least 1',
  );
  t.equal(
    usageError(() => parseTurnCount('-1', 'drop')),
    "--drop-turns takes a whole number, not '-1'",
  );
  t.equal(
    usageError(() => parseTurnCount('1.5', 'keep')),
    "--keep-turns takes a whole number, not '1.5'",
  );
});

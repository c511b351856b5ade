// Turn numbers and counts as the command line gives them, for every binary that takes them: one
// grammar (`N`, `A..B`, `A..`, `..B`; negative numbers count from the last turn), and one rule for a
// session that has fewer turns than asked for (an error about that session, never an empty result).
import { RolloutError, UsageError } from '../cli/errors.js';
import { wholeNumber } from '../cli/main.js';

/** Turns `from` to `to`, inclusive (1 is the first, -1 the last; null: from the first, to the last). */
export interface TurnRange {
  from: number | null;
  to: number | null;
  /** The option as given, for messages: `--turns 2..5`, `--keep-turns 3`. */
  said: string;
}

/** `--turns`' value; what no session could satisfy (a reversed range, turn 0) is a usage error. */
export function parseTurnRange(spec: string, flag = '--turns'): TurnRange {
  const m = /^(-?\d+)?(\.\.)?(-?\d+)?$/.exec(spec.trim());
  if (!m || (!m[1] && !m[3]) || (!m[2] && m[3] !== undefined)) {
    throw new UsageError(`${flag} takes N, A..B, A.. or ..B (negative counts from the last turn), not '${spec}'`);
  }
  const from = m[1] === undefined ? null : Number(m[1]);
  const to = m[2] ? (m[3] === undefined ? null : Number(m[3])) : from;
  if (from === 0 || to === 0) throw new UsageError(`${flag} counts from 1 (or from -1 at the end), not '${spec}'`);
  // Of one sign, the order is known before any session is read; of two, it depends on the session.
  if (from !== null && to !== null && Math.sign(from) === Math.sign(to) && from > to) {
    throw new UsageError(`${flag} ${spec} is reversed: write ${m[3]}..${m[1]}`);
  }
  return { from, to, said: `${flag} ${spec}` };
}

/** What a count option cuts: the first N turns, all but the last N, or the last N. */
export type TurnCount = 'keep' | 'drop' | 'last';

/** `--keep-turns N`, `--drop-turns N` (0 drops none) or `--last-turns N` as the range of turns kept. */
export function parseTurnCount(value: unknown, kind: TurnCount): TurnRange | undefined {
  const flag = `--${kind}-turns`;
  const n = wholeNumber(value, flag);
  if (n === undefined) return undefined;
  if (n === 0 && kind !== 'drop') throw new UsageError(`${flag} takes a count of at least 1`);
  const said = `${flag} ${n}`;
  if (kind === 'keep') return { from: null, to: n, said };
  if (kind === 'last') return { from: -n, to: null, said };
  return { from: null, to: -(n + 1), said };
}

/**
 * The turn numbers `range` picks among a session's `count`, as an inclusive pair. A turn the session
 * does not have, or a range that keeps none of its turns, is an error about `session`.
 */
export function selectTurns(range: TurnRange, count: number, session: string): [number, number] {
  const at = (n: number) => (n < 0 ? count + 1 + n : n);
  const first = range.from === null ? 1 : at(range.from);
  const last = range.to === null ? count : at(range.to);
  const fail = (why: string) => new RolloutError(`${range.said}${why}`, { file: session });
  if (count === 0) throw fail(': the session has no turns');
  // Past an end outwards (turn 7 of 3, turn -9 of 5), or inwards so that nothing is left.
  if (first < 1 || last > count) throw fail(`: the session has only ${count} turn${count === 1 ? '' : 's'}`);
  if (first > last) throw fail(` keeps none of the session's ${count} turn${count === 1 ? '' : 's'}`);
  return [first, last];
}

// The second pass: the session's records, read again, become the normalized items of its effective
// history, a batch of records at a time. The plan from the first pass says where turns start and
// what rollbacks dropped, so nothing is held back except tool calls waiting for their output (paired
// by call_id, and released at the latest when their turn ends).
import { breathe } from '../fs/atomic.js';
import type { Item } from '../items/model.js';
import { ItemReader, turnItem, type ItemOptions } from '../items/reader.js';
import type { Plan } from './plan.js';
import { records, type Source } from './records.js';

export interface TranscriptOptions extends ItemOptions {
  /** The turn numbers kept, first and last (null: all). */
  turns: [number, number] | null;
}

/**
 * Items are handed on in small groups: a group rendered and written at once dies young, where a
 * whole batch's items would outlive a scavenge or two and be copied each time.
 */
const GROUP = 32;

/** The items of the effective history, in small groups. */
export async function* transcript(sources: Source[], plan: Plan, opts: TranscriptOptions): AsyncGenerator<Item[]> {
  const session = plan.facts.session;
  const [first, last] = opts.turns ?? [0, Infinity];
  let out: Item[] = [];
  const reader = new ItemReader(session, plan.facts.cwd, opts, (item) => out.push(item));
  const place = { pos: 0, turn: 0, cwd: null as string | null };
  let nextTurn = 0;
  let drop = 0;

  for await (const batch of records(sources, false)) {
    await breathe();
    for (let i = 0; i < batch.lines.length; i++) {
      if (batch.bad?.has(i)) continue;
      const pos = batch.first + i;
      const { bytes } = batch.lines[i]!;
      if (out.length >= GROUP) {
        yield out;
        out = [];
      }
      while (drop < plan.dropped.length && plan.dropped[drop]![1] <= pos) drop++;
      if (drop < plan.dropped.length && plan.dropped[drop]![0] <= pos) continue;
      while (nextTurn < plan.turns.length && plan.turns.startOf(nextTurn) <= pos) {
        reader.release();
        const t = plan.turns.get(nextTurn++);
        place.turn = nextTurn;
        place.cwd = t.cwd;
        // The turn's first record is this one, and says when the turn began and its id.
        if (place.turn >= first && place.turn <= last) reader.add(turnItem(session, place.turn, t, t.start === pos ? bytes : null), pos);
      }
      if (place.turn < first || place.turn > last) continue;
      place.pos = pos;
      reader.line(bytes, place);
    }
  }
  reader.release();
  yield out;
}

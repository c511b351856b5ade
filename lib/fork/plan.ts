// Where a fork cuts. The first of rollout-fork's two passes: it reads a session's full history (the
// ancestors' prefixes of a referenced fork, then the file itself) and keeps only positions: where
// each real user turn (spec 6.1) and each `task_started` turn sits, where turns end, and where
// rollbacks happen. Memory grows with the number of turns, never with the size of the lines.
import { RolloutError } from '../cli/errors.js';
import { historyLines, type Segment } from '../home/history.js';
import { isEnvelope, isObject, ordinalOf, parseLine, peekType, type Envelope } from '../core/record.js';
import { selectTurns, type TurnRange } from '../core/turn-range.js';
import { mayOpenTurn, rolledBack, TurnBoundaries } from '../core/turns.js';

/** A line's place: its segment of the history, where it ends in that segment's stream, its ordinal. */
export interface Place {
  segment: number;
  end: number;
  ordinal: number | null;
}

export interface UserTurn {
  /** History index of the message that opens the turn. */
  at: number;
  /** Where the turn starts: its `task_started` when it has one, else the message itself. */
  start: number;
  /** The `task_started` turn this message opened, if any. */
  task: TaskTurn | null;
  /** Dropped by a later `thread_rolled_back`. */
  dropped: boolean;
}

export interface TaskTurn {
  at: number;
  turnId: string;
  /** The user turn opened inside it (an inter-agent or continuation task may have none). */
  user: UserTurn | null;
}

export interface TurnMap {
  /** Lines in the full history. */
  lines: number;
  users: UserTurn[];
  tasks: TaskTurn[];
  /** History indexes of `task_complete` / `turn_aborted` events. */
  terminals: number[];
  rollbacks: Array<{ at: number; turns: number }>;
  /** The place of the line just before each history index that may become a cut (and of the last line). */
  before: Map<number, Place>;
}

/** The events pass 1 looks for; every other line is only counted. */
const EVENTS = new Set(['task_started', 'turn_started', 'task_complete', 'turn_complete', 'turn_aborted', 'thread_rolled_back']);

/** A line as an envelope, parsed only when it may matter for turns (most lines are only noted by their types). */
function relevant(bytes: Buffer, boundaries: TurnBoundaries): Envelope | null {
  const info = peekType(bytes);
  if (info && !(info.type === 'event_msg' && (info.payloadType === undefined || EVENTS.has(info.payloadType))) && !mayOpenTurn(bytes, info)) {
    boundaries.see(info);
    return null;
  }
  const env = parseLine(bytes);
  return isEnvelope(env) && isObject(env.payload) ? env : null;
}

/** Pass 1: the turn map of a history made of `segments` (ancestors' prefixes first, the file last). */
export async function mapTurns(segments: Segment[]): Promise<TurnMap> {
  const map: TurnMap = { lines: 0, users: [], tasks: [], terminals: [], rollbacks: [], before: new Map() };
  const live: UserTurn[] = [];
  let pendingTask: TaskTurn | null = null;
  const boundaries = new TurnBoundaries();
  // The previous line, to describe the place just before a possible cut; its ordinal is read only then.
  let prev: { segment: number; end: number; bytes: Buffer } | null = null;
  const mark = (i: number) => {
    if (prev) map.before.set(i, { segment: prev.segment, end: prev.end, ordinal: ordinalOf(prev.bytes) });
  };
  for await (const { segment, batch } of historyLines(segments)) {
    for (const line of batch) {
      const i = map.lines++;
      const env = relevant(line.bytes, boundaries);
      if (env) {
        const p = env.payload;
        const opens = boundaries.opens(env);
        if (env.type === 'event_msg' && (p.type === 'task_started' || p.type === 'turn_started')) {
          pendingTask = { at: i, turnId: typeof p.turn_id === 'string' ? p.turn_id : '', user: null };
          map.tasks.push(pendingTask);
          mark(i);
        } else if (env.type === 'event_msg' && TERMINALS.has(p.type)) {
          map.terminals.push(i);
          pendingTask = null;
        } else if (opens) {
          const turn: UserTurn = { at: i, start: pendingTask?.at ?? i, task: pendingTask, dropped: false };
          if (pendingTask) pendingTask.user = turn;
          else mark(i);
          pendingTask = null;
          map.users.push(turn);
          live.push(turn);
        } else {
          const n = rolledBack(env);
          if (n) {
            map.rollbacks.push({ at: i, turns: n });
            for (const turn of live.splice(Math.max(0, live.length - n))) turn.dropped = true;
          }
        }
      }
      prev = { segment, end: line.end, bytes: line.bytes };
    }
    // The read buffer is about to be reused: keep a copy of the one line that outlives its batch.
    if (prev) prev.bytes = Buffer.from(prev.bytes);
  }
  mark(map.lines);
  return map;
}

const TERMINALS = new Set(['task_complete', 'turn_complete', 'turn_aborted']);

/** Where to cut, as the user asked. */
export type Cut = { kind: 'full' } | { kind: 'turns'; range: TurnRange } | { kind: 'before' | 'after'; turnId: string };

/** What the fork keeps: history lines `[start, end)`. */
export interface Plan {
  start: number;
  end: number;
  /** Real user turns in the kept lines, rollbacks applied. */
  turns: number;
  /** Set when the kept lines end inside a turn: that turn's id, when it has one. */
  midTurn: { turnId: string | null } | null;
}

/** The lines to keep for `cut`; a turn or turn id the session (`session`, for messages) does not have is an error. */
export function planCut(map: TurnMap, cut: Cut, session: string): Plan {
  const live = map.users.filter((u) => !u.dropped);
  let start = 0;
  let end = map.lines;
  switch (cut.kind) {
    case 'full':
      break;
    case 'turns': {
      const [first, last] = selectTurns(cut.range, live.length, session);
      // Kept from the top, the lines before the first turn stay; kept from a later turn, they go.
      if (cut.range.from !== null) start = live[first - 1]!.start;
      if (last < live.length) end = live[last]!.start;
      break;
    }
    case 'before':
    case 'after': {
      const flag = `--${cut.kind}-turn`;
      const where = { file: session };
      if (!map.tasks.length) {
        throw new RolloutError(`${flag}: the session has no turn ids (no task_started events); cut with --keep-turns, --drop-turns or --last-turns`, where);
      }
      const task = map.tasks.find((t) => t.turnId === cut.turnId);
      if (!task) throw new RolloutError(`${flag}: no turn ${cut.turnId} in this session`, where);
      if (task.user?.dropped) throw new RolloutError(`${flag}: turn ${cut.turnId} was rolled back`, where);
      end = cut.kind === 'before' ? task.at : (map.tasks.find((t) => t.at > task.at)?.at ?? map.lines);
      break;
    }
  }
  return { start, end, turns: turnsIn(map, start, end), midTurn: midTurn(map, start, end) };
}

/** Real user turns among history lines `[start, end)`, with the rollbacks among them applied. */
function turnsIn(map: TurnMap, start: number, end: number): number {
  const inside = (at: number) => at >= start && at < end;
  const events = [
    ...map.users.filter((u) => inside(u.at)).map((u) => ({ at: u.at, drop: 0 })),
    ...map.rollbacks.filter((r) => inside(r.at)).map((r) => ({ at: r.at, drop: r.turns })),
  ].sort((a, b) => a.at - b.at);
  let n = 0;
  for (const e of events) n = e.drop ? Math.max(0, n - e.drop) : n + 1;
  return n;
}

/**
 * Whether lines `[start, end)` end inside a turn (spec 6.2): the last `task_started` has no
 * `task_complete`/`turn_aborted` after it; in files without turn events, the last user turn has none.
 */
function midTurn(map: TurnMap, start: number, end: number): Plan['midTurn'] {
  const lastBefore = <T extends { at: number }>(list: T[]) => list.filter((x) => x.at >= start && x.at < end).pop();
  const task = lastBefore(map.tasks);
  const opened = task ?? lastBefore(map.users);
  if (!opened || map.terminals.some((t) => t > opened.at && t < end)) return null;
  return { turnId: task?.turnId || null };
}

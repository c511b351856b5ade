// What the first pass keeps of each turn, in columns of typed arrays: some 30 bytes a turn, so that
// even a session of a hundred thousand turns plans in a few megabytes. What a turn's first record
// says (its time, its turn id) is not kept: the second pass reads it there. Turn ids are kept only
// as hashes, to tell which turn a task's end belongs to.
import type { TurnOutcome, TurnStatus } from '../items/model.js';

const STATUSES: readonly TurnStatus[] = ['unknown', 'open', 'completed', 'failed', 'aborted'];

/** A turn as the plan knows it. */
export interface TurnFacts extends TurnOutcome {
  /** Position of the turn's first record (its `task_started` when it has one, else its user message). */
  start: number;
}

/** A 53-bit hash of a turn id: two ids agree by chance with odds of one in 2^53. */
function idHash(id: string): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
}

export class TurnTable {
  length = 0;
  private start = new Float64Array(64);
  private status = new Uint8Array(64);
  /** NaN for none. */
  private duration = new Float64Array(64);
  /** NaN for none. */
  private id = new Float64Array(64);
  private context = new Int32Array(64);
  private inherited = new Uint8Array(64);
  /** Failed turns' messages, by index (few turns fail). */
  private readonly errors = new Map<number, string>();
  /** Every (model, directory) pair seen; turns share them. */
  private readonly contexts: Array<{ model: string | null; cwd: string | null }> = [];
  private readonly contextIndex = new Map<string, number>();

  push(t: { start: number; turnId: string | null; status: TurnStatus; model: string | null; cwd: string | null; inherited: boolean }): void {
    if (this.length === this.start.length) this.grow();
    const i = this.length++;
    this.start[i] = t.start;
    this.status[i] = STATUSES.indexOf(t.status);
    this.duration[i] = NaN;
    this.id[i] = t.turnId ? idHash(t.turnId) : NaN;
    this.context[i] = this.contextOf(t.model, t.cwd);
    this.inherited[i] = t.inherited ? 1 : 0;
    this.errors.delete(i);
  }

  /** Keeps the first `n` turns. */
  truncate(n: number): void {
    this.length = Math.min(this.length, n);
  }

  startOf(i: number): number {
    return this.start[i]!;
  }

  get(i: number): TurnFacts {
    const d = this.duration[i]!;
    return {
      start: this.start[i]!,
      status: STATUSES[this.status[i]!]!,
      duration_ms: Number.isNaN(d) ? null : d,
      error: this.errors.get(i) ?? null,
      ...this.contexts[this.context[i]!]!,
      inherited: this.inherited[i] === 1,
    };
  }

  /** The turn a task's end belongs to: the last one, unless both have ids and they differ; -1 for none. */
  find(turnId: unknown): number {
    const last = this.length - 1;
    if (last < 0 || typeof turnId !== 'string' || !turnId || Number.isNaN(this.id[last])) return last;
    const h = idHash(turnId);
    for (let i = last; i >= 0; i--) if (this.id[i] === h) return i;
    return -1;
  }

  end(i: number, status: TurnStatus, duration: number | null, error: string | null): void {
    this.status[i] = STATUSES.indexOf(status);
    if (duration !== null) this.duration[i] = duration;
    if (error !== null) this.errors.set(i, error);
  }

  inheritedCount(): number {
    let n = 0;
    for (let i = 0; i < this.length; i++) n += this.inherited[i]!;
    return n;
  }

  private contextOf(model: string | null, cwd: string | null): number {
    const key = JSON.stringify([model, cwd]);
    let k = this.contextIndex.get(key);
    if (k === undefined) {
      k = this.contexts.push({ model, cwd }) - 1;
      this.contextIndex.set(key, k);
    }
    return k;
  }

  private grow(): void {
    const bigger = <T extends Float64Array | Uint8Array | Int32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.start = bigger(this.start);
    this.status = bigger(this.status);
    this.duration = bigger(this.duration);
    this.id = bigger(this.id);
    this.context = bigger(this.context);
    this.inherited = bigger(this.inherited);
  }
}

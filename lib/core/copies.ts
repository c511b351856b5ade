// Which lines of a file are history copied from a parent, not the session's own: a legacy fork's
// copy (from the parent's session_meta to where the fork's own lines begin), and, in a sub-agent's
// file, the lines numbered below its `subagent_history_start_ordinal`. Every reader that counts what
// a session did (the index's usage and weights, rollout-feed's records) asks here, line by line, and
// carries the state as JSON from one read of a growing file to the next.
import type { Line } from './lines.js';
import { ordinalSpan, peekTimestamp, type Envelope, type SessionMetaPayload } from './record.js';

export interface CopyCarry {
  /** Legacy copied fork: reading the parent's copied lines ('copied'), or the fork's own. */
  copy?: 'copied' | 'own';
  /** Whether the copy rewrote envelope timestamps (then a pause in them ends the copy). */
  rewritten?: boolean;
  lastCopiedAt?: number;
  /** A sub-agent's `subagent_history_start_ordinal`: lines below it, past the head, are copied. */
  ownFrom?: number;
}

/** A pause this long in a copy's rewritten timestamps ends the copy (it is written in one append). */
const COPY_PAUSE_MS = 2000;

/** The envelope timestamp of a line, read from its first bytes (NaN when it has another shape). */
export function lineTime(bytes: Buffer): number {
  const at = peekTimestamp(bytes);
  return at === null ? NaN : Date.parse(at);
}

export class Copies {
  /**
   * @param carry What the last read of the file left (changed in place, for the next).
   * @param createdAt When the file's session began (ms), from its own session_meta.
   */
  constructor(
    private readonly carry: CopyCarry,
    private readonly createdAt: () => number,
  ) {}

  /** Inside a legacy fork's copy. */
  get copying(): boolean {
    return this.carry.copy === 'copied';
  }

  /** The file's own session_meta. */
  own(m: SessionMetaPayload): void {
    if (Number.isSafeInteger(m.subagent_history_start_ordinal)) this.carry.ownFrom = m.subagent_history_start_ordinal as number;
  }

  /**
   * A session_meta with another id than the file's: a legacy fork's copy of its parent begins, when
   * it comes before any turn of the file's own (`mayBegin`).
   */
  otherMeta(line: Line, mayBegin: boolean): void {
    if (this.carry.copy || !mayBegin) return;
    const at = lineTime(line.bytes);
    this.carry.copy = 'copied';
    this.carry.rewritten = !(at < this.createdAt());
    this.carry.lastCopiedAt = at;
  }

  /** The `thread_settings_applied` Codex writes after a copy ends it. */
  settingsApplied(): void {
    if (this.carry.copy === 'copied') this.carry.copy = 'own';
  }

  /**
   * A line inside the copy (parsed or not): the copy ends at the first line written after the fork
   * was made (copies that kept their timestamps) or after a pause (copies that were re-stamped, all
   * in one append).
   */
  clock(line: Line, env: Envelope | null): void {
    if (this.carry.copy !== 'copied' || env?.type === 'session_meta') return;
    const at = lineTime(line.bytes);
    if (Number.isNaN(at)) return;
    const ended = this.carry.rewritten ? at - (this.carry.lastCopiedAt ?? at) > COPY_PAUSE_MS : at >= this.createdAt();
    if (ended) {
      this.carry.copy = 'own';
      delete this.carry.lastCopiedAt;
    } else this.carry.lastCopiedAt = at;
  }

  /** Whether a line past the head is a parent's history. */
  copied(line: Line): boolean {
    if (this.carry.copy === 'copied') return true;
    if (this.carry.ownFrom === undefined) return false;
    const span = ordinalSpan(line.bytes);
    return span !== null && Number(line.bytes.toString('latin1', span[0], span[1])) < this.carry.ownFrom;
  }
}

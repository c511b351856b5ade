// The records an export reads: a session's full history (the prefixes of the ancestors a fork or
// revert references, then its own lines) as envelope lines, old bare generations normalized on the
// way. Each record has a position, counted across the whole history, so two passes over the same
// history can talk about the same record. Lines are read into one reused buffer (a fresh megabyte
// per read costs page faults, and garbage that inflates memory until the collector gets to it), so
// a record's bytes are valid only until the next batch is pulled: a pass keeps strings, never bytes.
import { warn } from '../cli.js';
import type { Segment } from '../history.js';
import { isBareGeneration, Normalizer, parseLine, quickCheck } from '../record.js';
import { openSession } from '../session.js';

export interface Rec {
  /** Position in the full history, from 0. */
  pos: number;
  /** The envelope line, valid until the next batch is pulled. */
  bytes: Buffer;
  /** Index of the segment it comes from; the last segment is the session's own file. */
  segment: number;
}

export interface Source extends Segment {
  label: string;
}

const TIMESTAMP = Buffer.from('{"timestamp":"');

/** An envelope's timestamp from the first bytes of its line, without parsing it. */
export function peekTimestamp(bytes: Buffer): string | null {
  if (bytes.compare(TIMESTAMP, 0, TIMESTAMP.length, 0, TIMESTAMP.length) !== 0) return null;
  const end = bytes.indexOf(0x22, TIMESTAMP.length);
  return end === -1 || end - TIMESTAMP.length > 64 ? null : bytes.toString('latin1', TIMESTAMP.length, end);
}

const MESSAGE_ROLE = Buffer.from('"payload":{"type":"message","role":"');
/** Where a canonical line's payload opens at the latest (after its timestamp, ordinal and type). */
const PAYLOAD_WITHIN = 160;

/** A message's role from the first bytes of its line, or null when they do not say. */
export function peekRole(bytes: Buffer): string | null {
  const at = bytes.indexOf(MESSAGE_ROLE);
  if (at === -1 || at > PAYLOAD_WITHIN) return null;
  const from = at + MESSAGE_ROLE.length;
  const end = bytes.indexOf(0x22, from);
  return end === -1 || end - from > 32 ? null : bytes.toString('latin1', from, end);
}

/**
 * The records of `segments` in order, in batches. With `diagnose`, bad lines and torn tails are
 * reported on stderr (one pass should do that, not both).
 */
export async function* records(segments: Source[], diagnose: boolean): AsyncGenerator<Rec[]> {
  let pos = 0;
  for (let s = 0; s < segments.length; s++) {
    const seg = segments[s];
    const session = await openSession(seg.path, { form: seg.form, limit: seg.limit, transient: true });
    const normalizer = isBareGeneration(session.generation) ? new Normalizer() : null;
    let bad = 0;
    try {
      for await (const batch of session.batches) {
        const out: Rec[] = [];
        for (const line of batch) {
          if (normalizer) {
            const record = parseLine(line.bytes);
            if (record === undefined) {
              if (diagnose && bad++ < 10) warn('not valid JSON; left out', { file: seg.label, line: line.no });
              continue;
            }
            for (const l of normalizer.convert(record)) out.push({ pos: pos++, bytes: Buffer.from(l), segment: s });
            continue;
          }
          if (quickCheck(line.bytes)) {
            if (diagnose && bad++ < 10) warn('not a valid JSON line; left out', { file: seg.label, line: line.no });
            continue;
          }
          out.push({ pos: pos++, bytes: line.bytes, segment: s });
        }
        if (out.length) yield out;
      }
      if (diagnose && bad > 10) warn(`${bad - 10} more bad lines left out`, { file: seg.label });
      // A prefix cut by history_base ends where the child says; what follows it is not torn.
      if (diagnose && session.stats.torn && seg.limit === undefined) {
        warn(`torn last line (${session.stats.torn.bytes.length} bytes without a newline) left out`, { file: seg.label, line: session.stats.torn.no });
      }
    } finally {
      await session.close();
    }
  }
}

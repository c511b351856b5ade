// The records an export reads: a session's full history (the prefixes of the ancestors a fork or
// revert references, then its own lines) as envelope lines, old bare generations normalized on the
// way. Each record has a position, counted across the whole history, so two passes over the same
// history can talk about the same record. Lines are read into one reused buffer (a fresh megabyte
// per read costs page faults, and garbage that inflates memory until the collector gets to it), so
// a record's bytes are valid only until the next batch is pulled: a pass keeps strings, never bytes.
import { warn } from '../cli/errors.js';
import type { Segment } from '../home/history.js';
import { isBareGeneration, Normalizer, parseLine, quickCheck } from '../core/record.js';
import { openSession } from '../core/session.js';

/**
 * A batch of records, as read. No object is made per record: a pass walks `lines` by index, and a
 * record's position in the full history is `first` plus its index. Positions count every line,
 * left out or not, so both passes agree on them.
 */
export interface Records {
  /** Index of the segment they come from; the last segment is the session's own file. */
  segment: number;
  /** Position of `lines[0]`. */
  first: number;
  /** The envelope lines, valid until the next batch is pulled. */
  lines: ReadonlyArray<{ bytes: Buffer }>;
  /** Indexes of lines left out (not UTF-8 JSON), or null when there are none. */
  bad: ReadonlySet<number> | null;
}

export interface Source extends Segment {
  label: string;
}

/**
 * The records of `segments` in order, in batches. With `diagnose`, bad lines and torn tails are
 * reported on stderr (one pass should do that, not both).
 */
export async function* records(segments: Source[], diagnose: boolean): AsyncGenerator<Records> {
  let pos = 0;
  for (let s = 0; s < segments.length; s++) {
    const seg = segments[s]!;
    const session = await openSession(seg.path, { form: seg.form, limit: seg.limit, transient: true });
    const normalizer = isBareGeneration(session.generation) ? new Normalizer() : null;
    let warned = 0;
    const left = (what: string, line: number) => {
      if (diagnose && warned++ < 10) warn(what, { file: seg.label, line });
    };
    try {
      for await (const batch of session.batches) {
        if (normalizer) {
          // Old bare lines become envelope lines, fresh buffers of their own.
          const lines: Array<{ bytes: Buffer }> = [];
          for (const line of batch) {
            const record = parseLine(line.bytes);
            if (record === undefined) left('not valid JSON; left out', line.no);
            else for (const l of normalizer.convert(record)) lines.push({ bytes: Buffer.from(l) });
          }
          yield { segment: s, first: pos, lines, bad: null };
          pos += lines.length;
          continue;
        }
        let bad: Set<number> | null = null;
        for (let i = 0; i < batch.length; i++) {
          if (!quickCheck(batch[i]!.bytes)) continue;
          left('not a valid JSON line; left out', batch[i]!.no);
          (bad ??= new Set()).add(i);
        }
        yield { segment: s, first: pos, lines: batch, bad };
        pos += batch.length;
      }
      if (diagnose && warned > 10) warn(`${warned - 10} more bad lines left out`, { file: seg.label });
      // A prefix cut by history_base ends where the child says; what follows it is not torn.
      if (diagnose && session.stats.torn && seg.limit === undefined) {
        warn(`torn last line (${session.stats.torn.bytes.length} bytes without a newline) left out`, { file: seg.label, line: session.stats.torn.no });
      }
    } finally {
      await session.close();
    }
  }
}

// rollout-cat's work: stream sessions' lines to an Output, byte for byte, with the few
// transformations asked for (type filter, canonical meta only, full fork history, normalization).
import { RolloutError, warn } from '../cli/errors.js';
import { ancestry, type Segment } from '../home/history.js';
import { isUtf8 } from 'node:buffer';
import type { Line, LineBatch, LineStats } from '../core/lines.js';
import type { Output } from '../cli/output.js';
import { isBareGeneration, isEnvelope, looksLikeObject, Normalizer, parseLine, quickCheck, typeFilter, type Generation } from '../core/record.js';
import type { Resolver, Target } from '../home/resolve.js';
import { metaOf, openSession } from '../core/session.js';
import { STDIN } from '../core/source.js';

export interface CatOptions {
  types: string[];
  meta: boolean;
  full: boolean;
  normalize: boolean;
  strict: boolean;
}

/** Warnings past this many per file are counted, not printed. */
const WARNINGS_PER_FILE = 10;

class FileDiagnostics {
  private shown = 0;
  private hidden = 0;

  constructor(readonly label: string) {}

  warn(message: string, line?: number): void {
    if (this.shown < WARNINGS_PER_FILE) {
      this.shown++;
      warn(message, { file: this.label, line });
    } else this.hidden++;
  }

  finish(): void {
    if (this.hidden) warn(`${this.hidden} more warnings like these`, { file: this.label });
  }
}

/** Streams one session; returns false when it failed (the error is already reported). */
export async function catSession(target: Target, resolver: Resolver, opts: CatOptions, out: Output): Promise<void> {
  const path = target.stdin ? STDIN : target.file.path;
  const form = target.stdin ? undefined : target.file.form;
  // Lines are written out before the next batch is read, so the read buffer can be reused.
  const session = await openSession(path, { form, transient: true });
  try {
    if (opts.meta) return await writeMeta(session.label, session.batches, session.generation, opts, out);
    if (opts.full) {
      const chain = await ancestry(metaOf(session.first), resolver, session.label);
      for (const segment of chain) await catSegment(segment, opts, out);
    }
    await copyLines(session.label, session.batches, session.stats, session.generation, opts, out);
  } finally {
    await session.close();
  }
}

async function catSegment(segment: Segment, opts: CatOptions, out: Output): Promise<void> {
  const s = await openSession(segment.path, { form: segment.form, limit: segment.limit, transient: true });
  try {
    await copyLines(s.label, s.batches, s.stats, s.generation, opts, out, segment.limit !== undefined);
  } finally {
    await s.close();
  }
}

async function copyLines(
  label: string,
  batches: AsyncIterable<LineBatch>,
  stats: LineStats,
  generation: Generation | null,
  opts: CatOptions,
  out: Output,
  prefixOnly = false,
): Promise<void> {
  const diag = new FileDiagnostics(label);
  const keep = typeFilter(opts.types);
  const normalizer = opts.normalize && isBareGeneration(generation) ? new Normalizer() : null;
  const passThrough = !keep && !normalizer && !opts.strict;
  for await (const batch of batches) {
    // The common case: a run of good lines is written as the bytes it was read as, in one piece.
    let upTo = batch.length;
    if (passThrough && batch.span && isUtf8(batch.span) && batch.every((l, i) => i < batch.spanFirst! || looksLikeObject(l.bytes))) {
      upTo = batch.spanFirst!;
    }
    for (let i = 0; i < upTo; i++) {
      const line = batch[i]!;
      if (normalizer) {
        const record = parseLine(line.bytes);
        if (record === undefined) {
          if (opts.strict) throw malformed(label, line, 'not valid JSON');
          diag.warn('not valid JSON; left out of the normalized output', line.no);
          continue;
        }
        for (const converted of normalizer.convert(record)) {
          const bytes = Buffer.from(converted);
          if (!keep || keep(bytes)) out.line(bytes);
        }
        continue;
      }
      let problem = quickCheck(line.bytes);
      if (!problem && opts.strict && parseLine(line.bytes) === undefined) problem = 'json';
      if (problem) {
        const what = problem === 'utf8' ? 'invalid UTF-8' : 'not valid JSON';
        if (opts.strict) throw malformed(label, line, what);
        diag.warn(`${what}; passed through raw`, line.no);
      }
      if (!keep || keep(line.bytes)) out.line(line.bytes);
    }
    if (upTo < batch.length) out.write(batch.span!);
  }
  // A prefix cut by history_base ends where the child says; whatever follows is not torn.
  if (stats.torn && !prefixOnly) {
    const what = `torn last line (${stats.torn.bytes.length} bytes without a newline)`;
    if (opts.strict) throw new RolloutError(what, { file: label, line: stats.torn.no });
    diag.warn(`${what} left out`, stats.torn.no);
  }
  diag.finish();
}

function malformed(label: string, line: Line, what: string): RolloutError {
  return new RolloutError(`${what} (--strict)`, { file: label, line: line.no });
}

/** The canonical session_meta: the first record when it is one (for bare generations, the bare meta). */
async function writeMeta(label: string, batches: AsyncGenerator<Line[]>, generation: Generation | null, opts: CatOptions, out: Output): Promise<void> {
  for await (const batch of batches) {
    const first = batch[0]!;
    if (isBareGeneration(generation)) {
      const record = parseLine(first.bytes);
      // generationOf took this record for a bare meta, and convert makes a meta one line at least.
      out.line(opts.normalize && record !== undefined ? new Normalizer().convert(record)[0]! : first.bytes);
      return;
    }
    const record = parseLine(first.bytes);
    if (isEnvelope(record) && record.type === 'session_meta') {
      out.line(first.bytes);
      return;
    }
    break;
  }
  throw new RolloutError('no session_meta on the first line', { file: label });
}

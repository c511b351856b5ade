// Opening one session for reading: its lines, its generation, and its first record. Generation 0
// (the TypeScript CLI's pretty `.json`) is one JSON document, not lines, so it becomes one line.
import { readFile, stat } from 'node:fs/promises';
import { RolloutError } from '../cli/errors.js';

import { BOM, lineBatches, newStats, type Line, type LineStats } from './lines.js';
import { generationOf, isEnvelope, parseLine, type Generation, type NameForm, type SessionMetaPayload } from './record.js';
import { openSource, STDIN } from './source.js';

/** Generation-0 documents are read whole; they were small, and a string cannot exceed ~512 MB. */
const MAX_JSON_DOCUMENT = 256 << 20;

export interface OpenSession {
  /** The path, or `<stdin>`. */
  label: string;
  generation: Generation | null;
  /** The first line, parsed (undefined when it is not JSON). */
  first: unknown;
  /** Every line from the start. */
  batches: AsyncGenerator<Line[]>;
  stats: LineStats;
  /** Releases the file when reading stops early (iterating to the end releases it too). */
  close(): Promise<void>;
}

export interface OpenOptions {
  form?: NameForm;
  /** Bytes of the decompressed stream to read at most (a `history_base` prefix). */
  limit?: number;
  /** Reuse one read buffer: lines are valid only until the next batch is pulled (see lines.ts). */
  transient?: boolean;
  /** The size of a transient read (see ChunkOptions). */
  chunk?: number;
}

export async function openSession(path: string, opts: OpenOptions = {}): Promise<OpenSession> {
  const label = path === STDIN ? '<stdin>' : path;
  if (opts.form === 'json') return openDocument(path, label);
  const stats = newStats();
  const all = lineBatches(openSource(path, { transient: opts.transient, chunk: opts.chunk }), stats, { transient: opts.transient });
  const head = await all.next();
  const firstBatch = head.done ? [] : head.value;
  const first = firstBatch.length ? parseLine(firstBatch[0]!.bytes) : undefined;
  return {
    label,
    generation: generationOf(first, opts.form ?? 'nested'),
    first,
    batches: limited(replay(firstBatch, all), opts.limit),
    stats,
    close: async () => {
      await all.return(undefined);
    },
  };
}

async function* replay(first: Line[], rest: AsyncGenerator<Line[]>): AsyncGenerator<Line[]> {
  try {
    if (first.length) yield first;
    yield* rest;
  } finally {
    await rest.return(undefined);
  }
}

/** Only the lines that end within the first `limit` bytes. */
async function* limited(batches: AsyncGenerator<Line[]>, limit?: number): AsyncGenerator<Line[]> {
  if (limit === undefined) return yield* batches;
  try {
    for await (const batch of batches) {
      const keep = batch.filter((l) => l.end <= limit);
      if (keep.length) yield keep;
      if (keep.length < batch.length) return;
    }
  } finally {
    await batches.return(undefined);
  }
}

async function openDocument(path: string, label: string): Promise<OpenSession> {
  const { size } = await stat(path);
  if (size > MAX_JSON_DOCUMENT) throw new RolloutError(`a .json session of ${size} bytes is too large to read`, { file: label });
  const raw = await readFile(path);
  // A byte-order mark (an editor's) is passed over, as it is before a line; fsck reports it.
  const bom = raw.subarray(0, 3).equals(BOM);
  const doc = parseLine(bom ? raw.subarray(3) : raw);
  if (doc === undefined) throw new RolloutError('not a JSON document', { file: label });
  const bytes = Buffer.from(JSON.stringify(doc));
  const stats = { ...newStats(), lines: 1, bytes: raw.length, bom };
  async function* one() {
    yield [{ bytes, no: 1, offset: 0, end: raw.length }];
  }
  return { label, generation: generationOf(doc, 'json'), first: doc, batches: one(), stats, close: async () => {} };
}

/** The canonical `session_meta` payload: the first record's, when the first record is one. */
export function metaOf(first: unknown): SessionMetaPayload | null {
  if (isEnvelope(first) && first.type === 'session_meta' && typeof first.payload?.id === 'string') {
    return first.payload as SessionMetaPayload;
  }
  return null;
}

/** Reads just the head of a session: its generation and canonical meta. */
export async function readHead(path: string, form?: NameForm): Promise<{ generation: Generation | null; meta: SessionMetaPayload | null; first: unknown }> {
  // Only the first line is wanted, and it is parsed: a small reused buffer does, where a fresh
  // megabyte per head added up over a home's worth of sessions.
  const s = await openSession(path, { form, transient: true, chunk: 64 << 10 });
  await s.close();
  return { generation: s.generation, meta: metaOf(s.first), first: s.first };
}

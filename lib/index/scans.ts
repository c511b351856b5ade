// Reading many files into the index, in order. A large run reads on a worker thread while this one
// writes to SQLite: parsing and full-text inserts each take about half the time of a build, and the
// machine has a core for each. Small runs read here, since a worker costs its start-up.
import { on } from 'node:events';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { breathe } from '../fs/atomic.js';
import type { SessionFile } from '../home/paths.js';
import { scanFile, unreadable, type Doc, type Row, type ScanResult } from './scan.js';

/** One file to read: whole, or (with `prev`) from where the previous read stopped. */
export interface ScanJob {
  file: SessionFile;
  prev: Row | null;
}

/** Where the results go, job by job in the jobs' order: documents, then the result or the reason it failed. */
export interface ScanSink<D = SinkDoc> {
  doc(job: number, d: D): void;
  done(job: number, r: ScanResult): Promise<void>;
  failed(job: number, why: string): void;
}

/**
 * What the worker posts. Documents travel packed: their texts as UTF-8 in one transferred buffer
 * (SQLite takes them as they are), the rest in typed arrays. Posted as strings, they were copied
 * into this thread's heap, and enough of them were alive at each collection to be promoted and fill
 * the old generation with garbage.
 */
export type ScanMessage = { job: number; docs: PackedDocs } | { job: number; done: ScanResult } | { job: number; failed: string };

export interface PackedDocs {
  texts: Uint8Array;
  /** Where each text ends in `texts`. */
  ends: Uint32Array;
  roles: Uint8Array;
  lines: Float64Array;
  /** NaN for none. */
  ordinals: Float64Array;
}

const ROLES: ReadonlyArray<Doc['role']> = ['user', 'assistant', 'reasoning', 'tool', 'output', 'agent'];
const ROLE_CODE = new Map(ROLES.map((r, i) => [r, i]));

/** A document as the sink receives it: its text as a string, or as UTF-8 bytes. */
export type SinkDoc = Omit<Doc, 'text'> & { text: string | Uint8Array };

/** The documents packed, and what to transfer rather than copy. */
export function pack(docs: Doc[]): [PackedDocs, ArrayBuffer[]] {
  const n = docs.length;
  const ends = new Uint32Array(n);
  const roles = new Uint8Array(n);
  const lines = new Float64Array(n);
  const ordinals = new Float64Array(n);
  let size = 0;
  for (let i = 0; i < n; i++) ends[i] = size += Buffer.byteLength(docs[i]!.text);
  // (Not from Buffer's shared pool: the buffer is transferred, which would take the pool with it.)
  const texts = Buffer.from(new ArrayBuffer(size));
  for (let i = 0; i < n; i++) {
    const d = docs[i]!;
    texts.write(d.text, i === 0 ? 0 : ends[i - 1]!);
    roles[i] = ROLE_CODE.get(d.role)!;
    lines[i] = d.line;
    ordinals[i] = d.ordinal ?? Number.NaN;
  }
  const packed = { texts, ends, roles, lines, ordinals };
  return [packed, [texts.buffer, ends.buffer, roles.buffer, lines.buffer, ordinals.buffer] as ArrayBuffer[]];
}

export function* unpack(p: PackedDocs): Generator<SinkDoc> {
  const texts = Buffer.from(p.texts.buffer, p.texts.byteOffset, p.texts.byteLength);
  for (let i = 0, start = 0; i < p.ends.length; start = p.ends[i++]!) {
    const ordinal = p.ordinals[i]!;
    yield { text: texts.subarray(start, p.ends[i]), role: ROLES[p.roles[i]!]!, line: p.lines[i]!, ordinal: Number.isNaN(ordinal) ? null : ordinal };
  }
}

/**
 * Messages the worker may have posted and this thread not yet handled: bounds the memory between them
 * (each holds at most about 128 K characters of text). Some files give the writer much to do and the
 * reader little, others the reverse; 32 absorbed that about 10% better than 8, for 4 MB more at peak.
 */
export const WINDOW = 32;

/** Below this many bytes to read, a worker's start-up costs more than it saves. */
const WORKER_MIN_BYTES = 32 << 20;

/**
 * Jobs go to the worker this many at a time, at most two chunks ahead of what it has finished: a
 * home of 100,000 files is never copied to it whole (given all at once, the jobs held hundreds of
 * megabytes in both heaps).
 */
export const CHUNK = 256;

const WORKER = fileURLToPath(new URL('./scan-worker.js', import.meta.url));

/**
 * The files of a run, made one at a time as they are reached (a job may hold its file's whole
 * row); `count` and `bytes` say beforehand how large the run is.
 */
export interface ScanJobs {
  count: number;
  bytes: number;
  jobs: AsyncIterable<ScanJob>;
}

/**
 * `ROLLOUT_SCAN_WORKER=0` reads on this thread always, `=1` on a worker whenever the build has one;
 * otherwise a worker reads runs of at least 32 MB on a machine with more than one core.
 */
function useWorker(run: ScanJobs, env = process.env): boolean {
  // (Run from the TypeScript sources, as the unit tests are, there is no compiled worker.)
  if (env.ROLLOUT_SCAN_WORKER === '0' || run.count === 0 || !existsSync(WORKER)) return false;
  if (env.ROLLOUT_SCAN_WORKER === '1') return true;
  return availableParallelism() > 1 && run.bytes >= WORKER_MIN_BYTES;
}

/** `here`: on this thread, whatever the size. */
export async function scanAll(run: ScanJobs, sink: ScanSink, here = false): Promise<void> {
  if (!here && useWorker(run)) await onWorker(run, sink);
  else await inOrder(run.jobs, sink);
}

/** Reads the jobs on this thread: what a small run does, and what the worker does for a large one. */
export async function inOrder(jobs: AsyncIterable<ScanJob> | Iterable<ScanJob>, sink: ScanSink<Doc>): Promise<void> {
  let i = 0;
  for await (const { file, prev } of jobs) {
    await breathe();
    let r: ScanResult;
    try {
      r = await scanFile(file, prev, (d) => sink.doc(i, d));
    } catch (err) {
      const why = unreadable(err);
      if (why === null) throw err;
      sink.failed(i++, why);
      continue;
    }
    await sink.done(i++, r);
  }
}

/** What this thread posts to the worker: the next chunk of jobs, or the end of them. */
export type JobMessage = { jobs: ScanJob[] } | { end: true };

async function onWorker(run: ScanJobs, sink: ScanSink): Promise<void> {
  const { Worker } = await import('node:worker_threads');
  // How many messages this thread has handled; the worker waits on it when it is WINDOW ahead.
  const handled = new Int32Array(new SharedArrayBuffer(4));
  // A small young generation: the reader allocates fast and keeps little, and V8 would otherwise
  // grow it to tens of megabytes that are mostly garbage (its collections stay cheap either way).
  const worker = new Worker(WORKER, { workerData: { handled }, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
  const source = run.jobs[Symbol.asyncIterator]();
  let sent = 0;
  let finished = 0;
  let ended = false;
  const topUp = async () => {
    while (!ended && sent - finished < 2 * CHUNK) {
      const chunk: ScanJob[] = [];
      while (chunk.length < CHUNK) {
        const next = await source.next();
        if (next.done) {
          ended = true;
          break;
        }
        // Only what the reader needs crosses to it (a caller's job may carry more, such as the old row).
        chunk.push({ file: next.value.file, prev: next.value.prev });
      }
      if (chunk.length) worker.postMessage({ jobs: chunk } satisfies JobMessage);
      if (ended) worker.postMessage({ end: true } satisfies JobMessage);
      sent += chunk.length;
    }
  };
  // A worker that ends without an error of its own (one is an 'error' event first) would leave the
  // loop waiting for ever.
  const early = (code: number) => worker.emit('error', new Error(`the reading thread stopped early (exit status ${code})`));
  worker.once('exit', early);
  try {
    await topUp();
    if (sent === 0) return;
    for await (const [m] of on(worker, 'message') as AsyncIterable<[ScanMessage]>) {
      if ('docs' in m) for (const d of unpack(m.docs)) sink.doc(m.job, d);
      else if ('done' in m) await sink.done(m.job, m.done);
      else sink.failed(m.job, m.failed);
      Atomics.add(handled, 0, 1);
      Atomics.notify(handled, 0);
      if ('docs' in m) continue;
      finished++;
      await topUp();
      if (ended && finished === sent) break;
    }
  } finally {
    worker.off('exit', early);
    await worker.terminate();
  }
}

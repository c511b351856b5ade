// Bringing the index up to date, as the binaries ask for it: first the cheap check that the home is
// as the last run left it (fresh.ts); failing that, the work of sync.ts, on a worker thread. Nothing
// heavy is loaded on this side.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { RolloutError } from '../cli.js';
import type { Home } from '../home.js';
import { openIndex } from './db.js';
import { isFresh, type Snapshot } from './fresh.js';

export interface Summary {
  scanned: number;
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
  moved: number;
  bytes_read: number;
  ms: number;
}

export interface Drift {
  drift: 'new' | 'grown' | 'changed' | 'moved' | 'gone' | 'names';
  id?: string;
  path?: string;
  from?: string;
}

export interface UpdateOptions {
  index: string;
  /** No warnings (the worker thread has its own copy of that setting). */
  quiet?: boolean;
  /** How long to wait for another writer, in ms; past that the run returns null. */
  waitMs?: number;
  /** Build a fresh index beside the old one and rename it into place. */
  rebuild?: boolean;
  progress?: boolean;
}

export interface PathsOptions {
  index: string;
  quiet?: boolean;
  /** Re-read every named file whole, changed or not. */
  force?: boolean;
  waitMs?: number;
}

export const emptySummary = (): Summary => ({ scanned: 0, added: 0, updated: 0, removed: 0, unchanged: 0, moved: 0, bytes_read: 0, ms: 0 });

/** The snapshot of the last full run, when the home still matches it (see fresh.ts). */
function freshSnapshot(home: Home, index: string): Snapshot | null {
  if (!existsSync(index)) return null;
  const db = openIndex(index, { readonly: true });
  try {
    return isFresh(db, home);
  } finally {
    db.close();
  }
}

/** What a worker run is asked to do, and the answer it posts back. */
export interface Job {
  op: 'update' | 'paths';
  args: unknown[];
  quiet: boolean;
}

export type Answer = { value: unknown } | { error: { message: string; where?: RolloutError['where']; exitCode?: number; code?: string; path?: string; stack?: string } };

/** Young generation of the worker: small, at the price of a few more (cheap) scavenges. */
const YOUNG_MB = 4;

/**
 * Runs a job on a worker thread (lib/index/worker.ts); its errors come back as the errors they were.
 * The point is a bound on memory: a long run allocates without pause, and V8 then grows a thread's
 * young generation to its maximum (48 MB on the main thread, more than the rest of a run together).
 * A worker's young generation can be capped, so a run takes the same memory whatever the size of
 * the sessions it reads.
 */
function inWorker<T>(job: Job): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./worker.js', import.meta.url), {
      workerData: job,
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB },
    });
    let settled = false;
    w.once('message', (a: Answer) => {
      settled = true;
      if ('value' in a) resolve(a.value as T);
      else reject(revive(a.error));
    });
    w.once('error', (err) => {
      settled = true;
      reject(err);
    });
    w.once('exit', (code) => {
      if (!settled) reject(new Error(`the index worker stopped (exit ${code})`));
    });
  });
}

function revive(e: Extract<Answer, { error: unknown }>['error']): Error {
  if (e.exitCode !== undefined) return new RolloutError(e.message, e.where, e.exitCode);
  return Object.assign(new Error(e.message), { code: e.code, path: e.path, stack: e.stack });
}

/**
 * Brings the whole index up to date; null when another writer held the lock past `waitMs`. When the
 * home is as the last run left it, that is all; otherwise the work is done on a worker thread.
 */
export async function update(home: Home, opts: UpdateOptions): Promise<Summary | null> {
  const started = Date.now();
  const fresh = opts.rebuild ? null : freshSnapshot(home, opts.index);
  if (fresh) return { ...emptySummary(), scanned: fresh.files, unchanged: fresh.files, ms: Date.now() - started };
  const s = await inWorker<Summary | null>({ op: 'update', args: [home, opts], quiet: Boolean(opts.quiet) });
  return s && { ...s, ms: Date.now() - started };
}

/** What `update` would do, without doing it: one entry per drifted session. */
export async function check(home: Home, index: string): Promise<Drift[]> {
  if (freshSnapshot(home, index)) return [];
  return (await import('./sync.js')).checkHere(home, index);
}

/** Brings the rows of these paths up to date; null when another writer held the lock. */
export async function updatePaths(home: Home, paths: string[], opts: PathsOptions): Promise<Summary | null> {
  return inWorker<Summary | null>({ op: 'paths', args: [home, paths, opts], quiet: Boolean(opts.quiet) });
}

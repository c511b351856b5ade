// Locks between rollout runs: for a file that several writers change in place (Codex's
// session_index.jsonl, appended to by naming, rewritten by --clear and by deletes; Codex itself
// appends without one, so a rewrite also compares and swaps, see codex-state.ts), and for a
// session that one run is deleting, moving, compressing or repairing (see safety.ts).
//
// A lock is a file created exclusively, holding its owner's process id.
// A signal removes it with the process's temp files; one left by a killed process is taken over
// once that process is gone.
import { closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { holdTemp, openMaking, processAlive, unlinkIfThere } from './atomic.js';
import { RolloutError } from '../cli/errors.js';

const lockOf = (path: string) => join(dirname(path), `.${basename(path)}.rollout-lock`);

/** The process id written in a lock file (0 while it is being written, or when it is gone). */
function ownerOf(lock: string): number {
  try {
    return Number(readFileSync(lock, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Takes the lock file `lock`, waiting up to `waitMs` for another holder; returns the function
 * that releases it, or the holder's process id when it was not free in time.
 */
export async function takeLock(lock: string, waitMs: number): Promise<(() => void) | number> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openMaking(lock, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = ownerOf(lock);
      if (pid && !processAlive(pid)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() >= deadline) return pid;
      await sleep(20);
    }
  }
  const forget = holdTemp(lock);
  return () => {
    unlinkIfThere(lock);
    forget();
  };
}

/** Runs `fn` holding the lock of `path`, waiting up to `waitMs` for another holder. */
export async function withFileLock<T>(path: string, fn: () => Promise<T> | T, waitMs = 10_000): Promise<T> {
  const lock = lockOf(path);
  const release = await takeLock(lock, waitMs);
  if (typeof release === 'number') throw new RolloutError(`another rollout run is changing it (its lock ${lock} is held); try again`, { file: path });
  try {
    return await fn();
  } finally {
    release();
  }
}

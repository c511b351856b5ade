// A lock for a file that several writers change in place: Codex's session_index.jsonl (appended to
// by naming, rewritten by --clear and by deletes). Two rollout runs take turns through it; Codex
// itself appends without one, so a rewrite also compares and swaps (see codex-state.ts).
//
// The lock is a file created exclusively beside the locked one, holding its owner's process id.
// A signal removes it with the process's temp files; one left by a killed process is taken over
// once that process is gone.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { holdTemp } from './atomic.js';
import { RolloutError } from './cli.js';

const lockOf = (path: string) => join(dirname(path), `.${basename(path)}.rollout-lock`);

function ownerGone(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(lock, 'utf8').trim());
  } catch {
    return false; // being written, or gone already: try again
  }
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn` holding the lock of `path`, waiting up to `waitMs` for another holder. */
export async function withFileLock<T>(path: string, fn: () => Promise<T> | T, waitMs = 10_000): Promise<T> {
  const lock = lockOf(path);
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (ownerGone(lock)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new RolloutError(`another rollout run is changing it (its lock ${lock} is held); try again`, { file: path });
      await sleep(20);
    }
  }
  const release = holdTemp(lock);
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
    release();
  }
}

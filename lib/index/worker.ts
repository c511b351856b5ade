// The entry of the worker thread that does an index run's reading and writing (see inWorker() in
// update.ts for why a thread).
import { parentPort, workerData } from 'node:worker_threads';
import { RolloutError, setQuiet } from '../cli.js';
import { updateHere, updatePathsHere } from './sync.js';
import type { Answer, Job } from './update.js';

if (parentPort) {
  const job = workerData as Job;
  setQuiet(job.quiet);
  let answer: Answer;
  try {
    const value = job.op === 'update' ? await updateHere(...(job.args as Parameters<typeof updateHere>)) : await updatePathsHere(...(job.args as Parameters<typeof updatePathsHere>));
    answer = { value };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & Partial<RolloutError>;
    answer = {
      error: err instanceof RolloutError ? { message: e.message, where: e.where, exitCode: e.exitCode } : { message: String(e?.message ?? e), code: e?.code, path: e?.path, stack: e?.stack },
    };
  }
  parentPort.postMessage(answer);
}

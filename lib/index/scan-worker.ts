// The reading half of a large index run (see scans.ts): reads the jobs in order, as they arrive in
// chunks, and posts their documents in batches, then each file's result. Waits whenever it is WINDOW
// messages ahead of the thread that writes them, so a slow writer never makes it hold a whole file's
// documents.
import { parentPort, workerData } from 'node:worker_threads';
import type { Doc } from './scan.js';
import { inOrder, pack, WINDOW, type JobMessage, type ScanJob, type ScanMessage } from './scans.js';

/** Documents are posted once they hold this much text (or their file ends). */
const BATCH_CHARS = 128 << 10;

const { handled } = workerData as { handled: Int32Array };

/** The jobs as the writing thread sends them; after the last, this thread is free to end. */
async function* arriving(): AsyncGenerator<ScanJob> {
  const queue: JobMessage[] = [];
  let wake: (() => void) | null = null;
  const take = (m: JobMessage) => {
    queue.push(m);
    wake?.();
  };
  parentPort!.on('message', take);
  try {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const m = queue.shift()!;
      if ('end' in m) return;
      yield* m.jobs;
    }
  } finally {
    parentPort!.off('message', take);
  }
}

let posted = 0;

function post(m: ScanMessage, transfer: ArrayBuffer[] = []): void {
  for (let seen = Atomics.load(handled, 0); posted - seen >= WINDOW; seen = Atomics.load(handled, 0)) Atomics.wait(handled, 0, seen);
  parentPort!.postMessage(m, transfer);
  posted++;
}

let docs: Doc[] = [];
let chars = 0;

function flush(job: number): void {
  if (docs.length) {
    const [packed, transfer] = pack(docs);
    post({ job, docs: packed }, transfer);
  }
  docs = [];
  chars = 0;
}

await inOrder(arriving(), {
  doc(job, d) {
    docs.push(d);
    if ((chars += d.text.length) >= BATCH_CHARS) flush(job);
  },
  async done(job, r) {
    flush(job);
    post({ job, done: r });
  },
  failed(job, why) {
    // (Documents already posted are dropped with the file's others.)
    docs = [];
    chars = 0;
    post({ job, failed: why });
  },
});

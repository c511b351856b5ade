// The reading half of a large index run (see scans.ts): reads the jobs in order and posts their
// documents in batches, then each file's result. Waits whenever it is WINDOW messages ahead of the
// thread that writes them, so a slow writer never makes it hold a whole file's documents.
import { parentPort, workerData } from 'node:worker_threads';
import type { Doc } from './scan.js';
import { inOrder, pack, WINDOW, type ScanJob, type ScanMessage } from './scans.js';

/** Documents are posted once they hold this much text (or their file ends). */
const BATCH_CHARS = 128 << 10;

const { jobs, handled } = workerData as { jobs: ScanJob[]; handled: Int32Array };
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

await inOrder(jobs, {
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

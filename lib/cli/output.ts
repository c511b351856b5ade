// The one owner of stdout. Writes are batched into large blocks and issued with writeSync, which is
// both the fastest path Node has and gives natural back-pressure: a slow reader blocks us instead of
// letting output pile up in memory. A closed pipe (`| head`) ends the process quietly with status 0.
import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { clearProgress, stdoutLineOpen } from './screen.js';
import { safeJson } from './terminal.js';

const BLOCK = 1 << 20;
/** Larger writes skip the block: copying them would cost more than the extra system call. */
const DIRECT = BLOCK >> 2;
const NEWLINE = 0x0a;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Thrown when the reader went away; `main` turns it into a quiet exit 0. */
export class BrokenPipe extends Error {
  constructor() {
    super('broken pipe');
  }
}

export class Output {
  private block = Buffer.allocUnsafe(BLOCK);
  private used = 0;

  /** On the terminal the progress bar is drawn on, the bar steps aside for what is written. */
  private readonly terminal: boolean;

  constructor(readonly fd = 1) {
    this.terminal = isatty(fd);
  }

  /** Writes `bytes` followed by a newline. */
  line(bytes: Uint8Array | string): void {
    this.write(bytes);
    this.byte(NEWLINE);
  }

  write(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (bytes.length >= DIRECT || bytes.length > BLOCK - this.used) {
      this.flush();
      if (bytes.length >= DIRECT) return this.writeAll(bytes);
    }
    this.block.set(bytes, this.used);
    this.used += bytes.length;
  }

  /** One JSON value as an NDJSON line (characters a terminal would act on written as escapes). */
  json(value: unknown): void {
    this.line(safeJson(JSON.stringify(value)));
  }

  flush(): void {
    if (this.used === 0) return;
    const pending = this.block.subarray(0, this.used);
    this.used = 0;
    this.writeAll(pending);
  }

  private byte(b: number): void {
    if (this.used === BLOCK) this.flush();
    this.block[this.used++] = b;
  }

  private writeAll(bytes: Uint8Array): void {
    if (this.terminal && bytes.length) {
      clearProgress();
      stdoutLineOpen(bytes[bytes.length - 1] !== NEWLINE);
    }
    let done = 0;
    while (done < bytes.length) {
      try {
        done += writeSync(this.fd, bytes, done, bytes.length - done);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') throw new BrokenPipe();
        // A non-blocking pipe that is full: wait a moment rather than spin.
        if (code === 'EAGAIN') Atomics.wait(sleeper, 0, 0, 2);
        else throw err;
      }
    }
  }
}

/** The process-wide stdout. */
export const stdout = new Output(1);

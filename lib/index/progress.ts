// A one-line progress bar on stderr, for runs long enough to deserve one: drawn only when stderr is a
// terminal, and only after the work has already taken a moment.
import { writeSync } from 'node:fs';

const DELAY_MS = 700;
const EVERY_MS = 100;
const WIDTH = 30;

export class Progress {
  private readonly started = Date.now();
  private drawnAt = 0;
  private drawn = false;

  constructor(
    private readonly totalBytes: number,
    private readonly enabled = Boolean(process.stderr.isTTY),
  ) {}

  update(files: number, totalFiles: number, bytes: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.started < DELAY_MS || now - this.drawnAt < EVERY_MS) return;
    this.drawnAt = now;
    this.drawn = true;
    const frac = this.totalBytes ? Math.min(1, bytes / this.totalBytes) : totalFiles ? files / totalFiles : 1;
    const filled = Math.round(frac * WIDTH);
    const bar = '#'.repeat(filled) + ' '.repeat(WIDTH - filled);
    const line = `rollout-index: [${bar}] ${Math.floor(frac * 100)}% ${files}/${totalFiles} files, ${mb(bytes)} of ${mb(this.totalBytes)}`;
    write(`\r${line}\x1b[K`);
  }

  done(): void {
    if (this.drawn) write('\r\x1b[K');
  }
}

const mb = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;

function write(s: string): void {
  try {
    writeSync(2, s);
  } catch {
    // A progress bar is not worth failing for.
  }
}

// The progress bar of every binary: one line on stderr for work long enough to deserve one (indexing,
// pruning, exporting a batch, checking a home). Left to itself it shows only on a terminal, only once
// the work has taken a moment (a quick run never flashes one) and never with -q; `--progress` draws it
// regardless (into a file or pipe as whole lines, at most one a second, the last one always), and
// `--no-progress` never. Its text is our own words and numbers, never a session's.
import { writeSync } from 'node:fs';
import { barShown, clearProgress, lineFree } from './screen.js';
import { visible } from './terminal.js';
import { humanBytes } from './units.js';

export type ProgressMode = 'auto' | 'on' | 'off';

/** Redraws on a terminal at most this often; lines into a file or pipe at most once a second. */
const EVERY_MS = 100;
const EVERY_LINE_MS = 1000;
/** Left to itself, work shows a bar only once it has run this long. */
const DELAY_MS = 700;
const BAR_WIDTH = 30;
const CLEAR = '\r\x1b[K';

/** Who draws bars in this process, and how: set once by `main`. */
const config: { name: string; mode: ProgressMode } = { name: 'rollout', mode: 'auto' };

export function setProgress(name: string, mode: ProgressMode): void {
  config.name = name;
  config.mode = mode;
}

/** What `--progress`/`--no-progress` ask for (the last one given wins); -q alone silences the bar too. */
export function progressMode(flags: readonly string[], quiet: boolean): ProgressMode {
  for (let i = flags.length - 1; i >= 0; i--) {
    if (flags[i] === '--progress') return 'on';
    if (flags[i] === '--no-progress') return 'off';
  }
  return quiet ? 'off' : 'auto';
}

/** Whether a bar could be drawn at all in this process (work that must prepare its totals asks first). */
export const progressMayShow = (): boolean => config.mode === 'on' || (config.mode === 'auto' && Boolean(process.stderr.isTTY));

export interface Frame {
  /** What is being done, e.g. `rollout-index: indexing`. */
  label: string;
  /** What is counted, singular (`file`, `session`). */
  noun: string;
  done: number;
  total: number;
  bytes: number;
  totalBytes: number;
  elapsedMs: number;
}

/** `0:07`, `12:30`, `1:02:03`. */
function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  const mm = String(Math.floor(s / 60) % 60);
  const ss = String(s % 60).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm.padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/**
 * One frame, fitted to `columns` (the bar narrows, then goes, then the text is cut): a line that
 * wraps could not be drawn over again.
 */
export function frame(f: Frame, columns = Infinity): string {
  // Bytes say how far the work is better than a count of files of any size; a count does when there are none.
  const part = f.totalBytes > 0 ? f.bytes / f.totalBytes : f.total > 0 ? f.done / f.total : 1;
  const frac = Math.min(1, Math.max(0, part));
  const elapsed = Math.max(1, f.elapsedMs);
  const eta = frac >= 1 ? '0:00' : frac > 0 ? clock((elapsed * (1 - frac)) / frac) : '--:--';
  const rate = humanBytes(Math.round((f.bytes * 1000) / elapsed));
  const counts =
    `${Math.floor(frac * 100)}% ${f.done}/${f.total} ${f.noun}${f.total === 1 ? '' : 's'}, ` +
    `${humanBytes(f.bytes)}/${humanBytes(f.totalBytes)}, ${rate}/s, ETA ${eta}`;
  const label = visible(f.label);
  const room = columns - 1 - label.length - counts.length - 4;
  const width = Math.min(BAR_WIDTH, room);
  if (width < 5) return `${label} ${counts}`.slice(0, Math.max(0, columns - 1));
  const filled = Math.round(frac * width);
  return `${label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${counts}`;
}

/** Where a bar goes and what time it is: the process's stderr and clock, unless a test gives its own. */
export interface ProgressTarget {
  mode: ProgressMode;
  name: string;
  terminal: boolean;
  columns: () => number;
  now: () => number;
  write: (text: string) => void;
}

function processTarget(): ProgressTarget {
  return {
    mode: config.mode,
    name: config.name,
    terminal: Boolean(process.stderr.isTTY),
    columns: () => process.stderr.columns || 80,
    now: () => Date.now(),
    write: (text) => {
      try {
        writeSync(2, text);
      } catch {
        // A progress bar is not worth failing for.
      }
    },
  };
}

/** A bar over `total` things of `totalBytes` bytes; `add` as each is done, `finish` once at the end. */
export class Progress {
  private readonly to: ProgressTarget;
  private readonly started: number;
  private done = 0;
  private bytes = 0;
  private drawnAt = -Infinity;
  /** The counts of the last frame drawn, so that the final one is not said twice. */
  private drawnDone = -1;

  constructor(
    private readonly what: string,
    private readonly total: number,
    private readonly totalBytes: number,
    private readonly noun: string,
    target: Partial<ProgressTarget> = {},
  ) {
    this.to = { ...processTarget(), ...target };
    this.started = this.to.now();
  }

  add(items: number, bytes: number): void {
    this.done += items;
    this.bytes += bytes;
    const { mode, terminal } = this.to;
    if (mode === 'off' || (mode === 'auto' && !terminal)) return;
    const now = this.to.now();
    if (mode === 'auto' && now - this.started < DELAY_MS) return;
    if (now - this.drawnAt < (terminal ? EVERY_MS : EVERY_LINE_MS)) return;
    this.draw(now);
  }

  /** The end of the work: a forced bar shows its final counts (when there was work); on a terminal the line is cleared. */
  finish(): void {
    if (this.to.mode === 'on' && this.total > 0 && this.drawnDone !== this.done) this.draw(this.to.now());
    clearProgress();
  }

  private draw(now: number): void {
    if (this.to.terminal && !lineFree()) return;
    this.drawnAt = now;
    this.drawnDone = this.done;
    const f: Frame = {
      label: `${this.to.name}: ${this.what}`,
      noun: this.noun,
      done: this.done,
      total: this.total,
      bytes: this.bytes,
      totalBytes: this.totalBytes,
      elapsedMs: now - this.started,
    };
    if (!this.to.terminal) return this.to.write(`${frame(f)}\n`);
    this.to.write(`\r${frame(f, this.to.columns())}\x1b[K`);
    barShown(() => this.to.write(CLEAR));
  }
}

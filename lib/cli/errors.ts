// The one format for diagnostics, `rollout-<cmd>: error: <what>` on stderr, with `file:line` in front
// of the message where one applies; exit codes; and which failures stop one session and which stop
// the run.
import { writeSync } from 'node:fs';
import { clearProgress } from './screen.js';
import { visible } from './terminal.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure the user can act on: printed as one line, never with a stack trace. */
export class RolloutError extends Error {
  constructor(
    message: string,
    readonly where?: { file?: string; line?: number },
    readonly exitCode = EXIT_FAILURE,
  ) {
    super(message);
  }
}

export class UsageError extends RolloutError {
  /** A line of advice after the error (`try 'rollout-x --help'`). */
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message, undefined, EXIT_USAGE);
  }
}

/** Who is speaking, and whether only errors may be said: set once by `main`. */
const speaker = { name: 'rollout', quiet: false };

/** `-q` means one thing in every binary: nothing on stderr but errors. */
export function setSpeaker(name: string, quiet: boolean): void {
  speaker.name = name;
  speaker.quiet = quiet;
}

export function location(where?: { file?: string; line?: number }): string {
  if (!where?.file) return '';
  return where.line ? `${where.file}:${where.line}: ` : `${where.file}: `;
}

/** One line on stderr, whatever it quotes (names, paths, lines of a session) made harmless to a terminal. */
function say(message: string): void {
  clearProgress();
  try {
    writeSync(2, `${speaker.name}: ${visible(message)}\n`);
  } catch {
    // stderr is gone too: nothing left to tell anyone.
  }
}

/** A line for the person at the terminal (a summary, a hint), as `rollout-<cmd>: <message>`; not with -q. */
export function notice(message: string): void {
  if (!speaker.quiet) say(message);
}

export function warn(message: string, where?: { file?: string; line?: number }): void {
  if (!speaker.quiet) say(`warning: ${location(where)}${message}`);
}

export function error(message: string, where?: { file?: string; line?: number }): void {
  say(`error: ${location(where)}${message}`);
}

/** A thrown value's `code` (`ENOENT`, `SQLITE_BUSY`, ...), or '' when it has none. */
export function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/**
 * Whether a failure belongs to one session (reported, and the run goes on to the next) rather than
 * to the run: our own errors and the system's (a file gone, unreadable, a full disk). Anything else
 * is a bug, and stops the run with its stack.
 */
export const isPerSession = (err: unknown): boolean => err instanceof RolloutError || codeOf(err) !== '';

/** Reports any thrown value as an error line; returns the exit code it deserves. */
export function report(err: unknown): number {
  if (err instanceof RolloutError) {
    error(err.message, err.where);
    // The way out of a usage error is said even with -q.
    if (err instanceof UsageError && err.hint) say(err.hint);
    return err.exitCode;
  }
  const e = err as NodeJS.ErrnoException;
  error(describeSystemError(e));
  if (process.env.ROLLOUT_DEBUG === '1' && e?.stack) writeSync(2, `${e.stack}\n`);
  return EXIT_FAILURE;
}

/** Turns Node's `ENOENT: no such file or directory, open '/x'` into `/x: no such file or directory`. */
export function describeSystemError(e: NodeJS.ErrnoException): string {
  if (e?.code && e.path) {
    const reason = String(e.message)
      .replace(/^[A-Z]+: /, '')
      .replace(/, \w+ '.*'$/, '');
    return `${e.path}: ${reason}`;
  }
  return e?.message ?? String(e);
}

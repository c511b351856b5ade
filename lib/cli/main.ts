// Everything a binary shares: flag parsing (cac), exit codes, and the one format for diagnostics,
// `rollout-<cmd>: error: <what>` on stderr, with `file:line` in front of the message where one applies.
import { writeSync } from 'node:fs';
import { cac } from 'cac';
import { BrokenPipe, stdout } from './output.js';
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
  /** A line of advice after the error (`Try 'rollout-x --help'.`). */
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message, undefined, EXIT_USAGE);
  }
}

let programName = 'rollout';

export function location(where?: { file?: string; line?: number }): string {
  if (!where?.file) return '';
  return where.line ? `${where.file}:${where.line}: ` : `${where.file}: `;
}

function diagnostic(kind: 'error' | 'warning', message: string, where?: { file?: string; line?: number }): void {
  notice(`${kind}: ${location(where)}${message}`);
}

/**
 * A line for the person at the terminal (a summary), as `rollout-<cmd>: <message>` on stderr.
 * Whatever the message quotes (names, paths, lines of a session) cannot act on the terminal.
 */
export function notice(message: string): void {
  try {
    writeSync(2, `${programName}: ${visible(message)}\n`);
  } catch {
    // stderr is gone too: nothing left to tell anyone.
  }
}

export function warn(message: string, where?: { file?: string; line?: number }): void {
  if (!quiet) diagnostic('warning', message, where);
}

export function error(message: string, where?: { file?: string; line?: number }): void {
  diagnostic('error', message, where);
}

/** A thrown value's `code` (`ENOENT`, `SQLITE_BUSY`, ...), or '' when it has none. */
export function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** Reports any thrown value as an error line; returns the exit code it deserves. */
export function report(err: unknown): number {
  if (err instanceof RolloutError) {
    error(err.message, err.where);
    if (err instanceof UsageError && err.hint) notice(err.hint);
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

/** Set by `main` from a program's `-q, --quiet`: warnings are left out (errors never are). */
let quiet = false;

export const color = (): boolean => !('NO_COLOR' in process.env) && Boolean(process.stderr.isTTY);

export type Options = Record<string, unknown>;

export interface Program {
  name: string;
  /** Words after the program name in the synopsis, e.g. `[options] <session>...`. */
  usage: string;
  summary: string;
  /** Paragraphs after the summary in --help (and in the man page's DESCRIPTION). */
  details?: string[];
  /** `[flags, description, default?]`; a `<value>` flag given twice or more arrives as an array. */
  options: Array<[string, string, unknown?]>;
  examples?: string[];
  /** Runs the command; returns its exit code. */
  run(args: string[], options: Options): Promise<number>;
}

export const VERSION = '0.1.0';

const STANDARD_OPTIONS: Array<[string, string]> = [
  ['-h, --help', 'Show this help and exit'],
  ['-V, --version', 'Show the version and exit'],
];

const EXIT_STATUS = 'Exit status: 0 success, 1 failure (not found, unreadable, corrupt), 2 usage error.';

/** The --help text; the man pages are checked against it. */
export function helpText(p: Program): string {
  const options = [...p.options, ...STANDARD_OPTIONS];
  const width = Math.max(...options.map(([f]) => f.length)) + 2;
  const out = [`Usage: ${p.name} ${p.usage}`, '', `${p.summary}.`];
  for (const d of p.details ?? []) out.push('', d);
  out.push('', 'Options:');
  for (const [flags, description] of options) out.push(`  ${flags.padEnd(width)}${description}`);
  if (p.examples?.length) out.push('', 'Examples:', ...p.examples.map((e) => `  ${e}`));
  out.push('', EXIT_STATUS, '');
  return out.join('\n');
}

// mri, under cac, swallows a lone `-`; it stands for stdin, so it is hidden from the parser.
const STDIN_ARG = '\u0000stdin';

/** Parses argv for `program`, runs it, flushes stdout, and sets the exit code. Never throws. */
export async function main(program: Program, argv = process.argv.slice(2)): Promise<void> {
  programName = program.name;
  let code: number;
  try {
    const end = argv.indexOf('--');
    const flags = end === -1 ? argv : argv.slice(0, end);
    if (flags.includes('-h') || flags.includes('--help')) {
      stdout.write(helpText(program));
      code = EXIT_OK;
    } else if (flags.includes('-V') || flags.includes('--version')) {
      stdout.line(`${program.name} ${VERSION}`);
      code = EXIT_OK;
    } else {
      const parsed = parse(
        program,
        argv.map((a) => (a === '-' ? STDIN_ARG : a)),
      );
      const args = parsed.args.map((a) => (a === STDIN_ARG ? '-' : String(a)));
      quiet = Boolean(parsed.options.quiet);
      code = await program.run(args, parsed.options);
    }
    stdout.flush();
  } catch (err) {
    code = err instanceof BrokenPipe ? EXIT_OK : report(err);
  }
  process.exitCode = code;
}

function parse(program: Program, argv: string[]): { args: ReadonlyArray<string>; options: Options } {
  const cli = cac(program.name);
  const command = cli.command('[...args]', program.summary);
  for (const [flags, description, value] of program.options) {
    command.option(flags, description, value === undefined ? undefined : { default: value });
  }
  try {
    const parsed = cli.parse(['node', program.name, ...argv], { run: false });
    cli.matchedCommand?.checkUnknownOptions();
    cli.matchedCommand?.checkOptionValue();
    return parsed;
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/`/g, "'"), `try '${program.name} --help'`);
  }
}

/** The values of a repeatable `<value>` option, as strings (cac turns `001` into 1). */
export function list(value: unknown): string[] {
  if (value === undefined || value === null || value === false) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** The last value of an option given once or more, as a string. */
export function single(value: unknown): string | undefined {
  const all = list(value);
  return all.length ? all[all.length - 1] : undefined;
}

/** An option's value as a whole number (0 included: callers that need more say so). */
export function wholeNumber(value: unknown, flag: string): number | undefined {
  const s = single(value);
  if (s === undefined) return undefined;
  if (!/^\d+$/.test(s)) throw new UsageError(`${flag} takes a whole number, not '${s}'`);
  return Number(s);
}

// What every binary shares around its own work: flags (cac), --help and --version, and the exit code
// its run or its failure deserves.
import { readFileSync } from 'node:fs';
import { cac } from 'cac';
import { completionScript, completionShell, SHELLS, type Shell } from './completion.js';
import { EXIT_OK, report, setSpeaker, UsageError } from './errors.js';
import { BrokenPipe, stdout } from './output.js';
import { progressMode, setProgress } from './progress.js';
import type { Options, OptionRow, Program } from './program.js';

export type { Options, OptionRow, Program } from './program.js';

/** package.json's version, the one place it is written (found upwards: built, or run from source). */
export const VERSION: string = (() => {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      return (JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { version: string }).version;
    } catch (err) {
      if (dir.pathname === '/') throw err;
    }
  }
})();

const STANDARD_OPTIONS: OptionRow[] = [
  ['-h, --help', 'Show this help and exit'],
  ['-V, --version', 'Show the version and exit'],
  ['--completion <shell>', 'Print the completion script for SHELL (bash, zsh or fish) and exit', undefined, SHELLS],
];

/** A binary's own option rows and the standard ones: what --help lists and the completion offers. */
const allOptions = (p: Program): OptionRow[] => [...p.options, ...STANDARD_OPTIONS];

const EXIT_STATUS = 'Exit status: 0 success, 1 failure (not found, unreadable, corrupt), 2 usage error.';

/** The --help text; the man pages are checked against it. */
export function helpText(p: Program): string {
  const options = allOptions(p);
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
  setSpeaker(program.name, false);
  let code: number;
  let shell: Shell | undefined;
  try {
    const end = argv.indexOf('--');
    const flags = end === -1 ? argv : argv.slice(0, end);
    if (flags.includes('-h') || flags.includes('--help')) {
      stdout.write(helpText(program));
      code = EXIT_OK;
    } else if (flags.includes('-V') || flags.includes('--version')) {
      stdout.line(`${program.name} ${VERSION}`);
      code = EXIT_OK;
    } else if ((shell = completionShell(flags))) {
      stdout.write(completionScript({ ...program, options: allOptions(program) }, shell));
      code = EXIT_OK;
    } else {
      const parsed = parse(
        program,
        argv.map((a) => (a === '-' ? STDIN_ARG : a)),
      );
      const args = parsed.args.map((a) => (a === STDIN_ARG ? '-' : String(a)));
      setSpeaker(program.name, Boolean(parsed.options.quiet));
      // Read from the words given: cac turns a declared --no-progress into a default of true.
      setProgress(program.name, progressMode(flags, Boolean(parsed.options.quiet)));
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

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
  const rows = [...program.options, ...STANDARD_OPTIONS];
  const cli = cac(program.name);
  const command = cli.command('[...args]', program.summary);
  for (const [flags, description, value] of program.options) {
    command.option(flags, description, value === undefined ? undefined : { default: value });
  }
  try {
    const parsed = cli.parse(['node', program.name, ...valuesMarked(rows, argv)], { run: false });
    cli.matchedCommand?.checkUnknownOptions();
    cli.matchedCommand?.checkOptionValue();
    return { args: parsed.args, options: valuesUnmarked(parsed.options) };
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/`/g, "'"), `try '${program.name} --help'`);
  }
}

// mri, under cac, reads a value that begins with '-' as flags (`--keep-turns -1`: "unknown option
// -1"), an empty value as 0 and `001` as 1. So values are found here, and marked so that mri takes
// each as it is: the token after an option that takes a value is that value unless it is itself one
// of the program's flags.
const VALUE = '\u0001';

/** A row's names as typed (`-f`, `--format`), and whether it takes a value (`<v>` or `[v]`). */
function namesOf([flags]: OptionRow): { names: string[]; value: boolean } {
  return { names: flags.split(/[\s,]+/).filter((w) => w.startsWith('-')), value: /[<[]/.test(flags) };
}

function valuesMarked(rows: OptionRow[], argv: string[]): string[] {
  const flags = new Set<string>();
  const valued = new Set<string>();
  for (const row of rows) {
    const { names, value } = namesOf(row);
    for (const n of names) (value ? valued : flags).add(n);
  }
  // `-qn` is two flags; `-1` is none.
  const isFlag = (t: string) =>
    t === '--' || flags.has(t) || valued.has(t.split('=')[0]!) || (/^-[A-Za-z]{2,}$/.test(t) && [...t.slice(1)].every((c) => flags.has(`-${c}`)));
  const value = (name: string, v: string) => {
    // An option given nothing is a slip (an unset variable), never "use the default".
    if (v === '') throw new UsageError(`${name} needs a value, and '' is empty`);
    return `${name}=${VALUE}${v}`;
  };
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const eq = token.indexOf('=');
    const name = eq === -1 ? token : token.slice(0, eq);
    if (!valued.has(name)) out.push(token);
    else if (eq !== -1) out.push(value(name, token.slice(eq + 1)));
    else if (i + 1 < argv.length && !isFlag(argv[i + 1]!)) out.push(value(name, argv[++i]!));
    else out.push(token);
  }
  return out;
}

/** The values as typed (a `-` among them is stdin's, as in the arguments). */
function valuesUnmarked(options: Options): Options {
  const unmark = (v: unknown) => (typeof v === 'string' && v.startsWith(VALUE) ? (v === VALUE + STDIN_ARG ? '-' : v.slice(1)) : v);
  const out: Options = {};
  for (const [key, value] of Object.entries(options)) out[key] = Array.isArray(value) ? value.map(unmark) : unmark(value);
  return out;
}

/** The values of a repeatable `<value>` option, as strings. */
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

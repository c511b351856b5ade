// What a binary is, as its --help, its man page and its shell completion all read it: a name, a
// synopsis, and the rows of its options. Apart from main.ts so that what reads it need not import
// the runner.

export type Options = Record<string, unknown>;

/**
 * `[flags, description, default?, values?]`; a `<value>` flag given twice or more arrives as an
 * array. `values`: the whole set of words the value may be, when it is a fixed set (shell completion
 * offers them).
 */
export type OptionRow = [string, string, unknown?, (readonly string[])?];

export interface Program {
  name: string;
  /** Words after the program name in the synopsis, e.g. `[options] <session>...`. */
  usage: string;
  summary: string;
  /** Paragraphs after the summary in --help (and in the man page's DESCRIPTION). */
  details?: string[];
  options: OptionRow[];
  examples?: string[];
  /** Runs the command; returns its exit code. */
  run(args: string[], options: Options): Promise<number>;
}

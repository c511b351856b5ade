// Option rows that mean the same in every binary that takes them.
import { COLOR_WHEN, parseColorWhen, useColor } from './color.js';
import { UsageError } from './errors.js';
import { single, type OptionRow, type Options } from './main.js';

export const CODEX_HOME_OPTION: OptionRow = ['--codex-home <dir>', 'The Codex home (default: $CODEX_HOME, else ~/.codex)'];

export const QUIET_OPTION: OptionRow = ['-q, --quiet', 'Nothing on stderr but errors: no warnings, notices or summary'];

/** `--index`, said of what the binary does with it. */
export const indexOption = (what = 'The rollout index'): OptionRow => [
  '--index <file>',
  `${what} (default: $ROLLOUT_INDEX, else <CODEX_HOME>/rollout-index.sqlite)`,
];

export const DRY_RUN_OPTION: OptionRow = ['-n, --dry-run', 'Print what would be done, and do nothing'];

/** How long a file must have been left alone before a destructive binary touches it. */
export const graceOption = (): OptionRow => ['--grace <age>', 'Leave sessions modified within AGE alone (default 10m)'];

/** Colour in what is printed for people (tables); NDJSON never has any. */
export const COLOR_OPTION: OptionRow = [
  '--color <when>',
  'Colour the table: auto (on a terminal, unless NO_COLOR is set), always or never',
  undefined,
  COLOR_WHEN,
];

/** For binaries that do long work: the bar of lib/cli/progress.ts, forced on or off. */
export const PROGRESS_OPTIONS: OptionRow[] = [
  ['--progress', 'Draw the progress bar on stderr even when it is not a terminal, the work is quick, or with -q'],
  ['--no-progress', 'Never draw the progress bar (default: on a terminal, once the work takes a moment)'],
];

/** The last rows of a binary that lists from the index (rollout-ls, rollout-du): output form, the index, the home. */
export const LISTING_OPTIONS: OptionRow[] = [
  ['--json', 'NDJSON even when stdout is a terminal'],
  ['--table', 'The table even when stdout is not a terminal (as wide as $COLUMNS, else unclipped)'],
  COLOR_OPTION,
  ['--no-update', 'Read the index as it is, without bringing it up to date'],
  indexOption('The index'),
  CODEX_HOME_OPTION,
  QUIET_OPTION,
  ...PROGRESS_OPTIONS,
];

/**
 * How a binary with LISTING_OPTIONS prints: a table (`--table`, or a terminal without `--json`) or
 * NDJSON; and whether a table has colour.
 */
export function listingForm(o: Options): { table: boolean; color: boolean } {
  if (o.json && o.table) throw new UsageError('choose one of --json and --table');
  const tty = Boolean(process.stdout.isTTY);
  return { table: Boolean(o.table) || (!o.json && tty), color: useColor(parseColorWhen(single(o.color)), tty) };
}

/**
 * The last rows of a binary that changes sessions in place (rollout-prune, rollout-slim): the backup,
 * the safety rules, the index that chooses, the home.
 */
export const ACTING_OPTIONS: OptionRow[] = [
  [
    '--backup <dir>',
    "Copy every file of each session into DIR (same layout as under the home), read back, before it is changed; never inside the home's session folders",
  ],
  graceOption(),
  DRY_RUN_OPTION,
  indexOption('The rollout index that chooses, updated afterwards'),
  CODEX_HOME_OPTION,
  QUIET_OPTION,
  ...PROGRESS_OPTIONS,
];

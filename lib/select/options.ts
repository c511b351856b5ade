// The selection language on the command line: the same flags, with the same meaning, in every
// binary that chooses sessions. What they mean is the index's query layer (index/query.ts); here
// they are only read.
import { list, single, wholeNumber, type OptionRow, type Options } from '../cli/main.js';
import { UsageError } from '../cli/errors.js';
import { parseSize, parseWhen } from '../cli/units.js';
import { spellings } from '../core/real-path.js';
import type { Filters } from '../index/query.js';

/** The rows every selecting binary lists in its --help, in this order. */
export const SELECTION_OPTIONS: OptionRow[] = [
  ['--cwd <dir>', "Only sessions started in DIR or below it ('.' for the current directory; repeatable)"],
  ['--active', 'Only sessions in sessions/'],
  ['--archived', 'Only sessions in archived_sessions/'],
  ['--include-archived', 'Sessions of both roots'],
  ['--since <when>', 'Last activity at or after WHEN: an age (30d, 12h, 2w, 90m) or a date (2026-01-31)'],
  ['--until <when>', 'Last activity before WHEN: an age or a date'],
  ['--older-than <age>', 'Last activity longer ago than AGE, or before a date (as --until)'],
  ['--model <model>', 'Only sessions whose latest model is MODEL (repeatable)'],
  ['--provider <id>', 'Only sessions of this model provider (repeatable)'],
  ['--source <kind>', 'Only sessions of this source: cli, vscode, exec, mcp, subagent (any kind), subagent:review, ... (repeatable)'],
  ['--no-subagents', 'Leave out subagent threads (those a session spawned; --source subagent lists only them)'],
  ['--name <name>', 'Only sessions named NAME (repeatable)'],
  ['--unnamed', 'Only sessions without a name'],
  ['--forked-from <id>', 'Only forks of this session (id or id prefix)'],
  ['--min-size <size>', 'Only sessions whose files together take at least SIZE on disk (10k, 2M, 1G)'],
  ['--keep-last <n>', 'Leave out, per working directory, the N most recently active sessions of the roots'],
  ['--search <query>', 'Only sessions with a message matching QUERY: words as typed (gpt-5, src/main.rs), AND, OR, NOT, "phrases", NEAR(a b), prefix*'],
];

type Roots = NonNullable<Filters['archived']>;

/**
 * The filters the flags ask for. `roots` is what no root flag means: active sessions, as Codex lists
 * them, unless the binary has a reason of its own (sessions named one by one, or an unarchive).
 */
export function parseSelection(o: Options, roots: Roots = 'exclude'): Filters {
  const f: Filters = {
    archived: rootsOf(o) ?? roots,
    cwd: list(o.cwd).flatMap(spellings),
    model: list(o.model),
    provider: list(o.provider),
    source: list(o.source),
    name: list(o.name),
  };
  if (o.unnamed) f.unnamed = true;
  if (o.subagents === false) f.noSubagents = true;
  if (f.noSubagents && f.source?.some((s) => s.startsWith('subagent'))) throw new UsageError('--no-subagents and --source subagent choose nothing together');
  if (o.unnamed && f.name?.length) throw new UsageError('--name and --unnamed choose nothing together');
  const since = single(o.since);
  if (since !== undefined) f.since = parseWhen(since, '--since');
  const until = [
    ['--until', single(o.until)],
    ['--older-than', single(o.olderThan)],
  ].filter((w): w is [string, string] => w[1] !== undefined);
  if (until.length) f.until = Math.min(...until.map(([flag, when]) => parseWhen(when, flag)));
  const forkedFrom = single(o.forkedFrom);
  if (forkedFrom !== undefined) f.forkedFrom = forkedFrom.toLowerCase();
  const minSize = single(o.minSize);
  if (minSize !== undefined) f.minSize = parseSize(minSize, '--min-size');
  const keepLast = wholeNumber(o.keepLast, '--keep-last');
  if (keepLast !== undefined) f.keepLast = keepLast;
  const search = single(o.search);
  if (search !== undefined) f.search = search;
  return f;
}

/** The root a flag asks for, or undefined when none does. */
function rootsOf(o: Options): Roots | undefined {
  const given = (['active', 'archived', 'includeArchived'] as const).filter((k) => o[k]);
  if (given.length > 1) throw new UsageError(`choose one of --active, --archived and --include-archived`);
  return { active: 'exclude', archived: 'only', includeArchived: 'include' }[given[0]!] as Roots | undefined;
}

/** Whether the filters narrow at all beyond the roots: what a destructive binary asks for before it acts. */
export function narrows(f: Filters): boolean {
  return Boolean(
    f.cwd?.length ||
    f.model?.length ||
    f.provider?.length ||
    f.source?.length ||
    f.noSubagents ||
    f.name?.length ||
    f.unnamed ||
    f.since !== undefined ||
    f.until !== undefined ||
    f.forkedFrom !== undefined ||
    f.minSize !== undefined ||
    f.keepLast !== undefined ||
    f.search !== undefined,
  );
}

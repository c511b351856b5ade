#!/usr/bin/env node
import { resolve } from 'node:path';
import { list, main, notice, wholeNumber, report, single, UsageError, EXIT_FAILURE, EXIT_OK } from '../lib/cli/main.js';
import { codexHome, type Root } from '../lib/home/paths.js';
import { stdout } from '../lib/cli/output.js';
import { prune, type Action, type Summary } from '../lib/prune/prune.js';
import { refsFrom } from '../lib/home/resolve.js';
import { humanBytes, parseDuration, parseSize, parseWhen } from '../lib/cli/units.js';
import { openSource, STDIN } from '../lib/core/source.js';

const ACTIONS: Action[] = ['archive', 'compress', 'unarchive'];
const PAST: Record<Action, string> = { delete: 'deleted', archive: 'archived', compress: 'compressed', unarchive: 'unarchived' };

await main({
  name: 'rollout-prune',
  usage: '[options] (--older-than <age> | --stdin)',
  summary: 'Delete, archive, compress or unarchive the sessions chosen by age, kind and size, safely',
  details: [
    'Sessions are chosen only by explicit criteria: --older-than, --stdin, or both; the other filters narrow them. ' +
      'Each session acted on prints one NDJSON line {"action","id","path","to","bytes","dry_run"}; a session left alone ' +
      'for safety prints {"action":"skip","id","path","reason"}. A summary goes to stderr.',
    'Never touched: files outside sessions/ and archived_sessions/ or reached through a symlink, sessions open in a ' +
      'running Codex or in any other process, modified within --grace or while being acted on, and sessions that a kept ' +
      'fork or revert still reads.',
  ],
  options: [
    ['--older-than <age>', 'Sessions whose last activity is older than AGE (30d, 12h, 2w, 90m) or before a date (2026-01-31)'],
    ['--stdin', 'Sessions named on stdin: ids, names, paths, or rollout-ls NDJSON rows'],
    ['--cwd <dir>', 'Only sessions started in DIR or below it (repeatable)'],
    ['--source <kind>', 'Only sessions of this source: cli, vscode, exec, mcp, subagent, subagent:review, ... (repeatable)'],
    ['--provider <name>', 'Only sessions of this model provider (repeatable)'],
    ['--min-size <size>', 'Only sessions of at least SIZE bytes on disk (K, M, G suffixes)'],
    ['--active', 'Only sessions in sessions/'],
    ['--archived', 'Only sessions in archived_sessions/'],
    ['--unnamed', 'Spare sessions that have a name'],
    ['--keep-last <n>', 'Per working directory, the N most recently active sessions always survive'],
    ['--archive', 'Move the sessions into archived_sessions/ (as codex archive) instead of deleting them'],
    ['--compress', 'Compress the sessions to .jsonl.zst (as Codex compresses) instead of deleting them'],
    ['--unarchive', 'Move archived sessions back into sessions/YYYY/MM/DD/ (as codex unarchive)'],
    [
      '--backup <dir>',
      "Copy every file of each session into DIR (same layout as under the home), read back, before acting; never inside the home's session folders",
    ],
    ['--grace <age>', 'Leave sessions modified within AGE alone (default 10m)'],
    ['-n, --dry-run', 'Print what would be done, and do nothing'],
    ['--index <file>', 'The rollout index to update (default: $ROLLOUT_INDEX, else <CODEX_HOME>/rollout-index.sqlite)'],
    ['--codex-home <dir>', 'The Codex home (default: $CODEX_HOME, else ~/.codex)'],
    ['-q, --quiet', 'Print nothing unless something failed (for cron)'],
  ],
  examples: [
    'rollout-prune --older-than 90d --dry-run',
    'rollout-prune --older-than 30d --source exec --source subagent --backup ~/codex-backup',
    'rollout-prune --older-than 14d --archive --keep-last 5 -q',
    'rollout-ls --cwd ~/src/old | rollout-prune --stdin --compress',
  ],
  async run(args, o) {
    const quiet = Boolean(o.quiet);
    if (args.length) throw new UsageError(`unexpected argument '${args[0]}': name sessions on stdin with --stdin`);
    const actions = ACTIONS.filter((a) => o[a]);
    if (actions.length > 1) throw new UsageError(`choose one action, not --${actions.join(' and --')}`);
    const action: Action = actions[0] ?? 'delete';
    const older = single(o.olderThan);
    const olderThan = older === undefined ? undefined : parseWhen(older, '--older-than');
    if (olderThan === undefined && !o.stdin) throw new UsageError('say which sessions: --older-than AGE and/or --stdin');
    const roots: Root[] = o.active && !o.archived ? ['sessions'] : o.archived && !o.active ? ['archived_sessions'] : ['sessions', 'archived_sessions'];
    if (action === 'archive' && o.archived && !o.active) throw new UsageError('--archive moves active sessions; --archived selects none');
    if (action === 'unarchive' && o.active && !o.archived) throw new UsageError('--unarchive moves archived sessions; --active selects none');
    const grace = single(o.grace);
    const graceMs = grace === undefined ? 10 * 60_000 : parseDuration(grace);
    if (graceMs === null) throw new UsageError(`--grace takes a duration like 10m, 2h or 0, not '${grace}'`);
    const backup = single(o.backup);
    const dryRun = Boolean(o.dryRun);

    const summary = await prune(
      codexHome(single(o.codexHome)),
      {
        action,
        olderThan,
        refs: o.stdin ? refsFrom(openSource(STDIN)) : undefined,
        cwds: list(o.cwd),
        sources: list(o.source),
        providers: list(o.provider),
        minSize: o.minSize === undefined ? undefined : parseSize(single(o.minSize)!, '--min-size'),
        roots,
        unnamed: Boolean(o.unnamed),
        keepLast: wholeNumber(o.keepLast, '--keep-last'),
        graceMs,
        dryRun,
        backup: backup === undefined ? undefined : resolve(backup),
        index: single(o.index),
        now: Date.now(),
      },
      {
        line: (row) => {
          if (!quiet) stdout.json(row);
        },
        error: (err) => {
          stdout.flush();
          report(err);
        },
      },
    );
    stdout.flush();
    if (!quiet) tell(summary, action, dryRun);
    return summary.errors ? EXIT_FAILURE : EXIT_OK;
  },
});

function tell(s: Summary, action: Action, dryRun: boolean): void {
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  let text = `${dryRun ? `would have ${PAST[action]}` : PAST[action]} ${n(s.acted, 'session')} (${humanBytes(s.bytes)}`;
  if (action === 'compress' && !dryRun && s.acted) text += ` to ${humanBytes(s.compressedBytes)}`;
  text += ')';
  if (s.skipped) text += `, skipped ${s.skipped}`;
  if (s.errors) text += `, ${n(s.errors, 'error')}`;
  notice(text);
}

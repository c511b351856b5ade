#!/usr/bin/env node
import { resolve } from 'node:path';
import { EXIT_FAILURE, EXIT_OK, notice, report, UsageError } from '../lib/cli/errors.js';
import { main, single } from '../lib/cli/main.js';
import { ACTING_OPTIONS } from '../lib/cli/options.js';
import { stdout } from '../lib/cli/output.js';
import { count, humanBytes, parseDuration } from '../lib/cli/units.js';
import { openSource, STDIN } from '../lib/core/source.js';
import { codexHome } from '../lib/home/paths.js';
import { refsFrom } from '../lib/home/resolve.js';
import { indexPath } from '../lib/index/db.js';
import { retagOptions } from '../lib/core/retag.js';
import { parsePruneArgs } from '../lib/prune/args.js';
import { prune, type Action, type Summary } from '../lib/prune/prune.js';
import { SELECTION_OPTIONS } from '../lib/select/options.js';

const PAST: Record<Action, string> = { delete: 'deleted', archive: 'archived', compress: 'compressed', unarchive: 'unarchived', retag: 'rewritten' };

await main({
  name: 'rollout-prune',
  usage: '[options] (<filter>... | --stdin)',
  summary: 'Delete, archive, compress, unarchive or rewrite (for where they now belong) the sessions chosen by the selection filters, safely',
  details: [
    'Sessions are chosen as rollout-ls chooses them, with the same filters and the same meanings, so `rollout-prune F -n` ' +
      'names the sessions `rollout-ls F` lists. At least one filter, or --stdin, is required. With --stdin the sessions named ' +
      'there (ids, names, paths, or rollout-ls NDJSON rows) are chosen from both roots, and the filters narrow them. ' +
      'The index is brought up to date first (even in a dry run).',
    'Each session acted on prints one NDJSON line {"action","id","path","to","bytes","dry_run"}; a session left alone ' +
      'for safety prints {"action":"skip","id","path","reason"}. A summary goes to stderr.',
    'Never touched: files outside sessions/ and archived_sessions/ or reached through a symlink, sessions open in a ' +
      'running Codex or in any other process, modified within --grace or while being acted on, and sessions that a kept ' +
      'fork or revert still reads.',
    'With --map-cwd or --set-provider each chosen session is rewritten in place for a moved project or a new provider, ' +
      'as rollout-unbundle rewrites on import (the same fields, nothing else; mtimes kept); no filter is needed: --map-cwd ' +
      'alone chooses the sessions started under an OLD directory. The threads that read a rewritten file through byte ' +
      "offsets are rewritten with it (their offsets moved), all or none. Codex's threads rows are mended and its " +
      'projection of those threads moved with the bytes.',
  ],
  options: [
    ...SELECTION_OPTIONS,
    ['--stdin', 'Sessions named on stdin: ids, names, paths, or rollout-ls NDJSON rows'],
    ['--archive', 'Move the sessions into archived_sessions/ (as codex archive) instead of deleting them'],
    ['--compress', 'Compress the sessions to .jsonl.zst (as Codex compresses) instead of deleting them'],
    ['--unarchive', 'Move archived sessions back into sessions/YYYY/MM/DD/ (as codex unarchive); chooses from archived_sessions/'],
    ...retagOptions('--set-provider'),
    ...ACTING_OPTIONS,
  ],
  examples: [
    'rollout-prune --older-than 90d --dry-run',
    'rollout-prune --older-than 30d --source exec --source subagent --include-archived --backup ~/codex-backup',
    'rollout-prune --older-than 14d --archive --keep-last 5 -q >> ~/.codex-prune.log',
    'rollout-ls --cwd ~/src/old-project | rollout-prune --stdin --compress',
    'rollout-prune --map-cwd ~/src/old-project=$HOME/src/new-project -n',
  ],
  async run(args, o) {
    if (args.length) throw new UsageError(`unexpected argument '${args[0]}': name sessions on stdin with --stdin`);
    const { action, filters, retag } = parsePruneArgs(o);
    const backup = single(o.backup);
    const dryRun = Boolean(o.dryRun);
    const home = codexHome(single(o.codexHome));
    const options = {
      action,
      filters,
      retag,
      refs: o.stdin ? refsFrom(openSource(STDIN)) : undefined,
      graceMs: parseDuration(single(o.grace) ?? '10m', '--grace'),
      dryRun,
      backup: backup === undefined ? undefined : resolve(backup),
      index: indexPath(home, single(o.index)),
      now: Date.now(),
    };
    const onError = (err: unknown) => {
      stdout.flush();
      report(err);
    };
    const summary = await prune(home, options, { line: (row) => stdout.json(row), error: onError });
    stdout.flush();
    tell(summary, action, dryRun);
    return summary.errors ? EXIT_FAILURE : EXIT_OK;
  },
});

function tell(s: Summary, action: Action, dryRun: boolean): void {
  let text = `${dryRun ? `would have ${PAST[action]}` : PAST[action]} ${count(s.acted, 'session')} (${humanBytes(s.bytes)}`;
  if (action === 'compress' && !dryRun && s.acted) text += ` to ${humanBytes(s.compressedBytes)}`;
  text += ')';
  if (s.skipped) text += `, skipped ${s.skipped}`;
  if (s.errors) text += `, ${count(s.errors, 'error')}`;
  notice(text);
}

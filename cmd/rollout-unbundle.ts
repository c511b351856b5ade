#!/usr/bin/env node
import { EXIT_FAILURE, EXIT_OK, notice, UsageError } from '../lib/cli/errors.js';
import { main, single } from '../lib/cli/main.js';
import { CODEX_HOME_OPTION, DRY_RUN_OPTION, graceOption, indexOption, PROGRESS_OPTIONS, QUIET_OPTION } from '../lib/cli/options.js';
import { stdout } from '../lib/cli/output.js';
import { count, parseDuration } from '../lib/cli/units.js';
import { parseRetag, retagOptions } from '../lib/core/retag.js';
import { STDIN } from '../lib/core/source.js';
import { unbundle } from '../lib/bundle/unbundle.js';
import { codexHome } from '../lib/home/paths.js';
import { indexPath } from '../lib/index/db.js';

await main({
  name: 'rollout-unbundle',
  usage: '[options] [<bundle> | -]',
  summary: 'Import the sessions of a bundle (from rollout-bundle) into a Codex home, checked whole before anything is written',
  details: [
    'The bundle (a file, or stdin: given as - or by giving nothing; plain or zstd) is checked whole first: every member ' +
      'against the manifest, every size and SHA-256. A bundle that fails any check is refused and nothing is written.',
    'Each session is then imported, updated, skipped or left as a conflict, and prints one NDJSON line ' +
      '{"action","id","paths","reason","name"}: a file the home lacks is written at its path with its mtime; one the home ' +
      "has with the same bytes is skipped; a home file that is a prefix of the bundle's is replaced (the session went on " +
      'elsewhere); any other difference is a conflict, and the session is left alone. Re-importing a bundle changes nothing.',
    "Then names go into session_index.jsonl (unless this home renamed the session later), Codex's threads rows into " +
      'state_5.sqlite when the home has one, and the rollout index, when there is one, learns the written files. A summary goes to stderr.',
    'With --map-cwd and --provider the files are written for this home: the working directory and model provider of ' +
      "session_meta, the cwd and workspace_roots of turn_context, and those of a fork's thread_settings_applied; nothing " +
      'else of any line changes, and the byte offsets a fork keeps into its parent follow the parent. Comparisons are made ' +
      'with the rewritten bytes, so importing again, or an incremental bundle, with the same options finds them the same.',
  ],
  options: [
    ...retagOptions('--provider'),
    graceOption(),
    DRY_RUN_OPTION,
    indexOption('The rollout index, updated for the files written when it exists'),
    CODEX_HOME_OPTION,
    QUIET_OPTION,
    ...PROGRESS_OPTIONS,
  ],
  examples: [
    'rollout-bundle --since 7d -o week.tar.zst',
    'rollout-unbundle -n week.tar.zst',
    'rollout-unbundle --map-cwd /home/ana/src=/Users/ana/code --provider openai week.tar.zst',
    'mkdir -p ~/laptop && rollout-unbundle --codex-home ~/laptop week.tar.zst',
    'rollout-bundle 0199a213 | rollout-unbundle',
  ],
  async run(args, o) {
    if (args.length > 1) throw new UsageError('give one bundle (or - for stdin)');
    const source = args[0] ?? STDIN;
    if (source === STDIN && process.stdin.isTTY) throw new UsageError('a bundle is binary: give a file, or pipe one in');
    const home = codexHome(single(o.codexHome));
    const dryRun = Boolean(o.dryRun);
    const options = {
      dryRun,
      graceMs: parseDuration(single(o.grace) ?? '10m', '--grace'),
      now: Date.now(),
      index: indexPath(home, single(o.index)),
      retag: parseRetag(o, 'provider'),
    };
    const summary = await unbundle(home, source, options, (line) => stdout.json(line));
    stdout.flush();
    const c = summary.counts;
    const parts = [`${dryRun ? 'would import' : 'imported'} ${count(c.import, 'session')}`, `updated ${c.update}`, `skipped ${c.skip}`];
    if (c.conflict) parts.push(count(c.conflict, 'conflict'));
    if (summary.objects.added) parts.push(`${dryRun ? 'would add' : 'added'} ${count(summary.objects.added, 'object')} to the store`);
    if (summary.failed) parts.push(count(summary.failed, 'error'));
    notice(parts.join(', '));
    return c.conflict || summary.failed ? EXIT_FAILURE : EXIT_OK;
  },
});

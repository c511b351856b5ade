#!/usr/bin/env node
import { resolve } from 'node:path';
import { EXIT_FAILURE, EXIT_OK, notice, report, RolloutError, UsageError } from '../lib/cli/errors.js';
import { main, single } from '../lib/cli/main.js';
import { CODEX_HOME_OPTION, DRY_RUN_OPTION, indexOption, PROGRESS_OPTIONS, QUIET_OPTION } from '../lib/cli/options.js';
import { stdout } from '../lib/cli/output.js';
import { count, humanBytes } from '../lib/cli/units.js';
import { openSource, STDIN } from '../lib/core/source.js';
import { writeAtomic } from '../lib/fs/atomic.js';
import { bundleBytes, planBundle } from '../lib/bundle/bundle.js';
import { codexHome } from '../lib/home/paths.js';
import { refsFrom } from '../lib/home/resolve.js';
import { indexPath } from '../lib/index/db.js';
import { parseSelection, SELECTION_OPTIONS } from '../lib/select/options.js';

await main({
  name: 'rollout-bundle',
  usage: '[options] [<session>...]',
  summary: 'Write the chosen sessions, with the ancestors their forks read, into one tar file with a manifest',
  details: [
    'Sessions are chosen as rollout-prune chooses them: the selection filters, and sessions named as arguments or on stdin ' +
      '(--stdin: ids, names, paths, or rollout-ls NDJSON rows), which the filters narrow. Every file of each thread goes in ' +
      "(a reverted thread's revisions, a plain file and its .zst), and the threads a referencing fork reads through history_base " +
      "(with --no-ancestors, that fork's files are written whole instead).",
    'The bundle is a POSIX (pax) tar: manifest.json first, then the files at their paths under the Codex home. The same ' +
      'sessions give the same bytes. With -o FILE each session bundled prints one NDJSON line {"id","files","bytes"}; ' +
      'without it the bundle goes to stdout.',
  ],
  options: [
    ...SELECTION_OPTIONS,
    ['--stdin', 'Sessions named on stdin: ids, names, paths, or rollout-ls NDJSON rows'],
    ['-o, --output <file>', 'Write the bundle to FILE (atomically) instead of stdout; compressed when FILE ends in .zst'],
    ['--zstd', 'Compress the bundle with zstd'],
    ['--since-bundle <file>', 'Only sessions new or changed since the bundle FILE (its manifest alone is read), with the threads they read'],
    ['--no-ancestors', 'Write a fork that reads other threads (history_base) whole, instead of adding those threads'],
    DRY_RUN_OPTION,
    indexOption('The rollout index that chooses'),
    CODEX_HOME_OPTION,
    QUIET_OPTION,
    ...PROGRESS_OPTIONS,
  ],
  examples: [
    'rollout-bundle --since 7d -o week.tar.zst',
    'rollout-bundle 0199a213 > one.tar',
    'rollout-bundle --include-archived -n',
    'rollout-bundle --include-archived --since-bundle week.tar.zst -n',
  ],
  async run(args, o) {
    if (o.stdin && args.length) throw new UsageError('--stdin reads references from stdin; give no others');
    if (args.includes(STDIN)) throw new UsageError("'-' is not a session here; give ids, names or paths, or --stdin");
    const named = Boolean(o.stdin) || args.length > 0;
    const filters = parseSelection(o, named ? 'include' : 'exclude');
    const output = single(o.output);
    const zstd = Boolean(o.zstd) || Boolean(output?.endsWith('.zst'));
    const home = codexHome(single(o.codexHome));
    let failed = 0;
    const plan = await planBundle(
      home,
      {
        filters,
        refs: o.stdin ? refsFrom(openSource(STDIN)) : named ? args : undefined,
        index: indexPath(home, single(o.index)),
        sinceBundle: single(o.sinceBundle),
        noAncestors: o.ancestors === false,
        hashAsWritten: output !== undefined && !zstd,
      },
      (err) => {
        failed++;
        report(err);
      },
    );
    if (!plan.sessions.length) throw new RolloutError(`nothing to bundle: no session ${o.sinceBundle ? 'is new since that bundle and ' : ''}matches`);
    const bytes = [...plan.files, ...plan.objects].reduce((n, f) => n + f.size, 0);
    const rows = plan.sessions.map((s) => ({ id: s.id, files: s.files.length, bytes: s.files.reduce((n, f) => n + f.size, 0) }));
    if (o.dryRun) {
      for (const row of rows) stdout.json({ ...row, dry_run: true });
    } else {
      const { chunks, amend } = bundleBytes(plan, zstd);
      if (output === undefined) {
        if (process.stdout.isTTY) throw new UsageError('a bundle is binary: redirect stdout, or give -o FILE');
        for await (const chunk of chunks) stdout.write(chunk);
      } else {
        await writeAtomic(resolve(output), chunks, { amend });
        for (const row of rows) stdout.json(row);
      }
    }
    stdout.flush();
    const objects = plan.objects.length ? `, ${count(plan.objects.length, 'object')} of the store` : '';
    notice(
      `${o.dryRun ? 'would bundle' : 'bundled'} ${count(plan.sessions.length, 'session')} (${count(plan.files.length, 'file')}${objects}, ${humanBytes(bytes)})`,
    );
    return failed ? EXIT_FAILURE : EXIT_OK;
  },
});

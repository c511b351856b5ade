#!/usr/bin/env node
import { main, single } from '../lib/cli/main.js';
import { notice, RolloutError, UsageError, EXIT_FAILURE, EXIT_OK } from '../lib/cli/errors.js';
import { syncCodex } from '../lib/codex/sync.js';
import { codexHome, noSessionsIn } from '../lib/home/paths.js';
import { indexPath } from '../lib/index/db.js';
import { check, update, updatePaths } from '../lib/index/update.js';
import { stdout } from '../lib/cli/output.js';
import { forEachRef, looksLikePath, Resolver } from '../lib/home/resolve.js';
import { QUIET_OPTION, CODEX_HOME_OPTION, indexOption, PROGRESS_OPTIONS } from '../lib/cli/options.js';
import { parseDuration } from '../lib/cli/units.js';

await main({
  name: 'rollout-index',
  usage: '[options]',
  summary: 'Bring the session index (SQLite, with full-text search) up to date with the files',
  details: [
    'Unchanged files are not opened, grown files are read from where the last run stopped, moved files are re-pointed, vanished files drop out. Prints one NDJSON summary line.',
  ],
  options: [
    ['--rebuild', 'Build a fresh index beside the old one and swap it in atomically'],
    ['--stdin', 'Re-read just the sessions (paths or ids) read from stdin, one a line'],
    ['--check', 'Change nothing: print each drifted session as NDJSON, exit 1 if any'],
    ['--codex', "Bring Codex's own thread table (state_5.sqlite) in step with the files instead"],
    ['--wait <time>', 'How long to wait for another run holding the index: 30s, 5m, 0 (default 60s)'],
    indexOption('The index'),
    CODEX_HOME_OPTION,
    QUIET_OPTION,
    ...PROGRESS_OPTIONS,
  ],
  examples: [
    'rollout-index',
    'rollout-index --check || rollout-index',
    'rollout-ls --since 1d | rollout-index --stdin',
    'rollout-index --check --codex || rollout-index --codex',
  ],
  async run(args, o) {
    if (args.length) throw new UsageError(`unexpected argument '${args[0]}' (sessions to re-read go on stdin with --stdin)`);
    const modes = ['rebuild', 'stdin', 'check'].filter((m) => o[m]);
    if (modes.length > 1) throw new UsageError(`--${modes[0]} and --${modes[1]} do not go together`);
    const wait = single(o.wait);
    const waitMs = wait === undefined ? undefined : parseDuration(wait, '--wait');
    const home = codexHome(single(o.codexHome));
    if (o.codex) {
      if (o.rebuild || o.stdin) throw new UsageError(`--codex goes with --check only, not --${o.rebuild ? 'rebuild' : 'stdin'}`);
      return (await syncCodex(home, { check: Boolean(o.check) }, (v) => stdout.json(v))) ? EXIT_FAILURE : EXIT_OK;
    }
    const index = indexPath(home, single(o.index));

    if (o.check) {
      const drift = await check(home, index);
      for (const d of drift) stdout.json(d);
      return drift.length ? EXIT_FAILURE : EXIT_OK;
    }

    let failed = 0;
    let summary;
    if (o.stdin) {
      const resolver = new Resolver(home);
      const paths: string[] = [];
      // A path is taken as it is: a file that is gone is one whose row goes.
      failed = await forEachRef({ args, stdin: true }, async (ref) => {
        if (looksLikePath(ref!)) paths.push(ref!);
        else {
          const target = await resolver.resolve(ref!);
          if (!target.stdin) paths.push(target.file.path);
        }
      });
      summary = await updatePaths(home, paths, { index, force: true, waitMs });
    } else summary = await update(home, { index, rebuild: Boolean(o.rebuild), waitMs });
    if (!summary) throw new RolloutError(`another rollout-index run holds ${index}; try again, or give --wait more seconds`);
    stdout.json(summary);
    if (!o.stdin && !summary.scanned) notice(noSessionsIn(home));
    return failed ? EXIT_FAILURE : EXIT_OK;
  },
});

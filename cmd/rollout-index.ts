#!/usr/bin/env node
import { main, report, RolloutError, single, UsageError, EXIT_FAILURE, EXIT_OK } from '../lib/cli/main.js';
import { syncCodex } from '../lib/codex/sync.js';
import { codexHome } from '../lib/home/paths.js';
import { indexPath } from '../lib/index/db.js';
import { check, update, updatePaths } from '../lib/index/update.js';
import { stdout } from '../lib/cli/output.js';
import { refsFrom, Resolver } from '../lib/home/resolve.js';
import { openSource, STDIN } from '../lib/core/source.js';

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
    ['--wait <seconds>', 'How long to wait for another run holding the index (default 60)'],
    ['--index <file>', 'The index (default: $ROLLOUT_INDEX, else <CODEX_HOME>/rollout-index.sqlite)'],
    ['--codex-home <dir>', 'The Codex home (default: $CODEX_HOME, else ~/.codex)'],
    ['-q, --quiet', 'No warnings on stderr'],
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
    if (wait !== undefined && !/^\d+(\.\d+)?$/.test(wait)) throw new UsageError(`--wait takes a number of seconds, not '${wait}'`);
    const home = codexHome(single(o.codexHome));
    if (o.codex) {
      if (o.rebuild || o.stdin) throw new UsageError(`--codex goes with --check only, not --${o.rebuild ? 'rebuild' : 'stdin'}`);
      return (await syncCodex(home, { check: Boolean(o.check) }, (v) => stdout.json(v))) ? EXIT_FAILURE : EXIT_OK;
    }
    const index = indexPath(home, single(o.index));
    const waitMs = wait === undefined ? undefined : Number(wait) * 1000;

    if (o.check) {
      const drift = await check(home, index);
      for (const d of drift) stdout.json(d);
      return drift.length ? EXIT_FAILURE : EXIT_OK;
    }

    let failed = false;
    let summary;
    if (o.stdin) {
      const resolver = new Resolver(home);
      const paths: string[] = [];
      for await (const ref of refsFrom(openSource(STDIN))) {
        if (ref.includes('/') || /\.jsonl?(\.zst)?$/.test(ref)) paths.push(ref);
        else {
          try {
            const target = await resolver.resolve(ref);
            if (!target.stdin) paths.push(target.file.path);
          } catch (err) {
            if (!(err instanceof RolloutError)) throw err;
            report(err);
            failed = true;
          }
        }
      }
      summary = await updatePaths(home, paths, { index, force: true, waitMs });
    } else summary = await update(home, { index, rebuild: Boolean(o.rebuild), waitMs });
    if (!summary) throw new RolloutError(`another rollout-index run holds ${index}; try again, or give --wait more seconds`);
    stdout.json(summary);
    return failed ? EXIT_FAILURE : EXIT_OK;
  },
});

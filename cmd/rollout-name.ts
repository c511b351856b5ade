#!/usr/bin/env node
import { main, single } from '../lib/cli/main.js';
import { report, RolloutError, UsageError, EXIT_FAILURE, EXIT_OK } from '../lib/cli/errors.js';
import { codexHome } from '../lib/home/paths.js';
import { clearName, setName, showName, threadOf } from '../lib/name/name.js';
import { stdout } from '../lib/cli/output.js';
import { Resolver } from '../lib/home/resolve.js';
import { CODEX_HOME_OPTION } from '../lib/cli/options.js';

await main({
  name: 'rollout-name',
  usage: '[options] <session> [<name>]',
  summary: 'Name a session as Codex does, show its name, or clear it',
  details: [
    'With a name, the session is named the way Codex names it: an entry appended to session_index.jsonl, and ' +
      'threads.name set where Codex\'s state_5.sqlite has a row; then `codex exec resume "<name>"` and every rollout ' +
      'binary find it by that name. Names are trimmed and may not be empty; a name another session already has is ' +
      'an error unless --force. Without a name, the current name is printed. Output: one NDJSON line ' +
      '{"id","name"} (and "previous" after a change).',
  ],
  options: [
    ['--clear', "Remove the sessions' names (every entry in session_index.jsonl, and threads.name)"],
    ['--force', 'Use the name even if another session has it'],
    ['-n, --dry-run', 'Print what would be done, and do nothing'],
    CODEX_HOME_OPTION,
  ],
  examples: ['rollout-name 0199a213 "checkout refactor"', 'rollout-name "checkout refactor" | jq -r .id', 'rollout-name --clear 0199a213'],
  async run(args, o) {
    const home = codexHome(single(o.codexHome));
    const resolver = new Resolver(home);
    const dryRun = Boolean(o.dryRun);
    if (!args.length) throw new UsageError('no session given (an id, prefix, name or path)');
    if (o.clear) {
      if (o.force) throw new UsageError('--force goes with a name, not --clear');
      let failed = false;
      for (const ref of args) {
        try {
          stdout.json(await clearName(home, await threadOf(resolver, ref), { dryRun }));
        } catch (err) {
          if (!(err instanceof RolloutError) && !(err as NodeJS.ErrnoException)?.code) throw err;
          stdout.flush();
          report(err);
          failed = true;
        }
      }
      return failed ? EXIT_FAILURE : EXIT_OK;
    }
    if (args.length > 2) throw new UsageError(`one session and one name, not ${args.length} words (quote a name with spaces)`);
    const id = await threadOf(resolver, args[0]!);
    if (args.length === 1) {
      if (o.force || dryRun) throw new UsageError('--force and --dry-run go with a name or --clear');
      stdout.json(await showName(home, id));
    } else {
      stdout.json(await setName(home, resolver, id, args[1]!, { force: Boolean(o.force), dryRun }));
    }
    return EXIT_OK;
  },
});

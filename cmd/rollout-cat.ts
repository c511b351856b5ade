#!/usr/bin/env node
import { catSession } from '../lib/cat/cat.js';
import { list, main, single } from '../lib/cli/main.js';
import { RolloutError, UsageError, EXIT_FAILURE, EXIT_OK } from '../lib/cli/errors.js';
import { codexHome } from '../lib/home/paths.js';
import { stdout } from '../lib/cli/output.js';
import { forEachRef, refSource, reportSession, Resolver } from '../lib/home/resolve.js';
import { QUIET_OPTION, CODEX_HOME_OPTION } from '../lib/cli/options.js';

await main({
  name: 'rollout-cat',
  usage: '[options] <session>...',
  summary: "Write sessions' lines to stdout, in order, byte for byte",
  options: [
    ['--type <type>', 'Keep lines whose type is TYPE, or TYPE:PAYLOAD_TYPE (repeatable)'],
    ['--meta', "Only each session's canonical session_meta line"],
    ['--full', "A fork's or revert's full history: its ancestors' lines first"],
    ['--normalize', 'Old bare-line generations as envelope lines'],
    ['--batch', 'Read session references from stdin, one a line'],
    ['--strict', 'A torn or malformed line is an error'],
    ['--last', 'The most recent session started in the current directory'],
    ['--all', 'With --last: the most recent session anywhere'],
    CODEX_HOME_OPTION,
    QUIET_OPTION,
  ],
  examples: ['rollout-cat 0199a213 | jq .type', 'rollout-cat --type event_msg:token_count --last', 'rollout-ls | rollout-cat --batch --meta'],
  async run(args, o) {
    if (o.all && !o.last) throw new UsageError('--all goes with --last');
    const refs = refSource(args, { stdin: o.batch, last: o.last }, '--batch');
    const opts = { types: list(o.type), meta: Boolean(o.meta), full: Boolean(o.full), normalize: Boolean(o.normalize), strict: Boolean(o.strict) };
    const resolver = new Resolver(codexHome(single(o.codexHome)));
    const failed = await forEachRef(
      refs,
      async (ref) => catSession(ref === null ? await resolver.last(process.cwd(), Boolean(o.all)) : await resolver.resolve(ref), resolver, opts, stdout),
      (err, ref) => {
        // In a batch, a reference that names nothing leaves a line in its place.
        if (o.batch && ref !== null && err instanceof RolloutError && !err.where) stdout.json({ ref, missing: true });
        reportSession(err);
      },
    );
    return failed ? EXIT_FAILURE : EXIT_OK;
  },
});

#!/usr/bin/env node
import { catSession } from '../lib/cat/cat.js';
import { list, main, report, RolloutError, single, UsageError, EXIT_FAILURE, EXIT_OK } from '../lib/cli/main.js';
import { codexHome } from '../lib/home/paths.js';
import { stdout } from '../lib/cli/output.js';
import { refsFrom, Resolver } from '../lib/home/resolve.js';
import { openSource, STDIN } from '../lib/core/source.js';

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
    ['--codex-home <dir>', 'The Codex home (default: $CODEX_HOME, else ~/.codex)'],
    ['-q, --quiet', 'No warnings on stderr'],
  ],
  examples: ['rollout-cat 0199a213 | jq .type', 'rollout-cat --type event_msg:token_count --last', 'rollout-ls | rollout-cat --batch --meta'],
  async run(args, o) {
    if (o.all && !o.last) throw new UsageError('--all goes with --last');
    if (o.batch && (args.length || o.last)) throw new UsageError('--batch reads references from stdin; give no others');
    if (o.last && args.length) throw new UsageError('--last takes no session arguments');
    if (!args.length && !o.batch && !o.last) throw new UsageError("no session given (an id, prefix, name, path, '-' or --last)");
    const opts = { types: list(o.type), meta: Boolean(o.meta), full: Boolean(o.full), normalize: Boolean(o.normalize), strict: Boolean(o.strict) };
    const resolver = new Resolver(codexHome(single(o.codexHome)));
    let failed = false;

    const cat = async (ref: string | null): Promise<void> => {
      try {
        const target = ref === null ? await resolver.last(process.cwd(), Boolean(o.all)) : await resolver.resolve(ref);
        await catSession(target, resolver, opts, stdout);
      } catch (err) {
        if (!(err instanceof RolloutError) && !(err as NodeJS.ErrnoException)?.code) throw err;
        if (o.batch && ref !== null && err instanceof RolloutError && !err.where) stdout.json({ ref, missing: true });
        stdout.flush();
        report(err);
        failed = true;
      }
    };

    if (o.last) await cat(null);
    else if (o.batch) for await (const ref of refsFrom(openSource(STDIN))) await cat(ref);
    else for (const ref of args) await cat(ref);
    return failed ? EXIT_FAILURE : EXIT_OK;
  },
});

#!/usr/bin/env node
import { main, single } from '../lib/cli/main.js';
import { UsageError, EXIT_OK } from '../lib/cli/errors.js';
import { forkSession } from '../lib/fork/write.js';
import type { Cut } from '../lib/fork/plan.js';
import { parseTurnCount } from '../lib/core/turn-range.js';
import { codexHome } from '../lib/home/paths.js';
import { stdout } from '../lib/cli/output.js';
import { Resolver } from '../lib/home/resolve.js';
import { QUIET_OPTION, CODEX_HOME_OPTION, indexOption } from '../lib/cli/options.js';

await main({
  name: 'rollout-fork',
  usage: '[options] <session>',
  summary: 'Branch a session at a turn: write a new session that Codex can resume',
  details: [
    'The new session gets a fresh id and a new session_meta (forked_from_id, fresh timestamp, the source\'s other fields); then come the kept lines of the source\'s history byte for byte, original timestamps included (paginated lines get contiguous ordinals). Inherited history of a referenced fork is copied in, so the fork does not depend on its parents. Prints {"id","path","forked_from_id","turns","lines"}.',
    'Turns are real user turns (injected context is not a turn; rollbacks are applied). Without a cut option the whole history is kept. The source is never changed and an existing file is never overwritten.',
  ],
  options: [
    ['--keep-turns <n>', 'Keep the first N turns'],
    ['--drop-turns <n>', 'Keep all but the last N turns'],
    ['--last-turns <n>', 'Keep only the last N turns'],
    ['--before-turn <turn-id>', 'Cut right before the turn with this id (task_started turn_id)'],
    ['--after-turn <turn-id>', 'Cut right after the turn with this id'],
    ['--interrupted', 'If the kept history ends mid-turn, append the interrupt marker as Codex does'],
    ['--reference', 'Write a Codex-style referenced fork (history_base) instead of a copy; paginated sources only'],
    ['--cwd <dir>', "The new session's working directory (default: the source's)"],
    ['--name <name>', 'Name the new session (appended to session_index.jsonl)'],
    ['--stdout', 'Write the new rollout to stdout instead of into the home'],
    ['-n, --dry-run', 'Write nothing; print what would be written'],
    indexOption('The rollout index to add the fork to, if it exists'),
    CODEX_HOME_OPTION,
    QUIET_OPTION,
  ],
  examples: [
    'rollout-fork 0199a213 --keep-turns 3',
    'rollout-fork --before-turn 0199a2f0-7c1e-7a3b-9d10-2b4c6d8e0f12 0199a213 --name retry',
    'rollout-cat --normalize old.jsonl | rollout-fork - --stdout > fork.jsonl',
  ],
  async run(args, o) {
    if (args.length !== 1) throw new UsageError(args.length ? 'one session at a time' : "no session given (an id, prefix, name, path or '-')");
    const cut = cutOf(o);
    const home = codexHome(single(o.codexHome));
    const resolver = new Resolver(home);
    const target = await resolver.resolve(args[0]!);
    const result = await forkSession(target, resolver, {
      cut,
      interrupted: Boolean(o.interrupted),
      reference: Boolean(o.reference),
      cwd: single(o.cwd),
      name: single(o.name),
      stdout: o.stdout ? stdout : undefined,
      dryRun: Boolean(o.dryRun),
      index: single(o.index),
    });
    if (!o.stdout) stdout.json(result);
    return EXIT_OK;
  },
});

/** The one cut option given, if any. */
function cutOf(o: Record<string, unknown>): Cut {
  const cuts: Cut[] = [];
  for (const [flag, kind] of [
    ['keepTurns', 'keep'],
    ['dropTurns', 'drop'],
    ['lastTurns', 'last'],
  ] as const) {
    const range = parseTurnCount(o[flag], kind);
    if (range) cuts.push({ kind: 'turns', range });
  }
  for (const [flag, kind] of [
    ['beforeTurn', 'before'],
    ['afterTurn', 'after'],
  ] as const) {
    const turnId = single(o[flag]);
    if (turnId !== undefined) cuts.push({ kind, turnId });
  }
  if (cuts.length > 1) throw new UsageError('give one of --keep-turns, --drop-turns, --last-turns, --before-turn, --after-turn');
  return cuts[0] ?? { kind: 'full' };
}

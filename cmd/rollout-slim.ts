#!/usr/bin/env node
import { resolve } from 'node:path';
import { EXIT_FAILURE, EXIT_OK, notice, report, UsageError } from '../lib/cli/errors.js';
import { main, single } from '../lib/cli/main.js';
import { ACTING_OPTIONS } from '../lib/cli/options.js';
import { stdout } from '../lib/cli/output.js';
import { parseDuration } from '../lib/cli/units.js';
import { openSource, STDIN } from '../lib/core/source.js';
import { codexHome } from '../lib/home/paths.js';
import { refsFrom } from '../lib/home/resolve.js';
import { indexPath } from '../lib/index/db.js';
import { SELECTION_OPTIONS } from '../lib/select/options.js';
import { parseSlimArgs, SLIM_OPTIONS } from '../lib/slim/args.js';
import { collect, describeGc } from '../lib/slim/gc.js';
import { describe, slimSessions } from '../lib/slim/run.js';

await main({
  name: 'rollout-slim',
  usage: '[options] [<filter>... | --stdin]',
  summary: 'Take the large inline blobs (images, long tool outputs) out of sessions, keeping each once in a store; put them back byte for byte',
  details: [
    'Each blob of the chosen sessions (base64 images by default) is replaced by a short marker that says what was there ' +
      '(kind, media type, size, SHA-256); an image becomes a 1x1 PNG that carries that text, so Codex still sends the model ' +
      'an image where one was. Every other byte of the line stays as it was. Each distinct blob is kept once in ' +
      '$CODEX_HOME/rollout-objects/ (named by its SHA-256, as git names objects), so the copies of a screenshot in subagents, ' +
      'forks and compactions cost one. --restore puts every blob back and proves the result equal to the original (its ' +
      'SHA-256 was recorded when it was slimmed; a file changed since, by a re-tag or a repair, is restored without that proof, ' +
      'each blob still checked against its name); --gc removes the objects no session refers to any more, and nothing else does. ' +
      'rollout-bundle carries the objects a slimmed session names.',
    'Sessions are chosen as rollout-ls chooses them (with no filter: every active session). Each session changed prints ' +
      'one NDJSON line {"action","id","path","bytes","after","blobs","dry_run"} (bytes before and after, uncompressed); ' +
      'a session left alone for safety prints {"action":"skip","id","path","reason"}; --gc prints ' +
      '{"action":"gc","object","bytes"} per object removed. A summary goes to stderr.',
    'Every rule of rollout-prune holds: never a session open in a running Codex or another process, modified within ' +
      '--grace or while being slimmed, or outside the roots; mtimes are kept, so sessions keep their place in lists. ' +
      'A .zst session stays compressed. The bytes a fork or revert reads from its parent by byte offset are left as they ' +
      "are (the line says how many, as kept), so no child's offsets move. Codex's projection of each thread is moved with " +
      'the bytes, and the index is updated.',
  ],
  options: [...SELECTION_OPTIONS, ['--stdin', 'Sessions named on stdin: ids, names, paths, or rollout-ls NDJSON rows'], ...SLIM_OPTIONS, ...ACTING_OPTIONS],
  examples: [
    'rollout-slim --include-archived -n',
    "rollout-ls --name 'checkout screenshot' | rollout-slim --stdin --backup ~/codex-backup",
    'rollout-slim --older-than 7d --kinds image,tool-output',
    'rollout-slim --restore --stdin <<< 0199b7d2',
    'rollout-slim --gc -n',
  ],
  async run(args, o) {
    if (args.length) throw new UsageError(`unexpected argument '${args[0]}': name sessions on stdin with --stdin`);
    const job = parseSlimArgs(o);
    const dryRun = Boolean(o.dryRun);
    const home = codexHome(single(o.codexHome));
    const graceMs = parseDuration(single(o.grace) ?? '10m', '--grace');
    const onError = (err: unknown) => {
      stdout.flush();
      report(err);
    };
    if (job.job === 'gc') {
      const s = await collect(home, { dryRun, graceMs, now: Date.now() }, (l) => stdout.json(l));
      stdout.flush();
      notice(describeGc(s, dryRun));
      return EXIT_OK;
    }
    const opts = {
      mode: job.job,
      filters: job.filters,
      rules: job.rules,
      drop: job.drop,
      refs: o.stdin ? refsFrom(openSource(STDIN)) : undefined,
      graceMs,
      dryRun,
      backup: o.backup === undefined ? undefined : resolve(single(o.backup)!),
      index: indexPath(home, single(o.index)),
      now: Date.now(),
    };
    const s = await slimSessions(home, opts, { line: (row) => stdout.json(row), error: onError });
    stdout.flush();
    notice(describe(s, job.job, dryRun));
    return s.errors ? EXIT_FAILURE : EXIT_OK;
  },
});

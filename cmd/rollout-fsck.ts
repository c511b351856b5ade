#!/usr/bin/env node
import { join, resolve } from 'node:path';
import { main, single } from '../lib/cli/main.js';
import { notice, UsageError, EXIT_FAILURE, EXIT_OK } from '../lib/cli/errors.js';
import { filesOf } from '../lib/fsck/check.js';
import { codexHome, type SessionFile } from '../lib/home/paths.js';
import { stdout } from '../lib/cli/output.js';
import { describe, problemsLeft, runFsck, type FsckOptions } from '../lib/fsck/run.js';
import { forEachRef, refSource, reportSession, Resolver } from '../lib/home/resolve.js';
import { parseDuration } from '../lib/cli/units.js';
import { STDIN } from '../lib/core/source.js';
import { CODEX_HOME_OPTION, DRY_RUN_OPTION, graceOption, PROGRESS_OPTIONS, QUIET_OPTION } from '../lib/cli/options.js';

await main({
  name: 'rollout-fsck',
  usage: '[options] [<session>...]',
  summary: 'Check session files for damage that hides them from Codex, and repair what is safe to repair',
  details: [
    'Checks every session of the home, or the sessions named (every file of a thread; a path is that file). ' +
      'Each problem prints one NDJSON line {"id","path","line","problem","fixable","fix","detail"}. Problems: torn_line, bom, ' +
      'invalid_utf8, not_json, no_session_meta, id_mismatch, ordinal_gap, missing_parent, base_past_end, base_mismatch, ' +
      'zst_mismatch, duplicate_id, unreadable_zst.',
    'With --repair, each file with fixable problems is first copied to the backup folder, lines taken out go to ' +
      '<file>.rejected, and the repaired file replaces the original atomically (mode and mtime kept); one line ' +
      '{"action":"repair",...} or {"action":"skip","reason"} follows its problems. Files modified within --grace, open in ' +
      'a running Codex, or reached through a symlink are left alone.',
  ],
  options: [
    ['--repair', 'Fix what is safe to fix: torn last line, BOM, invalid UTF-8, non-JSON lines, stale or unreadable .zst'],
    ['--backup <dir>', 'Where --repair copies the originals first (default: <CODEX_HOME>/rollout-backup)'],
    graceOption(),
    DRY_RUN_OPTION,
    ['--stdin', 'Read session references from stdin, one a line (ids, names, paths, or rollout-ls NDJSON rows)'],
    CODEX_HOME_OPTION,
    QUIET_OPTION,
    ...PROGRESS_OPTIONS,
  ],
  examples: [
    'rollout-fsck',
    'rollout-fsck 0199a213 | jq -r .problem',
    'rollout-fsck --repair --dry-run',
    'rollout-ls --since 7d | rollout-fsck --stdin --repair',
  ],
  async run(args, o) {
    const opts: FsckOptions = { repair: Boolean(o.repair), dryRun: Boolean(o.dryRun), backup: '', graceMs: 0 };
    if (!opts.repair && (opts.dryRun || o.backup !== undefined || o.grace !== undefined))
      throw new UsageError('--dry-run, --backup and --grace go with --repair');
    if (opts.repair && args.includes(STDIN)) throw new UsageError("'-' (a session on stdin) can be checked, not repaired");
    const refs = refSource(args, o, '--stdin', false);
    opts.graceMs = parseDuration(single(o.grace) ?? '10m', '--grace');
    const home = codexHome(single(o.codexHome));
    opts.backup = resolve(single(o.backup) ?? join(home.dir, 'rollout-backup'));
    const resolver = new Resolver(home);
    let files: SessionFile[] | undefined;
    let failed = 0;
    if (refs.stdin || args.length) {
      files = [];
      failed = await forEachRef(refs, async (ref) => void files!.push(...(await filesOf(resolver, ref!))));
    }
    const t = await runFsck(home, resolver, files, opts, { line: (row) => stdout.json(row), error: reportSession });
    t.errors += failed;
    stdout.flush();
    notice(describe(t, opts));
    return problemsLeft(t, opts) || t.errors ? EXIT_FAILURE : EXIT_OK;
  },
});

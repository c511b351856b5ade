#!/usr/bin/env node
import { join, resolve } from 'node:path';
import { sweepTree } from '../lib/fs/atomic.js';
import { checkBackupDir } from '../lib/fs/backup.js';
import { main, notice, report, RolloutError, single, UsageError, EXIT_FAILURE, EXIT_OK } from '../lib/cli/main.js';
import { filesOf, fsck } from '../lib/fsck/check.js';
import { codexHome, type SessionFile } from '../lib/home/paths.js';
import { stdout } from '../lib/cli/output.js';
import { repairFile } from '../lib/fsck/repair.js';
import { refsFrom, Resolver } from '../lib/home/resolve.js';
import { parseDuration } from '../lib/cli/units.js';
import { openSource, STDIN } from '../lib/core/source.js';

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
    ['--grace <age>', 'With --repair: leave files modified within AGE alone (default 10m)'],
    ['-n, --dry-run', 'With --repair: print what would be done, and do nothing'],
    ['--stdin', 'Read session references from stdin, one a line (ids, names, paths, or rollout-ls NDJSON rows)'],
    ['--codex-home <dir>', 'The Codex home (default: $CODEX_HOME, else ~/.codex)'],
    ['-q, --quiet', 'No summary on stderr'],
  ],
  examples: [
    'rollout-fsck',
    'rollout-fsck 0199a213 | jq -r .problem',
    'rollout-fsck --repair --dry-run',
    'rollout-ls --since 7d | rollout-fsck --stdin --repair',
  ],
  async run(args, o) {
    const quiet = Boolean(o.quiet);
    const repair = Boolean(o.repair);
    const dryRun = Boolean(o.dryRun);
    if (o.stdin && args.length) throw new UsageError('--stdin reads references from stdin; give no others');
    if (!repair && (dryRun || o.backup !== undefined || o.grace !== undefined)) throw new UsageError('--dry-run, --backup and --grace go with --repair');
    if (repair && args.includes(STDIN)) throw new UsageError("'-' (a session on stdin) can be checked, not repaired");
    const grace = single(o.grace);
    const graceMs = grace === undefined ? 10 * 60_000 : parseDuration(grace);
    if (graceMs === null) throw new UsageError(`--grace takes a duration like 10m, 2h or 0, not '${grace}'`);
    const home = codexHome(single(o.codexHome));
    const backup = resolve(single(o.backup) ?? join(home.dir, 'rollout-backup'));
    if (repair) {
      checkBackupDir(home, backup);
      // Copies a killed repair left half-made.
      if (!dryRun) sweepTree(backup);
    }
    const resolver = new Resolver(home);
    const t = { files: 0, problems: 0, fixable: 0, withProblems: 0, repaired: 0, fixed: 0, skipped: 0, errors: 0 };
    const fail = (err: unknown) => {
      if (!(err instanceof RolloutError) && !(err as NodeJS.ErrnoException)?.code) throw err;
      stdout.flush();
      report(err);
      t.errors++;
    };

    let files: SessionFile[] | undefined;
    if (o.stdin || args.length) {
      files = [];
      const refs = o.stdin ? refsFrom(openSource(STDIN)) : args;
      for await (const ref of refs) await filesOf(resolver, ref).then((f) => files!.push(...f), fail);
    }
    for await (const r of fsck(resolver, files)) {
      if (r.error) {
        fail(r.error);
        continue;
      }
      t.files++;
      if (!r.problems.length) continue;
      t.withProblems++;
      t.problems += r.problems.length;
      t.fixable += r.problems.filter((p) => p.fixable).length;
      for (const p of r.problems) stdout.json(p);
      if (!repair) continue;
      try {
        const done = await repairFile(home, r, { backup, dryRun, graceMs, now: Date.now() });
        if (!done) continue;
        stdout.json(done);
        if (done.action === 'skip') t.skipped++;
        else {
          t.repaired++;
          t.fixed += r.problems.filter((p) => p.fixable).length;
        }
      } catch (err) {
        fail(err);
      }
    }
    stdout.flush();
    if (!quiet) tell(t, repair, dryRun);
    const left = repair && !dryRun ? t.problems - t.fixed : t.problems;
    return left || t.errors ? EXIT_FAILURE : EXIT_OK;
  },
});

function tell(
  t: Record<'files' | 'problems' | 'fixable' | 'withProblems' | 'repaired' | 'fixed' | 'skipped' | 'errors', number>,
  repair: boolean,
  dryRun: boolean,
): void {
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  let text = `checked ${n(t.files, 'file')}: `;
  text += t.problems ? `${n(t.problems, 'problem')} in ${n(t.withProblems, 'file')} (${t.fixable} fixable)` : 'no problems';
  if (repair && (t.repaired || t.skipped)) {
    text += dryRun ? `; would repair ${n(t.repaired, 'file')}` : `; repaired ${n(t.repaired, 'file')} (${n(t.fixed, 'problem')})`;
    if (t.skipped) text += `, skipped ${t.skipped}`;
  }
  if (t.errors) text += `; ${n(t.errors, 'error')}`;
  notice(text);
}

// rollout-fsck's run: check each file (check.ts), print its problems, repair it when asked
// (repair.ts), and keep the tally that the summary and the exit status come from.
import { isPerSession, notice } from '../cli/errors.js';
import { Progress } from '../cli/progress.js';
import { count } from '../cli/units.js';
import { readyBackup } from '../fs/backup.js';
import { noSessionsIn, type Home, type SessionFile } from '../home/paths.js';
import type { Resolver } from '../home/resolve.js';
import { fsck, type Problem } from './check.js';
import { repairFile, type Repaired, type Skipped } from './repair.js';

export interface FsckOptions {
  repair: boolean;
  dryRun: boolean;
  backup: string;
  graceMs: number;
}

export interface Tally {
  files: number;
  problems: number;
  fixable: number;
  withProblems: number;
  repaired: number;
  fixed: number;
  skipped: number;
  errors: number;
}

export interface FsckSink {
  line(row: Problem | Repaired | Skipped): void;
  error(err: unknown): void;
}

/** Checks `files` (every session of the home when undefined), repairing as asked; lines go to `sink` as they come. */
export async function runFsck(home: Home, resolver: Resolver, files: SessionFile[] | undefined, opts: FsckOptions, sink: FsckSink): Promise<Tally> {
  const t: Tally = { files: 0, problems: 0, fixable: 0, withProblems: 0, repaired: 0, fixed: 0, skipped: 0, errors: 0 };
  const fail = (err: unknown) => {
    if (!isPerSession(err)) throw err;
    sink.error(err);
    t.errors++;
  };
  if (opts.repair) readyBackup(home, opts.backup, opts.dryRun);
  const list = files ?? (await resolver.all());
  const bar = new Progress(
    opts.repair ? 'checking and repairing' : 'checking',
    list.length,
    list.reduce((n, f) => n + f.size, 0),
    'file',
  );
  for await (const r of fsck(resolver, list)) {
    bar.add(1, r.file.size);
    if (r.error) {
      fail(r.error);
      continue;
    }
    t.files++;
    if (!r.problems.length) continue;
    t.withProblems++;
    t.problems += r.problems.length;
    t.fixable += r.problems.filter((p) => p.fixable).length;
    for (const p of r.problems) sink.line(p);
    if (!opts.repair) continue;
    try {
      const done = await repairFile(home, r, { backup: opts.backup, dryRun: opts.dryRun, graceMs: opts.graceMs, now: Date.now() });
      if (!done) continue;
      sink.line(done);
      if (done.action === 'skip') t.skipped++;
      else {
        t.repaired++;
        t.fixed += r.problems.filter((p) => p.fixable).length;
      }
    } catch (err) {
      fail(err);
    }
  }
  // (A run that stops on a bug leaves no bar behind either: the error's line clears it.)
  bar.finish();
  if (!files && !t.files && !t.errors) notice(noSessionsIn(home));
  return t;
}

/** Problems left once the run is over: those found, less those a real repair fixed. */
export const problemsLeft = (t: Tally, opts: FsckOptions): number => (opts.repair && !opts.dryRun ? t.problems - t.fixed : t.problems);

/** The summary line. */
export function describe(t: Tally, opts: FsckOptions): string {
  let text = `checked ${count(t.files, 'file')}: `;
  text += t.problems ? `${count(t.problems, 'problem')} in ${count(t.withProblems, 'file')} (${t.fixable} fixable)` : 'no problems';
  if (opts.repair && (t.repaired || t.skipped)) {
    text += opts.dryRun ? `; would repair ${count(t.repaired, 'file')}` : `; repaired ${count(t.repaired, 'file')} (${count(t.fixed, 'problem')})`;
    if (t.skipped) text += `, skipped ${t.skipped}`;
  }
  if (t.errors) text += `; ${count(t.errors, 'error')}`;
  return text;
}

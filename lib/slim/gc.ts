// Which objects of the store no session refers to. Every rollout of the home is read (both roots,
// every file of a logical file: a stale .zst beside its plain file too) and searched for marker
// heads, wherever they are: a whole string, a copy inside a compaction, a marker quoted inside a
// tool's output. A look-alike only keeps an object, never loses one. Removing is the caller's.
import { lstatSync, rmSync } from 'node:fs';
import { count, humanBytes } from '../cli/units.js';
import { openSource } from '../core/source.js';
import { walkHome, type Home } from '../home/paths.js';
import { markedObjects } from '../core/blob-marker.js';
import { lockStore } from '../fs/objects.js';
import { ObjectStore } from './store.js';

export interface GcPlan {
  /** Objects some rollout refers to. */
  referenced: Set<string>;
  /** Objects in the store that none does: what a collection may remove. */
  unreferenced: string[];
  /** Records of rollouts no longer in the home. */
  orphanRecords: string[];
  files: number;
}

/**
 * What a collection of the store would remove, read from every rollout of the home as the walk
 * reaches it: what is held grows with the store (its objects and records), not with the home.
 */
export async function planGc(home: Home, store: ObjectStore): Promise<GcPlan> {
  const referenced = new Set<string>();
  const orphans = new Set(store.records());
  let files = 0;
  for (const dir of walkHome(home)) {
    for (const f of dir.files) {
      orphans.delete(f.name.rolloutId);
      for (const path of f.files) {
        files++;
        await markedObjects(openSource(path), referenced);
      }
    }
  }
  return {
    referenced,
    unreferenced: store.objects().filter((sha) => !referenced.has(sha)),
    orphanRecords: [...orphans],
    files,
  };
}

export interface GcLine {
  action: 'gc';
  /** An object removed (or, in a dry run, that would be). */
  object?: string;
  /** A record of a rollout no longer in the home. */
  record?: string;
  bytes: number;
  dry_run: boolean;
}

export interface GcSummary {
  objects: number;
  records: number;
  bytes: number;
  /** Unreferenced objects kept because they are younger than the grace period. */
  young: number;
}

export interface GcOptions {
  dryRun: boolean;
  graceMs: number;
  now: number;
}

/**
 * Removes what no session refers to, holding the store's lock (every run that writes to the store
 * holds it). An object written within the grace period stays all the same: the second line of
 * defence for a slimming that is about to give its file the name.
 */
export async function collect(home: Home, opts: GcOptions, line: (l: GcLine) => void): Promise<GcSummary> {
  const release = opts.dryRun ? () => {} : await lockStore(home);
  try {
    return await collectIn(new ObjectStore(home), opts, line);
  } finally {
    release();
  }
}

/** The summary line for stderr. */
export const describeGc = (s: GcSummary, dryRun: boolean): string =>
  `${dryRun ? 'would have removed' : 'removed'} ${count(s.objects, 'object')} (${humanBytes(s.bytes)})` +
  (s.records ? `, ${count(s.records, 'record')} of sessions no longer here` : '') +
  (s.young ? `; kept ${s.young} written within --grace` : '');

async function collectIn(store: ObjectStore, opts: GcOptions, line: (l: GcLine) => void): Promise<GcSummary> {
  const plan = await planGc(store.home, store);
  const summary: GcSummary = { objects: 0, records: 0, bytes: 0, young: 0 };
  for (const sha of plan.unreferenced) {
    const path = store.objectPath(sha);
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st?.isFile()) continue;
    if (opts.now - st.mtimeMs < opts.graceMs) {
      summary.young++;
      continue;
    }
    if (!opts.dryRun) rmSync(path, { force: true });
    summary.objects++;
    summary.bytes += st.size;
    line({ action: 'gc', object: sha, bytes: st.size, dry_run: opts.dryRun });
  }
  for (const id of plan.orphanRecords) {
    if (!opts.dryRun) store.removeRecord(id);
    summary.records++;
    line({ action: 'gc', record: id, bytes: 0, dry_run: opts.dryRun });
  }
  return summary;
}

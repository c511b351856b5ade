// rollout-slim's run: the sessions chosen as prune chooses them (select/sessions.ts), each slimmed or
// restored file by file under every rule prune keeps (its lock, the grace period, open files and
// writer locks, the roots, --backup, a compare-and-swap before each file takes its name, mtimes
// kept), then Codex's projection and the index told.
//
// A file that forks or reverts read through `history_base` keeps the bytes they read as they are:
// it is slimmed only past the furthest offset any reader stops at, so every child's offsets stay
// true and nothing but the file itself is rewritten. A restore that would move such bytes (a fork
// made from the slimmed file) is refused.
import { lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RolloutError, warn } from '../cli/errors.js';
import { count, humanBytes } from '../cli/units.js';
import { Progress } from '../cli/progress.js';
import { forgetProjection, moveProjection } from '../codex/state.js';
import { readHead } from '../core/session.js';
import type { Shifts } from '../core/retag.js';
import { breathe, mtimeOf, processAlive } from '../fs/atomic.js';
import { backupPath, backUp, readyBackup } from '../fs/backup.js';
import { assertUnchanged, fingerprint, lockSession, refuseReason } from '../fs/safety.js';
import { byName, type Home } from '../home/paths.js';
import type { Filters } from '../index/query.js';
import { choose, tallied, type Choice, type Chosen, type SkipLine } from '../select/sessions.js';
import type { BlobRules } from './blobs.js';
import { restoreFile, slimFile, type SlimFileOptions } from './file.js';
import { lockStore, STORE_DIR } from '../fs/objects.js';
import { ObjectStore } from './store.js';

export type Mode = 'slim' | 'restore';

export interface SlimRunOptions {
  mode: Mode;
  filters: Filters;
  /** Sessions named one by one (ids, names, paths, rollout-ls rows); the filters narrow them. */
  refs?: AsyncIterable<string>;
  rules: BlobRules;
  /** Blobs are not kept: the markers stay, the session cannot be restored. */
  drop: boolean;
  graceMs: number;
  dryRun: boolean;
  backup?: string;
  index: string;
  now: number;
}

export interface SlimLine {
  action: Mode;
  id: string;
  path: string;
  /** Bytes of the files changed, before and after (uncompressed). */
  bytes: number;
  after: number;
  /** Blobs taken out (or put back). */
  blobs: number;
  /** Bytes at the start of a file left as they were, because forks read them by offset. */
  kept?: number;
  /** Restored without a record's proof: the file changed since it was slimmed, or has no record. */
  unproven?: true;
  backup?: string[];
  dry_run: boolean;
}

export interface SlimSink {
  line(row: SlimLine | SkipLine): void;
  error(err: unknown): void;
}

export interface SlimSummary {
  acted: number;
  skipped: number;
  /** Sessions that held nothing to take out (or to put back). */
  unchanged: number;
  errors: number;
  bytes: number;
  after: number;
  blobs: number;
}

export async function slimSessions(home: Home, opts: SlimRunOptions, sink: SlimSink): Promise<SlimSummary> {
  const summary: SlimSummary = { acted: 0, skipped: 0, unchanged: 0, errors: 0, bytes: 0, after: 0, blobs: 0 };
  const { line, error } = tallied(summary, sink);
  if (opts.backup) readyBackup(home, opts.backup, opts.dryRun);
  const release = opts.dryRun ? () => {} : await lockStore(home);
  const store = new ObjectStore(home);
  const drop = opts.drop && !opts.dryRun && opts.mode === 'slim' ? dropSink(home) : null;
  try {
    const choice = await choose(home, { ...opts, action: 'slim' }, error);
    try {
      for (const s of choice.skipped) line(s);
      const bar = new Progress(`${opts.mode === 'slim' ? 'slimming' : 'restoring'}${opts.dryRun ? ' (dry run)' : ''}`, choice.count, choice.bytes, 'session');
      for await (const page of choice.pages()) {
        for (const s of page.skipped) line(s);
        const kept = await readOffsets(choice, page.sessions);
        const touched: string[] = [];
        for (const s of page.sessions) {
          await breathe();
          try {
            const done = await oneSession(home, s, { ...opts, store, sink: drop?.store, kept });
            if (!done) summary.unchanged++;
            else if (done.line.action === 'skip') line(done.line);
            else {
              line(done.line);
              summary.acted++;
              summary.bytes += done.line.bytes;
              summary.after += done.line.after;
              summary.blobs += done.line.blobs;
              touched.push(...done.touched);
              if (done.stateError) error(done.stateError);
            }
          } catch (err) {
            error(err);
          } finally {
            bar.add(
              1,
              s.files.reduce((n, f) => n + f.size, 0),
            );
          }
        }
        // The index is told a page at a time: never the whole run's paths at once.
        if (touched.length) {
          const { syncPaths } = await import('../index/sync.js');
          await syncPaths(home, touched, { index: opts.index });
        }
      }
      bar.finish();
    } finally {
      choice.close();
    }
    return summary;
  } finally {
    drop?.remove();
    release();
  }
}

/** The summary line for stderr. */
export function describe(s: SlimSummary, mode: Mode, dryRun: boolean): string {
  const [done, moved, nothing] = mode === 'slim' ? ['slimmed', 'took out', 'take out'] : ['restored', 'put back', 'put back'];
  let text = `${dryRun ? `would have ${done}` : done} ${count(s.acted, 'session')} (${humanBytes(s.bytes)} to ${humanBytes(s.after)}), ${moved} ${count(s.blobs, 'blob')}`;
  if (s.unchanged) text += `; ${s.unchanged} had nothing to ${nothing}`;
  if (s.skipped) text += `, skipped ${s.skipped}`;
  if (s.errors) text += `, ${count(s.errors, 'error')}`;
  return text;
}

interface Done {
  line: SlimLine | SkipLine;
  touched: string[];
  stateError?: RolloutError;
}

interface SessionOptions extends SlimRunOptions {
  store: ObjectStore;
  /** Where dropped blobs go for the run (a line put back as it was reads them again). */
  sink?: ObjectStore;
  /** Per rollout id, the furthest byte offset a reader reads it to. */
  kept: Map<string, number>;
}

/** One session slimmed or restored, all its files; null when nothing in it changes. */
async function oneSession(home: Home, s: Chosen, opts: SessionOptions): Promise<Done | null> {
  const first = s.files[0]!;
  const skip = (reason: string): Done => ({ line: { action: 'skip', id: s.id, path: first.path, reason }, touched: [] });
  if (s.files.some((f) => f.form === 'json')) return skip('a generation-0 .json session is left as it is');
  const release = opts.dryRun ? () => {} : await lockSession(home, s.id);
  if (typeof release === 'string') return skip(release);
  try {
    const why = await refuseReason(home, s, { graceMs: opts.graceMs, now: opts.now });
    if (why) return skip(why);
    const row: SlimLine = { action: opts.mode, id: s.id, path: first.path, bytes: 0, after: 0, blobs: 0, dry_run: opts.dryRun };
    const backups: string[] = [];
    const changed: Array<{ path: string; shifts: Shifts | null }> = [];
    for (const file of [...s.files].sort(byName)) {
      const path = file.path;
      const keep = opts.kept.get(file.name.rolloutId) ?? 0;
      const seen = fingerprint(path);
      const st = lstatSync(path);
      const write: SlimFileOptions['write'] = {
        mode: st.mode & 0o7777,
        // Taking bytes out is not activity: the session keeps its place in lists sorted by it.
        mtime: mtimeOf(path),
        check: async () => {
          assertUnchanged(path, seen, opts.mode === 'slim' ? 'slimmed' : 'restored');
          if (opts.backup) backups.push(await backUp(home, opts.backup, path));
        },
      };
      if (opts.dryRun && opts.backup) write.check = async () => void backups.push(await backupPath(home, opts.backup!, path));
      if (opts.mode === 'slim') {
        const done = await slimFile(path, opts.store, { rules: opts.rules, keep, sink: opts.sink, dryRun: opts.dryRun, write });
        if (!done) continue;
        if (opts.dryRun) await write.check!(path);
        row.bytes += done.result.before.bytes + done.result.after.bytes;
        row.after += done.result.output.bytes;
        row.blobs += done.result.blobs.length;
        changed.push({ path, shifts: done.result.shifts });
      } else {
        const moved = keep ? await restoreFile(path, opts.store, { dryRun: true }) : null;
        const early = moved?.restored.find((m) => m.at < keep);
        if (early) return skip(`a fork reads ${file.name.rolloutId} by byte offsets up to ${keep}, and restoring would move them (a blob at ${early.at})`);
        const done = await restoreFile(path, opts.store, { dryRun: opts.dryRun, write });
        if (!done.restored.length) continue;
        if (opts.dryRun) await write.check!(path);
        row.bytes += done.input.bytes;
        row.after += done.output.bytes;
        row.blobs += done.restored.length;
        if (!done.proven) row.unproven = true;
        if (done.stale) {
          warn('changed since it was slimmed (re-tagged, repaired or imported elsewhere): restored without its record, each blob checked against its name', {
            file: path,
          });
        }
        changed.push({ path, shifts: null });
      }
      if (keep) row.kept = Math.max(row.kept ?? 0, keep);
    }
    if (!changed.length) return null;
    if (opts.backup) row.backup = backups;
    const done: Done = { line: row, touched: opts.dryRun ? [] : changed.map((c) => c.path) };
    if (!opts.dryRun) {
      try {
        tellCodex(home, s, changed);
      } catch (err) {
        done.stateError = new RolloutError(`${opts.mode === 'slim' ? 'slimmed' : 'restored'}, but Codex's state was not updated: ${(err as Error).message}`, {
          file: first.path,
        });
      }
    }
    return done;
  } finally {
    release();
  }
}

/**
 * Codex's projection of the thread holds byte offsets into its file: moved with a slimming's
 * shifts; forgotten after a restore or for a thread of several files (Codex projects it again).
 */
function tellCodex(home: Home, s: Chosen, changed: Array<{ path: string; shifts: Shifts | null }>): void {
  const only = changed.length === 1 && s.files.length === 1 ? changed[0]!.shifts : null;
  if (only) moveProjection(home, s.id, (offset) => only.apply(offset));
  else forgetProjection(home, s.id);
}

/** For every file a chosen session's readers read through `history_base`, how far they read it. */
async function readOffsets(choice: Choice, sessions: Chosen[]): Promise<Map<string, number>> {
  const readers = new Set(sessions.flatMap((s) => s.readers));
  const out = new Map<string, number>();
  if (!readers.size) return out;
  for (const f of [...choice.filesOf(readers).values()].flat()) {
    for (const path of f.files) {
      const base = await readHead(path, f.form).then(
        (h) => h.meta?.history_base,
        () => undefined,
      );
      if (!base || typeof base.thread_id !== 'string') continue;
      const id = base.thread_id.toLowerCase();
      const end = Number(base.end_byte_offset);
      // An offset that cannot be read keeps the whole file as it is.
      out.set(id, Math.max(out.get(id) ?? 0, Number.isSafeInteger(end) && end >= 0 ? end : Number.MAX_SAFE_INTEGER));
    }
  }
  return out;
}

/**
 * With --drop the blobs still pass through a store of the run's own (a line put back as it was
 * reads them again), removed when the run ends; one a killed run left behind goes with the next.
 */
function dropSink(home: Home): { store: ObjectStore; remove: () => void } {
  const root = join(home.dir, STORE_DIR);
  mkdirSync(root, { recursive: true });
  for (const name of readdirSync(root)) {
    const pid = /^\.drop-(\d+)$/.exec(name)?.[1];
    if (pid && !processAlive(Number(pid))) rmSync(join(root, name), { recursive: true, force: true });
  }
  const dir = join(root, `.drop-${process.pid}`);
  return { store: new ObjectStore(home, dir), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// rollout-prune's run: choose (select.ts), then act on each chosen session (act.ts) in an order
// that frees a parent only after the forks that read it, then tell Codex's name log and the index.
import { Progress } from '../cli/progress.js';
import { removeNameEntries } from '../codex/state.js';
import { breathe } from '../fs/atomic.js';
import { readyBackup } from '../fs/backup.js';
import { byName, currentFile, type Home } from '../home/paths.js';
import type { Filters } from '../index/query.js';
import type { Retag } from '../core/retag.js';
import { actOn, type ActLine } from './act.js';
import { retagGroup, type Member } from './retag.js';
import { choose, tallied, type Action, type Chosen, type SkipLine } from '../select/sessions.js';

export type { Action };

const DOING: Record<Action, string> = { delete: 'deleting', archive: 'archiving', compress: 'compressing', unarchive: 'unarchiving', retag: 'rewriting' };

export interface PruneOptions {
  action: Action;
  filters: Filters;
  /** Sessions named one by one (ids, prefixes, names, paths, rollout-ls rows); the filters narrow them. */
  refs?: AsyncIterable<string>;
  graceMs: number;
  dryRun: boolean;
  backup?: string;
  /** For retag: where the sessions now belong. */
  retag?: Retag;
  /** The rollout index that chooses, and that is brought up to date afterwards. */
  index: string;
  now: number;
}

export interface Sink {
  line(row: ActLine | SkipLine): void;
  /** A failure that stops one session (or one reference); the run goes on. */
  error(err: unknown): void;
}

export interface Summary {
  acted: number;
  skipped: number;
  errors: number;
  /** Bytes of the sessions acted on, before. */
  bytes: number;
  /** For --compress: bytes of the .zst files written. */
  compressedBytes: number;
}

/** Runs a prune; lines and errors go to `sink` as they happen. */
export async function prune(home: Home, opts: PruneOptions, sink: Sink): Promise<Summary> {
  const summary: Summary = { acted: 0, skipped: 0, errors: 0, bytes: 0, compressedBytes: 0 };
  const { line, error } = tallied(summary, sink);
  if (opts.backup) readyBackup(home, opts.backup, opts.dryRun);
  const { sessions, skipped } = await choose(home, opts, error);
  for (const s of skipped) line({ action: 'skip', ...s });

  const sizeOf = (s: Chosen) => s.files.reduce((n, f) => n + f.size, 0);
  const bar = new Progress(
    `${DOING[opts.action]}${opts.dryRun ? ' (dry run)' : ''}`,
    sessions.length,
    sessions.reduce((n, s) => n + sizeOf(s), 0),
    'session',
  );
  const planned = new Map(sessions.map((s) => [s.id, s]));
  const acted = new Set<string>();
  const visited = new Set<string>();
  const deleted = new Set<string>();
  const touched: string[] = [];
  // A fork or revert that goes in this run goes before the session it reads, so the parent is
  // free to go once every reader has gone.
  const visit = async (s: Chosen): Promise<void> => {
    if (visited.has(s.id)) return;
    visited.add(s.id);
    for (const r of s.readers) if (planned.has(r)) await visit(planned.get(r)!);
    try {
      const kept = s.readers.find((r) => !acted.has(r));
      if (kept) return line({ action: 'skip', id: s.id, path: currentFile(s.files).path, reason: `referenced by ${kept}` });
      const done = await actOn(home, s, opts);
      touched.push(...done.touched);
      summary.compressedBytes += done.compressedBytes;
      line(done.line);
      if (done.stateError) error(done.stateError);
      if (done.line.action === 'skip') return;
      acted.add(s.id);
      if (opts.action === 'delete') deleted.add(s.id);
      summary.acted++;
      summary.bytes += done.line.bytes;
    } catch (err) {
      error(err);
    } finally {
      bar.add(1, sizeOf(s));
    }
  };
  // Rewriting goes the other way: a session first, and with it every thread that reads it.
  const rewritten = new Set<string>();
  const rewrite = async (s: Chosen): Promise<void> => {
    if (rewritten.has(s.id) || s.carried) return bar.add(1, sizeOf(s));
    const group: Member[] = [];
    const none: Retag = { cwd: [], provider: null };
    for (const work = [s]; work.length;) {
      const m = work.shift()!;
      if (group.some((g) => g.session.id === m.id)) continue;
      // A thread rewritten already in this run (or only carried) has its offsets moved, nothing more.
      group.push({ session: m, retag: m.carried || rewritten.has(m.id) ? none : opts.retag! });
      work.push(...m.readers.map((id) => planned.get(id)!).filter(Boolean));
    }
    try {
      const done = await retagGroup(home, group, opts);
      for (const row of done.lines) {
        line(row);
        if (row.action === 'skip') continue;
        summary.acted++;
        summary.bytes += row.bytes;
      }
      for (const id of done.threads) rewritten.add(id);
      touched.push(...done.touched);
      if (done.stateError) error(done.stateError);
    } catch (err) {
      error(err);
    } finally {
      bar.add(1, sizeOf(s));
    }
  };
  const order = opts.action === 'retag' ? [...sessions].sort((a, b) => byName(currentFile(a.files), currentFile(b.files))) : sessions;
  for (const s of order) {
    await breathe();
    await (opts.action === 'retag' ? rewrite(s) : visit(s));
  }
  bar.finish();

  if (deleted.size && !opts.dryRun) await removeNameEntries(home, deleted).catch(error);
  if (touched.length) {
    const { syncPaths } = await import('../index/sync.js');
    await syncPaths(home, touched, { index: opts.index });
  }
  return summary;
}

// rollout-prune's run: choose (select.ts), then act on each chosen session (act.ts) in an order
// that frees a parent only after the forks that read it, then tell Codex's name log and the index.
import { Progress } from '../cli/progress.js';
import { removeNameEntries } from '../codex/state.js';
import { breathe } from '../fs/atomic.js';
import { readyBackup } from '../fs/backup.js';
import { currentFile, type Home } from '../home/paths.js';
import type { Filters } from '../index/query.js';
import type { Retag } from '../core/retag.js';
import { actOn, type ActLine } from './act.js';
import { retagGroup, type Member } from './retag.js';
import { choose, tallied, type Action, type Choice, type Chosen, type SkipLine } from '../select/sessions.js';

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
  const choice = await choose(home, opts, error);
  try {
    for (const s of choice.skipped) line(s);
    const bar = new Progress(`${DOING[opts.action]}${opts.dryRun ? ' (dry run)' : ''}`, choice.count, choice.bytes, 'session');
    const run = opts.action === 'retag' ? new Rewriting(home, opts, choice, summary, line, error) : new Pruning(home, opts, choice, summary, line, error);
    // Codex's name log and the index are told a page at a time: never the whole run's paths at once.
    const tell = async () => {
      if (run.deleted.size && !opts.dryRun) await removeNameEntries(home, run.deleted).catch(error);
      run.deleted.clear();
      await tellIndex(home, run.touched.splice(0), opts.index);
    };
    for await (const page of choice.pages()) {
      for (const s of page.skipped) line(s);
      await choice.threads.within(() => run.page(page.sessions, bar));
      await tell();
    }
    await choice.threads.within(() => run.finish(bar));
    await tell();
    bar.finish();
  } finally {
    choice.close();
  }
  return summary;
}

/** Brings the index's rows of these paths up to date. */
async function tellIndex(home: Home, touched: string[], index: string): Promise<void> {
  if (!touched.length) return;
  const { syncPaths } = await import('../index/sync.js');
  await syncPaths(home, touched, { index });
}

const sizeOf = (s: Chosen) => s.files.reduce((n, f) => n + f.size, 0);

type Line = (row: ActLine | SkipLine) => void;

/**
 * Deleting, archiving, compressing, unarchiving: a fork or revert that goes in this run goes before
 * the session it reads, so the parent is free to go once every reader has gone. A parent whose
 * chosen readers are in a later page waits until the end (only such parents are held).
 */
/** What both kinds of run share: the run's context, and what it has to tell once a page is done. */
abstract class PageRun {
  readonly touched: string[] = [];
  readonly deleted = new Set<string>();

  constructor(
    protected readonly home: Home,
    protected readonly opts: PruneOptions,
    protected readonly choice: Choice,
    protected readonly summary: Summary,
    protected readonly line: Line,
    protected readonly error: (err: unknown) => void,
  ) {}

  abstract page(sessions: Chosen[], bar: Progress): Promise<void>;
  abstract finish(bar: Progress): Promise<void>;
}

class Pruning extends PageRun {
  private readonly waiting = new Map<string, Chosen>();

  page(sessions: Chosen[], bar: Progress): Promise<void> {
    return this.readersFirst(sessions, bar, true);
  }

  /** The parents that waited for readers of later pages, readers first. */
  finish(bar: Progress): Promise<void> {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    return this.readersFirst(waiting, bar, false);
  }

  /** Each session after its readers among `sessions`; with `wait`, one whose chosen readers are undecided waits. */
  private async readersFirst(sessions: Chosen[], bar: Progress, wait: boolean): Promise<void> {
    const here = new Map(sessions.map((s) => [s.id, s]));
    const visited = new Set<string>();
    const threads = this.choice.threads;
    const visit = async (s: Chosen): Promise<void> => {
      if (visited.has(s.id)) return;
      visited.add(s.id);
      for (const r of s.readers) if (here.has(r)) await visit(here.get(r)!);
      if (wait && s.readers.some((r) => threads.rank(r) && !threads.decided(r))) this.waiting.set(s.id, s);
      else await this.act(s, bar);
    };
    for (const s of sessions) {
      await breathe();
      await visit(s);
    }
  }

  private async act(s: Chosen, bar: Progress): Promise<void> {
    let acted = false;
    try {
      const kept = s.readers.find((r) => !this.choice.threads.acted(r));
      if (kept) return this.line({ action: 'skip', id: s.id, path: currentFile(s.files).path, reason: `referenced by ${kept}` });
      const done = await actOn(this.home, s, this.opts);
      this.touched.push(...done.touched);
      this.summary.compressedBytes += done.compressedBytes;
      this.line(done.line);
      if (done.stateError) this.error(done.stateError);
      if (done.line.action === 'skip') return;
      acted = true;
      if (this.opts.action === 'delete') this.deleted.add(s.id);
      this.summary.acted++;
      this.summary.bytes += done.line.bytes;
    } catch (err) {
      this.error(err);
    } finally {
      this.choice.threads.done(s.id, acted);
      bar.add(1, sizeOf(s));
    }
  }
}

/**
 * Rewriting (retag) goes the other way: a session first, and with it every thread that reads it
 * (chosen ones of another page are fetched for the group, and count as done when their page comes).
 */
class Rewriting extends PageRun {
  async page(sessions: Chosen[], bar: Progress): Promise<void> {
    const here = new Map(sessions.map((s) => [s.id, s]));
    for (const s of sessions) {
      await breathe();
      await this.rewrite(s, here, bar);
    }
  }

  async finish(): Promise<void> {
    // Every group was rewritten with its page.
  }

  private async rewrite(s: Chosen, here: Map<string, Chosen>, bar: Progress): Promise<void> {
    const threads = this.choice.threads;
    if (s.carried) return;
    if (threads.decided(s.id)) return bar.add(1, sizeOf(s));
    const group: Member[] = [];
    const none: Retag = { cwd: [], provider: null };
    for (const work = [s]; work.length;) {
      const m = work.shift()!;
      if (group.some((g) => g.session.id === m.id)) continue;
      // A thread rewritten already in this run (or only carried) has its offsets moved, nothing more.
      group.push({ session: m, retag: m.carried || threads.decided(m.id) ? none : this.opts.retag! });
      const elsewhere = m.readers.filter((id) => !here.has(id) && threads.rank(id));
      work.push(...m.readers.map((id) => here.get(id)!).filter(Boolean), ...(await this.choice.load(elsewhere)));
    }
    try {
      const done = await retagGroup(this.home, group, this.opts);
      for (const row of done.lines) {
        this.line(row);
        if (row.action === 'skip') continue;
        this.summary.acted++;
        this.summary.bytes += row.bytes;
      }
      for (const id of done.threads) if (threads.rank(id)) threads.done(id, true);
      this.touched.push(...done.touched);
      if (done.stateError) this.error(done.stateError);
    } catch (err) {
      this.error(err);
    } finally {
      bar.add(1, sizeOf(s));
    }
  }
}

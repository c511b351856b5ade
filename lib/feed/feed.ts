// rollout-feed's run: the index brought up to date, the files it read further than the checkpoint
// (one query, the checkpoint attached to the index), each read on from where the checkpoint says,
// its records written, and the checkpoint moved on once they are out. With --follow, the same again
// twice a second.
import { fstatSync, fsyncSync, mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPerSession, report, RolloutError, UsageError } from '../cli/errors.js';
import { stopGently } from '../fs/atomic.js';
import type { Output } from '../cli/output.js';
import { safeJson } from '../cli/terminal.js';
import type { Home } from '../home/paths.js';
import type { Database } from '../index/db.js';
import { feedFiles, type FeedFile, type Filters } from '../index/query.js';
import { openFresh } from '../index/update.js';
import type { ItemOptions } from '../items/reader.js';
import { redactDeep } from '../items/redact.js';
import { Checkpoint } from './checkpoint.js';
import { readFile, type FeedCarry, type FeedItem, type Progress } from './read.js';
import { FEED_KINDS, sessionRecord, type FeedKind } from './records.js';

export interface FeedOptions {
  index: string;
  filters: Filters;
  /** The kinds of record written (null: all). */
  kinds: ReadonlySet<FeedKind> | null;
  host: string | null;
  items: ItemOptions;
  /** Write a tool call as soon as it is seen, and again with its output. */
  early: boolean;
  /** Control characters as escapes: stdout is a terminal. */
  terminal: boolean;
}

/** How often --follow looks for new lines. */
export const FOLLOW_MS = 500;

/**
 * One pass over the home: every record appended since the checkpoint, then the checkpoint moved on.
 * Returns how many files could not be read (each reported, and read again by the next pass).
 */
export async function feedPass(home: Home, opts: FeedOptions, out: Output, ck: Checkpoint | null): Promise<number> {
  const db = await openFresh(home, opts.index, true);
  let failed = 0;
  try {
    if (ck) db.prepare('ATTACH DATABASE ? AS ck').run(ck.path);
    for (const file of feedFiles(db, opts.filters, ck ? 'ck.progress' : null)) {
      try {
        const progress = await feedFile(file, opts, out);
        ck?.set(file.rollout_id, progress);
      } catch (err) {
        if (!isPerSession(err)) throw err;
        report(err instanceof RolloutError && !err.where ? new RolloutError(err.message, { file: file.path }) : err);
        failed++;
      }
    }
  } finally {
    detach(db, ck);
    db.close();
  }
  out.flush();
  // Records on a file are on the disk before the checkpoint says they were sent.
  if (fstatSync(out.fd).isFile()) fsyncSync(out.fd);
  ck?.commit();
  return failed;
}

function detach(db: Database, ck: Checkpoint | null): void {
  if (ck && db.open) db.exec('DETACH DATABASE ck');
}

async function feedFile(file: FeedFile, opts: FeedOptions, out: Output): Promise<Progress> {
  const from: Progress | null =
    file.sent === null ? null : { sent: file.sent, line: file.line ?? 0, tail: file.tail, carry: JSON.parse(file.carry ?? '{}') as FeedCarry };
  const kinds = opts.kinds;
  const host = opts.host;
  let started = false;
  const write = (item: FeedItem | ReturnType<typeof sessionRecord>, pos: number | 'session') => {
    const json = JSON.stringify({ record_id: `${file.rollout_id}:${pos === 'session' ? 0 : pos}:${item.kind}`, host, ...item });
    out.line(opts.terminal ? safeJson(json) : json);
  };
  const session = () => {
    if (started) return;
    started = true;
    if (kinds && !kinds.has('session')) return;
    const facts = sessionRecord(file);
    write(opts.items.redact ? redactDeep(facts) : facts, 'session');
  };
  const progress = await readFile(
    {
      session: file.id,
      path: file.path,
      compressed: file.compressed === 1,
      generation: file.generation,
      cwd: file.cwd,
      history_base: file.history_base,
      rewritten: from !== null && file.read_offset < from.sent,
    },
    from,
    { ...opts.items, early: opts.early },
    (item, pos) => {
      if (kinds && !kinds.has(item.kind)) return;
      session();
      write(item, pos);
    },
  );
  // Its facts changed with its file, even when what was appended makes no record of another kind.
  if (progress.sent !== from?.sent) session();
  return progress;
}

/** --kinds, checked. */
export function parseKinds(spec: string | undefined): Set<FeedKind> | null {
  if (spec === undefined) return null;
  const kinds = new Set<FeedKind>();
  for (const k of spec.split(',').map((s) => s.trim())) {
    if (!(FEED_KINDS as readonly string[]).includes(k)) throw new UsageError(`--kinds takes ${FEED_KINDS.join(', ')}; not '${k}'`);
    kinds.add(k as FeedKind);
  }
  return kinds;
}

/** SIGINT and SIGTERM end a follow after its pass; a second one, at once. */
export function stopOnSignals(): { now: boolean } {
  const stop = { now: false };
  stopGently();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stop.now) process.exit(128 + constants.signals[signal]);
      stop.now = true;
    });
  }
  return stop;
}

/**
 * Passes until `stop` says so, FOLLOW_MS apart; each commits what it wrote. Without a checkpoint of
 * the user's, the run keeps one of its own (removed at the end), so that each look sends only what
 * is new.
 */
export async function follow(home: Home, opts: FeedOptions, out: Output, given: Checkpoint | null, stop: { now: boolean }): Promise<number> {
  const own = given ? null : mkdtempSync(join(tmpdir(), 'rollout-feed-'));
  const ck = given ?? Checkpoint.begin(join(own!, 'follow.ck'), 'run');
  let failed = 0;
  try {
    while (!stop.now) {
      failed += await feedPass(home, opts, out, ck);
      if (!stop.now) await new Promise((r) => setTimeout(r, FOLLOW_MS));
    }
  } finally {
    if (own) {
      ck.close();
      rmSync(own, { recursive: true, force: true });
    }
  }
  return failed;
}

export { Checkpoint };

// The choice of the binaries that change sessions in place (rollout-prune, rollout-slim): the
// selection language, answered by the index, over the sessions of the roots the action can take
// from (or over the sessions named on stdin); then each chosen thread's files as they are on disk
// now, and who still reads them.
import { isPerSession, UsageError } from '../cli/errors.js';
import type { Database } from '../core/sqlite.js';
import type { Filters } from '../index/query.js';
import { readersOf } from '../index/query.js';
import { discover, type Home, type SessionFile } from '../home/paths.js';
import type { SessionFiles } from '../fs/safety.js';
import { chooseIds, namedSessions, openForChoice } from './choose.js';

export type Action = 'delete' | 'archive' | 'compress' | 'unarchive' | 'retag';
/** Prune's actions, and rollout-slim's rewriting (slimming or restoring), which chooses the same way. */
export type Choosing = Action | 'slim';
type Roots = NonNullable<Filters['archived']>;

/** What an action can take from: archiving takes active sessions, unarchiving archived ones. */
const ACTION_ROOTS: Record<Choosing, Roots> = {
  delete: 'include',
  compress: 'include',
  archive: 'exclude',
  unarchive: 'only',
  retag: 'include',
  slim: 'include',
};

/** The roots the selection asked for that the action can take from; none is a usage error. */
export function rootsFor(action: Choosing, asked: Roots): Roots {
  const can = ACTION_ROOTS[action];
  if (can === 'include') return asked;
  if (asked === 'include' || asked === can) return can;
  throw new UsageError(
    action === 'archive' ? '--archive moves active sessions; --archived selects none' : '--unarchive moves archived sessions; --active selects none',
  );
}

export interface Selection {
  action: Choosing;
  filters: Filters;
  /** Sessions named one by one (--stdin); the filters narrow them. */
  refs?: AsyncIterable<string>;
  index: string;
}

/** A chosen session, and the other threads whose files read one of its files through `history_base`. */
export interface Chosen extends SessionFiles {
  readers: string[];
  /** Not chosen, but reads a chosen session's files (--map-cwd: its offsets into them move with them). */
  carried?: true;
}

/**
 * The line and error callbacks of a run that acts on sessions, counting its skips and per-session
 * errors into `summary`; any other error is thrown (it ends the run).
 */
export function tallied<L extends { action: string }>(
  summary: { skipped: number; errors: number },
  sink: { line(row: L | SkipLine): void; error(err: unknown): void },
): { line: (row: L | SkipLine) => void; error: (err: unknown) => void } {
  return {
    line: (row) => {
      if (row.action === 'skip') summary.skipped++;
      sink.line(row);
    },
    error: (err) => {
      if (!isPerSession(err)) throw err;
      summary.errors++;
      sink.error(err);
    },
  };
}

/** A session left alone, and why: one NDJSON line of a binary that acts on sessions. */
export interface SkipLine {
  action: 'skip';
  id: string;
  path: string;
  reason: string;
}

export interface Choice {
  sessions: Chosen[];
  /** Sessions named but left alone, and why (already archived, already compressed, ...). */
  skipped: Array<{ id: string; path: string; reason: string }>;
}

export async function choose(home: Home, sel: Selection, onError: (err: unknown) => void): Promise<Choice> {
  const roots = rootsFor(sel.action, sel.filters.archived ?? 'exclude');
  const named = sel.refs ? await namedSessions(home, sel.refs, { insideRoots: true }, onError) : undefined;
  const db = await openForChoice(home, sel.index, sel.filters);
  try {
    const ids = new Set(chooseIds(db, { ...sel.filters, archived: roots }, named));
    // Only the chosen threads' names are looked at on disk: a walk of names, no lstat of the rest.
    const files = await discover(home, { where: (n) => ids.has(n.threadId) || Boolean(named?.has(n.threadId)) });
    const inRoots = (f: SessionFile) => roots === 'include' || (roots === 'only') === (f.root === 'archived_sessions');
    const byId = new Map<string, SessionFile[]>();
    for (const f of files) {
      if (!ids.has(f.name.threadId) || !inRoots(f)) continue;
      const list = byId.get(f.name.threadId);
      if (list) list.push(f);
      else byId.set(f.name.threadId, [f]);
    }
    const skipped: Choice['skipped'] = [];
    for (const [id, { file }] of named ?? []) {
      if (!byId.has(id) && !files.some((f) => f.name.threadId === id && inRoots(f))) skipped.push({ id, path: file.path, reason: elsewhere(sel.action, file) });
    }
    const sessions: Chosen[] = [];
    for (const [id, group] of byId) {
      const why = sel.action === 'compress' ? uncompressible(group) : null;
      if (why) {
        // Said only of sessions named one by one; a filter simply finds nothing to do there.
        if (named?.has(id)) skipped.push({ id, path: group[0]!.path, reason: why });
        continue;
      }
      sessions.push({ id, files: group, readers: [] });
    }
    if (sel.action !== 'compress' && sel.action !== 'unarchive') await addReaders(home, db, sessions, sel.action === 'retag');
    return { sessions, skipped };
  } finally {
    db.close();
  }
}

/**
 * Each session's readers: the other threads whose files read one of its files. With `carry`, the
 * readers that were not chosen join the list (and theirs, down the forks), marked as carried.
 */
async function addReaders(home: Home, db: Database, sessions: Chosen[], carry: boolean): Promise<void> {
  const byId = new Map(sessions.map((s) => [s.id, s]));
  for (let fresh = sessions; fresh.length;) {
    const readers = readersOf(db, [...new Set(fresh.flatMap((s) => s.files.map((f) => f.name.rolloutId)))]);
    for (const s of fresh) {
      const ids = new Set(s.files.flatMap((f) => [...(readers.get(f.name.rolloutId) ?? [])]));
      ids.delete(s.id);
      s.readers = [...ids].sort();
    }
    const missing = new Set(fresh.flatMap((s) => s.readers).filter((id) => !byId.has(id)));
    fresh = [];
    if (!carry || !missing.size) break;
    const found = new Map<string, SessionFile[]>();
    for (const f of await discover(home, { where: (n) => missing.has(n.threadId) })) found.set(f.name.threadId, [...(found.get(f.name.threadId) ?? []), f]);
    for (const [id, files] of found) {
      const s: Chosen = { id, files, readers: [], carried: true };
      byId.set(id, s);
      sessions.push(s);
      fresh.push(s);
    }
  }
}

function elsewhere(action: Choosing, file: SessionFile): string {
  if (action === 'archive' && file.root === 'archived_sessions') return 'already archived';
  if (action === 'unarchive' && file.root === 'sessions') return 'not archived';
  return 'not in the selected roots';
}

function uncompressible(files: SessionFile[]): string | null {
  if (files.every((f) => f.compressed)) return 'already compressed';
  if (files.some((f) => f.form === 'json')) return "a generation-0 .json session is left as it is: no reader (Codex's or ours) knows a compressed .json";
  return null;
}

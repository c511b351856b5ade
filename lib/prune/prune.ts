// rollout-prune's work: choose sessions by explicit criteria, then delete, archive, compress or
// unarchive each one, all of its files together, with every safety rule of lib/safety.ts checked
// just before the session is touched, and Codex's own state kept in step.
//
// Selection never needs the rollout index: names and lstat come first, a file's tail (its last
// line's timestamp) only when its mtime cannot already decide, its head only for the sessions that
// pass those.
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { breathe, sweepTemps, sweepTree, syncDir } from '../fs/atomic.js';
import { RolloutError } from '../cli/main.js';
import { deleteThreadRows, moveThreadRow, removeNameEntries } from '../codex/state.js';
import { allNames, readNames } from '../home/names.js';
import { discover, formOf, parseRolloutName, type Home, type Root, type SessionFile } from '../home/paths.js';
import { backupPath, backUp, checkBackupDir } from '../fs/backup.js';
import { compressFile, leftBehind, moveFile, touch } from '../fs/move.js';
import { BOM } from '../core/lines.js';
import { isObject, type SessionMetaPayload } from '../core/record.js';
import { current, Resolver } from '../home/resolve.js';
import {
  assertUnchanged,
  destinationReason,
  fingerprint,
  lockSession,
  lstatOrNull,
  outsideReason,
  References,
  refuseReason,
  type Fingerprint,
} from '../fs/safety.js';
import { readHead } from '../core/session.js';

export type Action = 'delete' | 'archive' | 'compress' | 'unarchive';

export interface PruneOptions {
  action: Action;
  /** Select sessions whose last activity is before this instant (ms). */
  olderThan?: number;
  /** Select the sessions these references name (ids, prefixes, names, paths). */
  refs?: AsyncIterable<string>;
  cwds: string[];
  sources: string[];
  providers: string[];
  minSize?: number;
  /** The roots to select from (the action narrows them further). */
  roots: readonly Root[];
  /** Spare sessions that have a name. */
  unnamed: boolean;
  /** Per cwd, the N most recently active sessions always survive. */
  keepLast?: number;
  graceMs: number;
  dryRun: boolean;
  backup?: string;
  /** The rollout index to bring up to date afterwards (default: indexPath's). */
  index?: string;
  now: number;
}

export interface ActLine {
  action: Action;
  id: string;
  path: string;
  to: string | null;
  bytes: number;
  /** With --backup: where each file's verified copy is (or, in a dry run, would be). */
  backup?: string[];
  dry_run: boolean;
}

export interface SkipLine {
  action: 'skip';
  id: string;
  path: string;
  reason: string;
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
  /** Every path the run changed, old and new names. */
  touched: string[];
}

/** The roots an action can take sessions from. */
export const ACTION_ROOTS: Record<Action, readonly Root[]> = {
  delete: ['sessions', 'archived_sessions'],
  compress: ['sessions', 'archived_sessions'],
  archive: ['sessions'],
  unarchive: ['archived_sessions'],
};

/** One thread's files in the selected roots: a reverted thread has several, each plain and/or .zst. */
type Head = Pick<SessionMetaPayload, 'cwd' | 'source' | 'model_provider' | 'thread_source'>;

class Session {
  head?: Head | null;
  activity?: number;
  private sizes = new Map<string, number>();

  constructor(
    readonly id: string,
    readonly files: SessionFile[],
  ) {}

  get current(): SessionFile {
    return current(this.files);
  }

  /** Every file on disk, plain and compressed. */
  get paths(): string[] {
    return this.files.flatMap((f) => f.files);
  }

  async bytes(): Promise<number> {
    let total = 0;
    for (const p of this.paths) {
      if (!this.sizes.has(p)) this.sizes.set(p, lstatOrNull(p)?.size ?? 0);
      total += this.sizes.get(p)!;
    }
    return total;
  }

  /** The few head fields the filters read (not the whole meta: its instructions run to 20 KB and more). */
  async meta(): Promise<Head | null> {
    if (this.head === undefined) {
      const f = this.current;
      this.head = await readHead(f.path, f.form).then(
        ({ meta }) => meta && { cwd: meta.cwd, source: meta.source, model_provider: meta.model_provider, thread_source: meta.thread_source },
        () => null,
      );
    }
    return this.head;
  }

  /** The later of the last line's timestamp and the mtime, over all its files (as rollout-ls's updated_at). */
  async lastActivity(): Promise<number> {
    if (this.activity === undefined) {
      let last = 0;
      for (const f of this.files) {
        last = Math.max(last, f.mtimeMs);
        if (!f.compressed) last = Math.max(last, (await lastLineTime(f.path).catch(() => null)) ?? 0);
      }
      this.activity = last;
    }
    return this.activity;
  }
}

const TAIL_BLOCK = 64 * 1024;
/** A last line longer than this is not looked for; the mtime decides alone then. */
const TAIL_LIMIT = 16 << 20;

/**
 * The envelope timestamp of a plain file's last line, read from its end (an envelope line starts
 * with `{"timestamp":"...`, so the start of the line is all that is needed). Null for bare-line
 * generations, which carry no timestamps, and for unreadable tails.
 */
export async function lastLineTime(path: string): Promise<number | null> {
  // Synchronous, into one block: thousands of sessions made this a thread-pool round trip and a
  // fresh 64 KB buffer each, latency and garbage that dominated a dry run over a large home.
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const block = (tailBlock ??= Buffer.allocUnsafe(TAIL_BLOCK));
    let pos = size;
    let content = false;
    let start: number | null = null;
    while (pos > 0 && start === null && size - pos < TAIL_LIMIT) {
      const from = Math.max(0, pos - TAIL_BLOCK);
      const bytesRead = readSync(fd, block, 0, pos - from, from);
      for (let i = bytesRead - 1; i >= 0; i--) {
        const c = block[i];
        if (c === 0x0a) {
          if (content) {
            start = from + i + 1;
            break;
          }
        } else if (c !== 0x0d && c !== 0x20 && c !== 0x09) content = true;
      }
      pos = from;
      if (pos === 0 && start === null && content) start = 0;
    }
    if (start === null) return null;
    const head = Buffer.alloc(96);
    const bytesRead = readSync(fd, head, 0, head.length, start);
    let text = head.subarray(0, bytesRead);
    if (start === 0 && text.subarray(0, 3).equals(BOM)) text = text.subarray(3);
    const m = /^\{\s*"timestamp"\s*:\s*"([^"]+)"/.exec(text.toString('latin1'));
    const t = m ? Date.parse(m[1]!) : NaN;
    return Number.isFinite(t) ? t : null;
  } finally {
    closeSync(fd);
  }
}

let tailBlock: Buffer | undefined;

/**
 * The names a session source answers to: `cli`, `vscode`, `exec`, `mcp`, `unknown`, and for the
 * object forms their kind and kind:variant (`subagent`, `subagent:review`, `subagent:thread_spawn`,
 * `custom`, `custom:atlas`, `internal`, ...). A missing source is `vscode`, as Codex reads it.
 */
export function sourceKinds(meta: Pick<SessionMetaPayload, 'source' | 'thread_source'> | null): string[] {
  const source = meta?.source ?? 'vscode';
  const kinds: string[] = [];
  if (typeof source === 'string') kinds.push(source);
  else if (isObject(source)) {
    for (const [kind, value] of Object.entries(source)) {
      kinds.push(kind);
      if (typeof value === 'string') kinds.push(`${kind}:${value}`);
      else if (isObject(value)) for (const variant of Object.keys(value)) kinds.push(`${kind}:${variant}`);
    }
  }
  if (meta?.thread_source === 'subagent' && !kinds.includes('subagent')) kinds.push('subagent');
  return kinds;
}

function canonical(path: string): string[] {
  const abs = resolve(path);
  try {
    const real = realpathSync(abs);
    return real === abs ? [abs] : [abs, real];
  } catch {
    return [abs];
  }
}

const within = (dir: string, path: string) => path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/** Runs a prune; lines and errors go to `sink` as they happen. */
export async function prune(home: Home, opts: PruneOptions, sink: Sink): Promise<Summary> {
  const summary: Summary = { acted: 0, skipped: 0, errors: 0, bytes: 0, compressedBytes: 0, touched: [] };
  const out: Sink = {
    line: (row) => {
      if (row.action === 'skip') summary.skipped++;
      sink.line(row);
    },
    error: (err) => {
      summary.errors++;
      sink.error(err);
    },
  };
  if (opts.backup) {
    checkBackupDir(home, opts.backup);
    // Copies a killed run left half-made.
    if (!opts.dryRun) sweepTree(opts.backup);
  }
  const all = await discover(home);
  const roots = opts.roots.filter((r) => ACTION_ROOTS[opts.action].includes(r));
  const groups = new Map<string, Session>();
  for (const f of all) {
    if (!roots.includes(f.root)) continue;
    const s = groups.get(f.name.threadId);
    if (s) s.files.push(f);
    else groups.set(f.name.threadId, new Session(f.name.threadId, [f]));
  }

  const chosen = opts.refs ? await named(home, opts, all, groups, out) : [...groups.values()];
  const selected = await narrow(home, opts, chosen, [...groups.values()], Boolean(opts.refs), out);
  const acted = new Set<string>();
  const refs =
    opts.action === 'delete' || opts.action === 'archive'
      ? await References.scan(
          all,
          selected.flatMap((s) => s.files),
        )
      : null;
  const planned = new Set(selected.map((s) => s.id));
  const byId = new Map(selected.map((s) => [s.id, s]));
  const visited = new Set<string>();
  const deleted = new Set<string>();

  // A fork or revert that goes in this run goes before the session it reads, so the parent is
  // free to go once every reader has gone.
  const visit = async (s: Session): Promise<void> => {
    if (visited.has(s.id)) return;
    visited.add(s.id);
    const readers = refs?.readersOf(s) ?? [];
    for (const r of readers) if (planned.has(r)) await visit(byId.get(r)!);
    try {
      const kept = readers.find((r) => !acted.has(r));
      if (kept) return out.line({ action: 'skip', id: s.id, path: s.current.path, reason: `referenced by ${kept}` });
      const line = await actOn(home, s, opts, out, summary);
      if (!line) return;
      acted.add(s.id);
      if (opts.action === 'delete') deleted.add(s.id);
      summary.acted++;
      summary.bytes += line.bytes;
      out.line(line);
    } catch (err) {
      out.error(err);
    }
  };
  for (const s of selected) {
    await breathe();
    await visit(s);
  }

  if (deleted.size && !opts.dryRun) {
    await removeNameEntries(home, deleted).catch((err) => out.error(err));
  }
  if (summary.touched.length) {
    // Loaded only now: a dry run, or a run that changed nothing, never opens the index.
    const { syncPaths } = await import('../index/sync.js');
    await syncPaths(home, summary.touched, { index: opts.index });
  }
  return summary;
}

/** The sessions that `--stdin` names; references that name nothing, or something outside, are errors. */
async function named(home: Home, opts: PruneOptions, all: SessionFile[], groups: Map<string, Session>, out: Sink): Promise<Session[]> {
  const resolver = new Resolver(home);
  const chosen = new Map<string, Session>();
  for await (const ref of opts.refs!) {
    try {
      if (ref === '-') throw new RolloutError("'-' is not a session here; give ids, names or paths");
      const target = await resolver.resolve(ref);
      if (target.stdin) continue;
      const file = target.file;
      const pathLike = ref.includes('/') || /\.jsonl?(\.zst)?$/.test(ref);
      if (pathLike) {
        const why = await outsideReason(home, file.path);
        if (why) throw new RolloutError(`refused: ${why}`, { file: file.path });
      }
      const id = file.name.threadId;
      const session = groups.get(id);
      if (!session) {
        const elsewhere = all.find((f) => f.name.threadId === id);
        out.line({ action: 'skip', id, path: file.path, reason: nothingToDo(opts.action, elsewhere?.root) });
        continue;
      }
      chosen.set(id, session);
    } catch (err) {
      if (!(err instanceof RolloutError) && !(err as NodeJS.ErrnoException)?.code) throw err;
      out.error(err);
    }
  }
  return [...chosen.values()];
}

function nothingToDo(action: Action, root: Root | undefined): string {
  if (action === 'archive' && root === 'archived_sessions') return 'already archived';
  if (action === 'unarchive' && root === 'sessions') return 'not archived';
  return 'not in the selected roots';
}

/** Applies the narrowing filters, cheapest first; --keep-last last, as it needs the whole population. */
async function narrow(home: Home, opts: PruneOptions, chosen: Session[], population: Session[], explicit: boolean, out: Sink): Promise<Session[]> {
  const cwdDirs = opts.cwds.flatMap(canonical);
  const names = opts.unnamed ? new Set(allNames(await readNames(home, { strict: true })).keys()) : null;
  const kept: Session[] = [];
  for (const s of chosen) {
    if (opts.action === 'compress') {
      const why = s.files.every((f) => f.compressed)
        ? 'already compressed'
        : s.files.some((f) => f.form === 'json')
          ? "a generation-0 .json session is left as it is: no reader (Codex's or ours) knows a compressed .json"
          : null;
      if (why) {
        if (explicit) out.line({ action: 'skip', id: s.id, path: s.current.path, reason: why });
        continue;
      }
    }
    if (opts.minSize !== undefined && (await s.bytes()) < opts.minSize) continue;
    if (opts.olderThan !== undefined) {
      if (s.files.some((f) => f.mtimeMs >= opts.olderThan!)) continue;
      if ((await s.lastActivity()) >= opts.olderThan) continue;
    }
    if (names?.has(s.id)) continue;
    if (cwdDirs.length || opts.sources.length || opts.providers.length) {
      const meta = await s.meta();
      if (cwdDirs.length && !(typeof meta?.cwd === 'string' && cwdDirs.some((d) => within(d, meta.cwd as string)))) continue;
      if (opts.sources.length && !sourceKinds(meta).some((k) => opts.sources.includes(k))) continue;
      if (opts.providers.length && !opts.providers.includes(String(meta?.model_provider ?? ''))) continue;
    }
    kept.push(s);
  }
  if (opts.keepLast === undefined) return kept;
  const survivors = await mostRecentPerCwd(kept, population, opts.keepLast);
  return kept.filter((s) => !survivors.has(s.id));
}

/** Ids of the `n` most recently active sessions of each cwd that one of `chosen` has. */
async function mostRecentPerCwd(chosen: Session[], population: Session[], n: number): Promise<Set<string>> {
  const cwdOf = async (s: Session) => {
    const cwd = (await s.meta())?.cwd;
    return typeof cwd === 'string' ? cwd : '';
  };
  // One head at a time: all of them at once held a read buffer each, a gigabyte over 10,000 sessions.
  const cwds = new Set<string>();
  for (const s of chosen) cwds.add(await cwdOf(s));
  const byCwd = new Map<string, Array<{ id: string; at: number }>>();
  for (const s of population) {
    const cwd = await cwdOf(s);
    if (!cwds.has(cwd)) continue;
    if (!byCwd.has(cwd)) byCwd.set(cwd, []);
    byCwd.get(cwd)!.push({ id: s.id, at: await s.lastActivity() });
  }
  const survivors = new Set<string>();
  for (const list of byCwd.values()) {
    list.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1));
    for (const { id } of list.slice(0, n)) survivors.add(id);
  }
  return survivors;
}

/**
 * Where an archived file goes back to: `sessions/YYYY/MM/DD/`, the date from its name, as Codex
 * does. A name of the flat generations of 2025 goes back to `sessions/` itself, where those were
 * written (Codex never lists them, and a dated folder would make them look like a later form).
 */
export function unarchivedPath(home: Home, name: string): string {
  const parsed = parseRolloutName(name);
  if (parsed && formOf(parsed, 'archived') !== 'nested') return join(home.sessions, name);
  const m = /^rollout-(\d{4})-(\d{2})-(\d{2})/.exec(name);
  if (!m) throw new RolloutError('no date in the file name; cannot tell where it goes', { file: name });
  return join(home.sessions, m[1]!, m[2]!, m[3]!, name);
}

/** Each file's destination for a move action; null for delete and compress. */
function destinations(home: Home, s: Session, action: Action): Array<[string, string]> | null {
  if (action === 'archive') return s.paths.map((p) => [p, join(home.archived, basename(p))]);
  if (action === 'unarchive') return s.paths.map((p) => [p, unarchivedPath(home, basename(p))]);
  return null;
}

const zstOf = (f: SessionFile) => (f.compressed ? f.path : `${f.path}.zst`);

/** The files are done; a DB that cannot be written is reported, and does not undo the line. */
function updateCodexState(out: Sink, file: string, write: () => unknown): void {
  try {
    write();
  } catch (err) {
    const where = err instanceof RolloutError && err.where?.file ? ` (${err.where.file})` : '';
    out.error(new RolloutError(`done, but Codex's state was not updated: ${(err as Error).message}${where}`, { file }));
  }
}

/**
 * Moves a session's files together: when one cannot move, those already moved go back, so a
 * session is never left split between the roots.
 */
async function moveAll(moves: Array<[string, string]>, seen: Map<string, Fingerprint>): Promise<void> {
  const done: Array<[string, string]> = [];
  try {
    for (const [src, dst] of moves) {
      await moveFile(src, dst, seen.get(src));
      done.push([src, dst]);
    }
  } catch (err) {
    for (const [src, dst] of done.reverse()) await moveFile(dst, src).catch(() => {});
    throw err;
  }
}

/** Acts on one session; returns its line, or null when it was skipped (the skip line already out). */
async function actOn(home: Home, s: Session, opts: PruneOptions, out: Sink, summary: Summary): Promise<ActLine | null> {
  if (opts.dryRun) return actOnLocked(home, s, opts, out, summary);
  // Another run acting on the same session at the same moment would undo half of this one.
  const release = await lockSession(home, s.id);
  if (typeof release === 'string') {
    out.line({ action: 'skip', id: s.id, path: s.current.path, reason: release });
    return null;
  }
  try {
    return await actOnLocked(home, s, opts, out, summary);
  } finally {
    release();
  }
}

/** actOn, holding the session's lock; the checks come after the lock, when nobody else can act. */
async function actOnLocked(home: Home, s: Session, opts: PruneOptions, out: Sink, summary: Summary): Promise<ActLine | null> {
  const cur = s.current;
  const skip = (reason: string) => {
    out.line({ action: 'skip', id: s.id, path: cur.path, reason });
    return null;
  };
  const refused = await refuseReason(home, { id: s.id, files: s.files }, { graceMs: opts.graceMs, now: opts.now });
  if (refused) return skip(refused);
  // What each file must still be when it is removed, moved or replaced (compare and swap).
  const seen = new Map(s.paths.map((p) => [p, fingerprint(p)]));
  // Half-made files a killed run left beside the session (a compression, a repair).
  if (!opts.dryRun) for (const p of s.paths) sweepTemps(dirname(p));
  const moves = destinations(home, s, opts.action);
  for (const [src, dst] of moves ?? []) {
    const why = await destinationReason(home, dst);
    if (why) throw new RolloutError(`refused: ${why}`, { file: cur.path });
    if ((await leftBehind(src, dst)) === 'taken') throw new RolloutError(`${dst} already exists; nothing moved`, { file: cur.path });
  }
  const to = moves ? moves.find(([src]) => src === cur.path)![1] : opts.action === 'compress' ? zstOf(cur) : null;
  // Copied and read back before anything of the session changes; a dry run names the same places.
  const backup: string[] = [];
  for (const p of opts.backup ? s.paths : []) backup.push(await (opts.dryRun ? backupPath : backUp)(home, opts.backup!, p));
  const line: ActLine = { action: opts.action, id: s.id, path: cur.path, to, bytes: await s.bytes(), ...(opts.backup && { backup }), dry_run: opts.dryRun };
  if (opts.dryRun) return line;
  const files = s.paths;
  summary.touched.push(...files);
  switch (opts.action) {
    case 'delete':
      for (const p of files) assertUnchanged(p, seen.get(p)!, 'deleted');
      for (const p of files) await unlink(p);
      for (const dir of new Set(files.map(dirname))) await syncDir(dir);
      updateCodexState(out, cur.path, () => deleteThreadRows(home, s.id));
      break;
    case 'archive':
    case 'unarchive': {
      const archived = opts.action === 'archive';
      await moveAll(moves!, seen);
      for (const [, dst] of moves!) {
        summary.touched.push(dst);
        // Codex touches an unarchived file, so it counts as fresh and is not archived again at once.
        if (!archived) await touch(dst, new Date(opts.now));
      }
      updateCodexState(out, cur.path, () =>
        moveThreadRow(home, s.id, {
          rolloutPath: (old) => (archived ? join(home.archived, basename(old)) : unarchivedPath(home, basename(old))),
          archived,
          nowMs: opts.now,
          mtimeMs: archived ? cur.mtimeMs : opts.now,
        }),
      );
      break;
    }
    case 'compress':
      // threads.rollout_path keeps the .jsonl name, as after Codex's own compressor: nothing to update.
      for (const f of s.files) {
        if (f.compressed) continue;
        const z = await compressFile(f.path, { before: seen.get(f.path) });
        summary.compressedBytes += z.bytes;
        summary.touched.push(z.path);
      }
      break;
  }
  return line;
}

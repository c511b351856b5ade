// rollout-prune --map-cwd / --set-provider: sessions rewritten in place for where they now belong
// (core/retag.ts says which values change). A file that a fork or revert reads through byte
// offsets moves those offsets, so a session is rewritten together with every thread that reads it
// (its group): all of the group is locked and checked first, every rewritten file is made and
// verified as a temp file before any takes its name, and a group that cannot be done whole is left
// alone whole.
import { lstatSync } from 'node:fs';
import { RolloutError } from '../cli/errors.js';
import { defaultProvider, deriveThread } from '../codex/derive.js';
import { forgetProjection, moveProjection, setThreadPlace } from '../codex/state.js';
import { retagChunks, type BaseShift, type Retag, type Shifts } from '../core/retag.js';
import { fileChunks } from '../core/source.js';
import { compressChunks, decompress } from '../core/zstd.js';
import { mtimeOf, writeAtomic } from '../fs/atomic.js';
import { backupPath, backUp } from '../fs/backup.js';
import { assertUnchanged, fingerprint, lockSession, refuseReason, type SessionFiles } from '../fs/safety.js';
import { byName, currentFile, type Home, type SessionFile } from '../home/paths.js';
import type { SkipLine } from '../select/sessions.js';
import type { ActLine, ActOptions } from './act.js';

/** One session of a group, and what is rewritten in it (a thread only carried along for its offsets gets an empty retag). */
export interface Member {
  session: SessionFiles;
  retag: Retag;
}

export interface Retagged {
  lines: Array<ActLine | SkipLine>;
  /** The files replaced. */
  touched: string[];
  /** Threads whose files changed. */
  threads: string[];
  stateError?: RolloutError;
}

/** A file to rewrite, and what the first (read-only) pass found it would become. */
interface Planned {
  file: SessionFile;
  path: string;
  retag: Retag;
  shifts: Shifts;
}

const plainBytes = (path: string) => (path.endsWith('.zst') ? decompress(fileChunks(path), path) : fileChunks(path));

/** A file's bytes rewritten (compressed again when it is a .zst), with how they moved. */
function rewritten(path: string, retag: Retag, base: BaseShift): { chunks: AsyncIterable<Buffer>; shifts: Shifts } {
  const r = retagChunks(plainBytes(path), retag, base);
  return { chunks: path.endsWith('.zst') ? compressChunks(r.chunks) : r.chunks, shifts: r.shifts };
}

/** The offsets into the rollouts this run rewrites, moved; any other rollout's stay. */
function baseOf(moved: Map<string, Shifts>): BaseShift {
  return (rolloutId, offset) => moved.get(rolloutId)?.apply(offset) ?? offset;
}

/** Rewrites one group (the session first, then the threads that read it); `opts.dryRun` only says what would change. */
export async function retagGroup(home: Home, group: Member[], opts: ActOptions): Promise<Retagged> {
  const head = group[0]!.session;
  const skip = (reason: string): Retagged => ({
    lines: [{ action: 'skip', id: head.id, path: currentFile(head.files).path, reason }],
    touched: [],
    threads: [],
  });
  const releases: Array<() => void> = [];
  try {
    for (const { session } of group) {
      const other = session.id === head.id ? '' : `${session.id}, which reads it: `;
      if (!opts.dryRun) {
        const release = await lockSession(home, session.id);
        if (typeof release === 'string') return skip(other + release);
        releases.push(release);
      }
      const why = await refuseReason(home, session, { graceMs: opts.graceMs, now: opts.now });
      if (why) return skip(other + why);
    }
    const planned = await plan(group);
    if (!planned.length) return { lines: [], touched: [], threads: [] };
    const threads = [...new Set(planned.map((p) => p.file.name.threadId))];
    const lines: ActLine[] = [];
    for (const id of threads) {
      const s = group.find((m) => m.session.id === id)!.session;
      const paths = planned.filter((p) => p.file.name.threadId === id).map((p) => p.path);
      const backup: string[] = [];
      for (const p of opts.backup ? paths : []) backup.push(await (opts.dryRun ? backupPath : backUp)(home, opts.backup!, p));
      const bytes = paths.reduce((n, p) => n + lstatSync(p).size, 0);
      lines.push({ action: 'retag', id, path: currentFile(s.files).path, to: null, bytes, ...(opts.backup && { backup }), dry_run: opts.dryRun });
    }
    if (opts.dryRun) return { lines, touched: [], threads };
    await writeAll(planned);
    const done: Retagged = { lines, touched: planned.map((p) => p.path), threads };
    try {
      for (const id of threads)
        await tellCodex(
          home,
          group.find((m) => m.session.id === id)!.session,
          planned.filter((p) => p.file.name.threadId === id),
        );
    } catch (err) {
      const where = err instanceof RolloutError && err.where?.file ? ` (${err.where.file})` : '';
      done.stateError = new RolloutError(`rewritten, but Codex's state was not updated: ${(err as Error).message}${where}`, { file: head.files[0]!.path });
    }
    return done;
  } finally {
    for (const release of releases) release();
  }
}

/**
 * Codex's view of a rewritten thread: its row's cwd and provider as its backfill would now derive
 * them from the file, and its projection's byte offsets moved with the bytes. A thread of several
 * files (a revert) has its projection forgotten instead: which file its offsets count in is not
 * known here, and Codex projects the thread again when it next loads it.
 */
async function tellCodex(home: Home, s: SessionFiles, rewritten: Planned[]): Promise<void> {
  if (s.files.length === 1) moveProjection(home, s.id, (offset) => rewritten[0]!.shifts.apply(offset));
  else forgetProjection(home, s.id);
  const got = await deriveThread(currentFile(s.files), { defaultProvider: defaultProvider(home) });
  if ('row' in got) setThreadPlace(home, s.id, { cwd: String(got.row.cwd), model_provider: String(got.row.model_provider) });
}

/** The first pass: every file of the group read, parents first, with what its rewrite would be; only files that change are kept. */
async function plan(group: Member[]): Promise<Planned[]> {
  const files = group.flatMap((m) => m.session.files.map((file) => ({ file, retag: m.retag }))).sort((a, b) => byName(a.file, b.file));
  const moved = new Map<string, Shifts>();
  const out: Planned[] = [];
  for (const { file, retag } of files) {
    for (const path of file.files) {
      const r = rewritten(path, retag, baseOf(moved));
      for await (const _ of r.chunks);
      // A .zst twin holds the same lines; the plain file (listed first) says how they move.
      if (!moved.has(file.name.rolloutId)) moved.set(file.name.rolloutId, r.shifts);
      if (r.shifts.edited) out.push({ file, path, retag, shifts: r.shifts });
    }
  }
  return out;
}

/**
 * Writes every planned file, each as a temp file beside it, and renames them only once all are
 * made: the renames happen innermost first, from within the check of the file before, so a
 * failure anywhere before the last temp is made leaves every file as it was.
 */
async function writeAll(planned: Planned[]): Promise<void> {
  const moved = new Map<string, Shifts>();
  const seen = new Map(planned.map((p) => [p.path, fingerprint(p.path)]));
  const step = async (i: number): Promise<void> => {
    const p = planned[i];
    if (!p) return;
    const st = lstatSync(p.path);
    const r = rewritten(p.path, p.retag, baseOf(moved));
    await writeAtomic(p.path, r.chunks, {
      mode: st.mode & 0o7777,
      // Where a session belongs is not news: it keeps its place in every list sorted by activity.
      mtime: mtimeOf(p.path),
      check: async () => {
        assertUnchanged(p.path, seen.get(p.path)!, 'rewritten');
        if (JSON.stringify(r.shifts) !== JSON.stringify(p.shifts)) throw new RolloutError('changed while being rewritten; left as it was', { file: p.path });
        if (!moved.has(p.file.name.rolloutId)) moved.set(p.file.name.rolloutId, r.shifts);
        await step(i + 1);
      },
    });
  };
  await step(0);
}

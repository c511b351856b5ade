// rollout-prune's action on one chosen session: delete, archive, compress or unarchive all of its
// files together, with every safety rule of fs/safety.ts checked just before, under the session's
// lock, and Codex's own state kept in step.
import { unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RolloutError } from '../cli/errors.js';
import { deleteThreadRows, moveThreadRow } from '../codex/state.js';
import { sweepTemps, syncDir } from '../fs/atomic.js';
import { backupPath, backUp } from '../fs/backup.js';
import { compressFile, leftBehind, moveFile, touch } from '../fs/move.js';
import { assertUnchanged, destinationReason, fingerprint, lockSession, lstatOrNull, refuseReason, type Fingerprint, type SessionFiles } from '../fs/safety.js';
import { archivedPath, currentFile, unarchivedPath, zstPath, type Home } from '../home/paths.js';
import type { Action, SkipLine } from '../select/sessions.js';

export interface ActOptions {
  action: Action;
  graceMs: number;
  dryRun: boolean;
  backup?: string;
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

/** What one action did: its line, and every path it changed (old and new names). */
export interface Acted {
  line: ActLine | SkipLine;
  touched: string[];
  compressedBytes: number;
  /** A failure after the files were done (Codex's state not updated): reported, the line stands. */
  stateError?: RolloutError;
}

/** Every file of the session on disk, plain and compressed. */
const pathsOf = (s: SessionFiles) => s.files.flatMap((f) => f.files);

const bytesOf = (s: SessionFiles) => pathsOf(s).reduce((n, p) => n + (lstatOrNull(p)?.size ?? 0), 0);

/** Each file's destination for a move action; null for delete and compress. */
function destinations(home: Home, s: SessionFiles, action: Action): Array<[string, string]> | null {
  if (action === 'archive') return pathsOf(s).map((p) => [p, archivedPath(home, p)]);
  if (action === 'unarchive') return pathsOf(s).map((p) => [p, unarchivedPath(home, p)]);
  return null;
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

/** Acts on one session, holding its lock (another run acting on it at the same moment would undo half of this one). */
export async function actOn(home: Home, s: SessionFiles, opts: ActOptions): Promise<Acted> {
  if (opts.dryRun) return actOnLocked(home, s, opts);
  const release = await lockSession(home, s.id);
  if (typeof release === 'string')
    return { line: { action: 'skip', id: s.id, path: currentFile(s.files).path, reason: release }, touched: [], compressedBytes: 0 };
  try {
    return await actOnLocked(home, s, opts);
  } finally {
    release();
  }
}

/** actOn, holding the session's lock; the checks come after the lock, when nobody else can act. */
async function actOnLocked(home: Home, s: SessionFiles, opts: ActOptions): Promise<Acted> {
  const cur = currentFile(s.files);
  const done: Acted = { line: { action: 'skip', id: s.id, path: cur.path, reason: '' }, touched: [], compressedBytes: 0 };
  const refused = await refuseReason(home, s, { graceMs: opts.graceMs, now: opts.now });
  if (refused) return { ...done, line: { action: 'skip', id: s.id, path: cur.path, reason: refused } };
  const files = pathsOf(s);
  // What each file must still be when it is removed, moved or replaced (compare and swap).
  const seen = new Map(files.map((p) => [p, fingerprint(p)]));
  // Half-made files a killed run left beside the session (a compression, a repair).
  if (!opts.dryRun) for (const p of files) sweepTemps(dirname(p));
  const moves = destinations(home, s, opts.action);
  for (const [src, dst] of moves ?? []) {
    const why = await destinationReason(home, dst);
    if (why) throw new RolloutError(`refused: ${why}`, { file: cur.path });
    if ((await leftBehind(src, dst)) === 'taken') throw new RolloutError(`${dst} already exists; nothing moved`, { file: cur.path });
  }
  const to = moves ? moves.find(([src]) => src === cur.path)![1] : opts.action === 'compress' ? zstPath(cur.path) : null;
  // Copied and read back before anything of the session changes; a dry run names the same places.
  const backup: string[] = [];
  for (const p of opts.backup ? files : []) backup.push(await (opts.dryRun ? backupPath : backUp)(home, opts.backup!, p));
  done.line = { action: opts.action, id: s.id, path: cur.path, to, bytes: bytesOf(s), ...(opts.backup && { backup }), dry_run: opts.dryRun };
  if (opts.dryRun) return done;
  done.touched.push(...files);
  // The files are done once the switch is through; a DB that cannot be written is reported, and does not undo the line.
  const codexState = (write: () => unknown) => {
    try {
      write();
    } catch (err) {
      const where = err instanceof RolloutError && err.where?.file ? ` (${err.where.file})` : '';
      done.stateError = new RolloutError(`done, but Codex's state was not updated: ${(err as Error).message}${where}`, { file: cur.path });
    }
  };
  switch (opts.action) {
    case 'delete':
      for (const p of files) assertUnchanged(p, seen.get(p)!, 'deleted');
      for (const p of files) await unlink(p);
      for (const dir of new Set(files.map(dirname))) await syncDir(dir);
      codexState(() => deleteThreadRows(home, s.id));
      break;
    case 'archive':
    case 'unarchive': {
      const archived = opts.action === 'archive';
      await moveAll(moves!, seen);
      for (const [, dst] of moves!) {
        done.touched.push(dst);
        // Codex touches an unarchived file, so it counts as fresh and is not archived again at once.
        if (!archived) await touch(dst, new Date(opts.now));
      }
      codexState(() =>
        moveThreadRow(home, s.id, {
          rolloutPath: (old) => (archived ? archivedPath(home, old) : unarchivedPath(home, old)),
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
        done.compressedBytes += z.bytes;
        done.touched.push(z.path);
      }
      break;
  }
  return done;
}

// Backups taken before a destructive action. A backup is only a backup if it is somewhere else: a
// destination that is (or lies inside) one of the home's roots, or that turns out to be the very
// file being acted on (through a symlink, a bind mount, `--backup "$CODEX_HOME"`), would "copy" a
// file onto itself and then lose it. Such a destination is refused before anything is touched, in a
// dry run as in a real one. Every copy is read back (size and SHA-256) before the original changes.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { RolloutError, UsageError } from '../cli/errors.js';
import { ROOTS, type Home } from '../home/paths.js';
import { sweepTree } from './atomic.js';
import { copyVerified } from './move.js';
import { digestFile, sameDigest } from '../core/verify.js';
import { lstatOrNull } from './safety.js';
import { realPathSoFar, within } from '../core/real-path.js';

/** `dev:ino` of what `path` names (symlinks followed), or null when nothing is there. */
function identity(path: string): string | null {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

/**
 * Whether `path` is, or would lie inside, one of the home's roots (whether or not that root exists
 * yet). Names are compared with symlinks resolved, and each existing ancestor also by device and
 * inode, so a link to the home or a bind mount of it is caught too.
 */
function insideRoots(home: Home, path: string): boolean {
  const roots = ROOTS.map((r) => join(home.dir, r));
  const at = realPathSoFar(path);
  if (roots.some((r) => within(realPathSoFar(r), at))) return true;
  const ids = new Set(roots.map(identity).filter((id) => id !== null));
  for (let dir = at; ids.size; dir = dirname(dir)) {
    const id = identity(dir);
    if (id && ids.has(id)) return true;
    if (dir === dirname(dir)) break;
  }
  return false;
}

/** A backup folder made ready before anything is touched: checked (in a dry run too), and rid of the copies a killed run left half-made. */
export function readyBackup(home: Home, dir: string, dryRun: boolean): void {
  checkBackupDir(home, dir);
  if (!dryRun) sweepTree(dir);
}

/**
 * Refuses a backup folder that cannot hold a real copy of the home's sessions: one inside the roots,
 * or one whose `sessions/` or `archived_sessions/` would be the home's own (the home itself, or a
 * link to it), or one that cannot be written. Throws a usage error; changes nothing.
 */
export function checkBackupDir(home: Home, dir: string): void {
  const abs = resolve(dir);
  const onto = [abs, ...ROOTS.map((r) => join(abs, r))].find((p) => insideRoots(home, p));
  if (onto) {
    throw new UsageError(
      `--backup ${dir}: ${onto === abs ? 'lies inside' : 'would put its copies into'} the Codex home's sessions; ` +
        'a backup there is no backup. Choose a folder outside sessions/ and archived_sessions/',
    );
  }
  let existing = abs;
  while (!lstatOrNull(existing)) existing = dirname(existing);
  try {
    if (!statSync(existing).isDirectory()) throw new Error('not a directory');
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new UsageError(`--backup ${dir}: cannot be written (${existing}: ${(err as Error).message.replace(/^\w+: /, '')})`);
  }
}

/**
 * Where `src` goes: `<dir>/<its path under the home>`, or `.1`, `.2`, ... after it when an earlier
 * backup of other bytes is there (never overwritten). An earlier backup of the very same bytes is
 * reused. Reads only, so a dry run names the same place the real run then writes.
 */
export async function backupPath(home: Home, dir: string, src: string): Promise<string> {
  const base = join(resolve(dir), relative(home.dir, src));
  const self = identity(src);
  let want: Awaited<ReturnType<typeof digestFile>> | undefined;
  for (let n = 0; ; n++) {
    const at = n ? `${base}.${n}` : base;
    if (insideRoots(home, at)) throw new RolloutError(`refused: the backup ${at} would lie inside the Codex home's sessions`, { file: src });
    if (!lstatOrNull(at)) return at;
    if (identity(at) === self) throw new RolloutError(`refused: the backup ${at} is the file itself`, { file: src });
    want ??= await digestFile(src);
    if (sameDigest(await digestFile(at), want)) return at;
  }
}

/** Copies `src` to its backup place and reads it back; returns where it went. */
export async function backUp(home: Home, dir: string, src: string): Promise<string> {
  const at = await backupPath(home, dir, src);
  await copyVerified(src, at);
  return at;
}

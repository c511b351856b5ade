// The one place that decides whether a destructive action may touch a session. Every rule here is a
// reason to leave a session alone, said in words the user can act on:
// - only rollout files inside the home's two roots, reached without a symlink anywhere below the home;
// - not while a Codex process holds the thread's writer lock (`thread-writer-locks/<thread>.lock`,
//   flock(2)ed by the writing process for as long as the thread is open; a clean exit removes it),
//   nor while any other process has one of its files open (open-files.ts);
// - not while the files are fresh (modified within the grace period) or have changed since selection;
// - never a session whose rollout another kept session still reads through `history_base`.
import { lstatSync, readFileSync, type Stats } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { RolloutError } from '../cli/errors.js';
import { parseRolloutName, rootOf, stampTime, writerLockPath, type Home, type SessionFile } from '../home/paths.js';
import { takeLock } from './file-lock.js';
import { openBy } from './open-files.js';
import { readHead } from '../core/session.js';

/**
 * lstat, or null when there is nothing there. Synchronous: these checks run for every session of a
 * prune, and a thread-pool round trip per path component made them latency-bound.
 */
export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

/** What "nobody wrote to it meanwhile" is checked against. */
export interface Fingerprint {
  ino: number;
  size: number;
  mtimeMs: number;
}

export function fingerprint(path: string): Fingerprint {
  const st = lstatSync(path);
  return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
}

/**
 * Compare and swap: throws, leaving the file as it is, when `path` is no longer the file `before`
 * described (appended to, rewritten, replaced). Called just before a file is replaced, moved or
 * removed; `doing` completes "changed while it was being ...".
 */
export function assertUnchanged(path: string, before: Fingerprint, doing: string): void {
  const now = lstatOrNull(path);
  if (!now || now.ino !== before.ino || now.size !== before.size || now.mtimeMs !== before.mtimeMs) {
    throw new RolloutError(`changed while it was being ${doing}; left as it was`, { file: path });
  }
}

/** A file is refused when this says why; null when it is fine. */
export async function outsideReason(home: Home, path: string): Promise<string | null> {
  const abs = resolve(path);
  const root = rootOf(home, abs);
  if (!root) return 'outside the sessions and archived_sessions folders of the Codex home';
  if (!parseRolloutName(basename(abs))) return 'not a rollout file name';
  const link = await symlinkBelowHome(home, abs);
  if (link) return `reached through a symlink (${link})`;
  const st = lstatOrNull(abs);
  if (!st) return 'no longer exists';
  if (!st.isFile()) return 'not a regular file';
  return null;
}

/** The first path component below the home that is a symlink, or null. Missing components are fine. */
export async function symlinkBelowHome(home: Home, path: string): Promise<string | null> {
  const rel = relative(home.dir, resolve(path));
  if (rel.startsWith('..') || rel === '') return null;
  let at = home.dir;
  for (const part of rel.split(sep)) {
    at = join(at, part);
    const st = lstatOrNull(at);
    if (!st) return null;
    if (st.isSymbolicLink()) return at;
  }
  return null;
}

/**
 * A session one rollout run is acting on (delete, move, compress, repair): another run leaves it
 * alone meanwhile, and looks again at what is there once it may act. Returns the release, or why
 * the session is busy.
 */
export async function lockSession(home: Home, threadId: string): Promise<(() => void) | string> {
  const taken = await takeLock(join(home.dir, '.tmp', 'rollout-locks', `${threadId}.lock`), 0);
  return typeof taken === 'number' ? `another rollout run is acting on it${taken ? ` (pid ${taken})` : ''}` : taken;
}

/**
 * Whether a running Codex holds the thread's writer lock. The lock file alone is not proof: a
 * killed Codex leaves it behind, unlocked. On Linux /proc/locks says whether anyone holds it; where
 * that cannot be read, an existing lock file counts as held, because "cannot tell" must not mean
 * "not running".
 */
export async function writerLockHeld(home: Home, threadId: string): Promise<boolean> {
  const st = lstatOrNull(writerLockPath(home, threadId));
  if (!st) return false;
  const held = heldLocks();
  if (!held) return true;
  return held.has(`${major(st.dev)}:${minor(st.dev)}:${st.ino}`);
}

/** `major:minor:inode` of every file some process holds a lock on, or null off Linux. */
function heldLocks(): Set<string> | null {
  let text: string;
  try {
    text = readFileSync('/proc/locks', 'utf8');
  } catch {
    return null;
  }
  const held = new Set<string>();
  // "1: FLOCK  ADVISORY  WRITE 7898 fe:00:2146344 0 EOF"; blocked waiters ("-> ...") hold nothing.
  for (const line of text.split('\n')) {
    if (line.includes('->')) continue;
    const m = /\s([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (m) held.add(`${parseInt(m[1]!, 16)}:${parseInt(m[2]!, 16)}:${m[3]}`);
  }
  return held;
}

// st_dev split as glibc's gnu_dev_major/gnu_dev_minor do; /proc/locks prints the two parts.
const major = (dev: number) => Number(((BigInt(dev) >> 8n) & 0xfffn) | ((BigInt(dev) >> 32n) & ~0xfffn));
const minor = (dev: number) => Number((BigInt(dev) & 0xffn) | ((BigInt(dev) >> 12n) & ~0xffn));

export interface GuardOptions {
  /** Files modified less than this long ago are still being written. */
  graceMs: number;
  now: number;
}

/** The files of one thread, as selection saw them. */
export interface SessionFiles {
  id: string;
  files: SessionFile[];
}

/**
 * Why the session's files may not be touched right now, or null. Checked just before acting, so
 * the window in which a Codex could start writing is as small as it can be.
 */
export async function refuseReason(home: Home, session: SessionFiles, opts: GuardOptions): Promise<string | null> {
  for (const file of session.files) {
    for (const path of file.files) {
      const why = await outsideReason(home, path);
      if (why) return `${path}: ${why}`;
    }
  }
  if (await writerLockHeld(home, session.id)) return 'open in a running Codex (its writer lock is held)';
  const holder = openBy(session.files.flatMap((f) => f.files));
  if (holder) return `open by pid ${holder.pid} (${holder.name})`;
  for (const file of session.files) {
    for (const path of file.files) {
      const st = lstatSync(path);
      if (opts.now - st.mtimeMs < opts.graceMs) return `modified within the grace period (${basename(path)})`;
    }
    const st = lstatSync(file.path);
    if (st.size !== file.size || Math.trunc(st.mtimeMs) !== file.mtimeMs) return `changed since it was selected (${basename(file.path)})`;
  }
  return null;
}

/** A destination directory inside the home that a symlink would lead elsewhere: refused. */
export async function destinationReason(home: Home, path: string): Promise<string | null> {
  if (!rootOf(home, path)) return `${path} is outside the Codex home's roots`;
  const link = await symlinkBelowHome(home, dirname(path));
  return link ? `${path} would be reached through a symlink (${link})` : null;
}

/**
 * Who reads whom through `history_base`. A paginated fork or revert stores only its own lines and
 * names its parent's rollout id; deleting or archiving the parent would cut its history off.
 */
export class References {
  /** rollout id -> thread ids of the files whose `history_base` names it. */
  private readers = new Map<string, Set<string>>();

  /**
   * Reads the heads of the files that could name one of `targets`: a child is created after its
   * parent, so only files whose name is no older than the oldest target (less a day for time
   * zones, as names are local time) need opening.
   */
  static async scan(all: SessionFile[], targets: SessionFile[]): Promise<References> {
    const refs = new References();
    if (!targets.length) return refs;
    const DAY = 86_400_000;
    const oldest = Math.min(...targets.map((f) => stampTime(f.name.stamp))) - DAY;
    for (const file of all) {
      if (file.form === 'json' || stampTime(file.name.stamp) < oldest) continue;
      const base = await readHead(file.path, file.form).then(
        (h) => h.meta?.history_base,
        () => undefined,
      );
      if (base && typeof base.thread_id === 'string') refs.add(base.thread_id.toLowerCase(), file.name.threadId);
    }
    return refs;
  }

  add(rolloutId: string, readerThreadId: string): void {
    let set = this.readers.get(rolloutId);
    if (!set) this.readers.set(rolloutId, (set = new Set()));
    set.add(readerThreadId);
  }

  /** Other threads that read one of this session's files. */
  readersOf(session: SessionFiles): string[] {
    const out = new Set<string>();
    for (const f of session.files) for (const id of this.readers.get(f.name.rolloutId) ?? []) if (id !== session.id) out.add(id);
    return [...out].sort();
  }
}

// Which other process has a file open. A writer that opened a rollout with O_APPEND keeps writing
// to the same inode: replace, compress or delete the file under it and its next line goes to an
// inode no name points at any more. Codex's writer lock says when Codex itself is writing; this
// says when anything at all holds the file, however idle.
//
// On Linux the table comes from /proc/<pid>/fd (every process we may see); on macOS from lsof; where
// neither exists the answer is "cannot tell", said once on stderr, and the writer lock, the grace
// period and the compare-and-swap before each replacement are what is left.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { warn } from '../cli/errors.js';

export interface Holder {
  pid: number;
  /** The process's command name, as ps shows it. */
  name: string;
}

/** Rebuilt when older than this: a run over thousands of sessions reads /proc a few times a second, not per file. */
const FRESH_MS = 200;
/** Only descriptors that may be rollouts are looked at closely (a stat each). */
const ROLLOUT_NAME = /\/rollout-[^/]*\.json(l(\.zst)?)?( \(deleted\))?$/;

interface Table {
  at: number;
  /** `dev:ino` of each open rollout-like file -> who holds it. */
  byInode: Map<string, Holder>;
}

let table: Table | null = null;

const inode = (dev: number | bigint, ino: number | bigint) => `${dev}:${ino}`;

function procTable(): Map<string, Holder> {
  const byInode = new Map<string, Holder>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to see
    }
    for (const fd of fds) {
      try {
        if (!ROLLOUT_NAME.test(readlinkSync(`/proc/${pid}/fd/${fd}`))) continue;
        const st = statSync(`/proc/${pid}/fd/${fd}`);
        if (!byInode.has(inode(st.dev, st.ino))) byInode.set(inode(st.dev, st.ino), { pid: Number(pid), name: commOf(pid) });
      } catch {
        // closed meanwhile
      }
    }
  }
  return byInode;
}

function commOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/** lsof's answer for these paths (macOS and other systems without /proc); null when there is no lsof. */
function lsofHolder(paths: string[]): Holder | null | undefined {
  const r = spawnSync('lsof', ['-F', 'pc', '--', ...paths], { encoding: 'utf8' });
  if (r.error) return undefined;
  let pid = 0;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('p')) pid = Number(line.slice(1));
    else if (line.startsWith('c') && pid && pid !== process.pid) return { pid, name: line.slice(1) };
  }
  return null;
}

let warned = false;

/**
 * Who, other than this process, has one of `paths` open; null when nobody does. When this system
 * offers no way to tell, null as well, after one warning.
 */
export function openBy(paths: string[]): Holder | null {
  const existing = paths.filter((p) => existsSync(p));
  if (!existing.length) return null;
  if (existsSync('/proc/self/fd')) {
    const now = Date.now();
    if (!table || now - table.at > FRESH_MS) table = { at: now, byInode: procTable() };
    for (const p of existing) {
      try {
        const st = statSync(p);
        const holder = table.byInode.get(inode(st.dev, st.ino));
        if (holder) return holder;
      } catch {
        // gone: nobody can be writing to it
      }
    }
    return null;
  }
  const holder = lsofHolder(existing);
  if (holder !== undefined) return holder;
  if (!warned) {
    warned = true;
    warn('cannot tell which files other processes have open (no /proc, no lsof): relying on writer locks, --grace and a last check of each file');
  }
  return null;
}

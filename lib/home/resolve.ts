// A session reference to one session file: a full id, a unique id prefix, a name, a path, `-` for
// stdin, or `--last`. Ids live in file names, so this never opens a file to find an id.
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { isPerSession, report, RolloutError, UsageError } from '../cli/errors.js';
import { idsNamed } from './names.js';
import { currentFile, discover, fileAt, UUID_RE, type Home, type RolloutName, type SessionFile } from './paths.js';
import { lines, newStats } from '../core/lines.js';
import { isObject, parseLine } from '../core/record.js';
import { readHead } from '../core/session.js';
import { openSource, STDIN } from '../core/source.js';
import { stdout } from '../cli/output.js';
import { Progress, progressMayShow } from '../cli/progress.js';
import { realPath } from '../core/real-path.js';

/** What to read: a session file, or stdin. */
export type Target = { stdin: true; label: '<stdin>' } | { stdin: false; file: SessionFile; label: string };

const PREFIX = /^[0-9a-f][0-9a-f-]{3,35}$/i;

const target = (file: SessionFile): Target => ({ stdin: false, file, label: file.path });

/** Whether a reference names a file rather than an id, a prefix or a name: it has a slash, or a rollout's suffix. */
export const looksLikePath = (ref: string): boolean => ref.includes('/') || /\.jsonl?(\.zst)?$/.test(ref);

/**
 * Lookups that each walk the names for just what they seek, before the home is discovered once and
 * kept: one reference in a home of 100,000 sessions then costs a walk of names (no lstat, nothing
 * kept), not 100,000 files held; a batch soon pays for the whole list.
 */
const FEW_LOOKUPS = 4;

export class Resolver {
  private files?: Promise<SessionFile[]>;
  private byKey?: { thread: Map<string, SessionFile[]>; rollout: Map<string, SessionFile[]> };
  private lookups = 0;

  constructor(readonly home: Home) {}

  /** Every session file of the home, discovered once. */
  all(): Promise<SessionFile[]> {
    return (this.files ??= discover(this.home));
  }

  /** The files whose names pass `where`: from the home once discovered, else from a walk of its names. */
  private async find(where: (name: RolloutName) => boolean): Promise<SessionFile[]> {
    return this.files ? (await this.all()).filter((f) => where(f.name)) : discover(this.home, { where });
  }

  /** The files of a thread id or of a rollout id; undefined for none. */
  private async filesOf(key: 'thread' | 'rollout', id: string): Promise<SessionFile[] | undefined> {
    if (this.files || ++this.lookups > FEW_LOOKUPS) return (await this.keyed())[key].get(id);
    const found = await this.find((n) => (key === 'thread' ? n.threadId : n.rolloutId) === id);
    return found.length ? found : undefined;
  }

  /** Which of these thread ids have a file in the home, in the order discovered. */
  async threadsAmong(ids: ReadonlySet<string>): Promise<string[]> {
    return [...new Set((await this.find((n) => ids.has(n.threadId))).map((f) => f.name.threadId))];
  }

  /** The files by thread id and by rollout id, built once: a batch resolves thousands of references. */
  private async keyed(): Promise<NonNullable<Resolver['byKey']>> {
    if (!this.byKey) {
      const thread = new Map<string, SessionFile[]>();
      const rollout = new Map<string, SessionFile[]>();
      for (const f of await this.all()) {
        for (const [map, key] of [
          [thread, f.name.threadId],
          [rollout, f.name.rolloutId],
        ] as const) {
          const list = map.get(key);
          if (list) list.push(f);
          else map.set(key, [f]);
        }
      }
      this.byKey = { thread, rollout };
    }
    return this.byKey;
  }

  async resolve(ref: string): Promise<Target> {
    if (ref === STDIN) return { stdin: true, label: '<stdin>' };
    const asPath = resolvePath(ref);
    if (looksLikePath(ref)) {
      if (existsSync(asPath)) return target(await fileAt(this.home, asPath));
      if (ref.includes('/')) throw new RolloutError(`no such file: ${ref}`);
    }
    if (UUID_RE.test(ref)) return target(await this.byId(ref.toLowerCase()));
    const named = await this.byName(ref);
    if (PREFIX.test(ref)) {
      const id = await this.byPrefix(ref.toLowerCase());
      // A name that reads as another session's id prefix must not quietly win, nor quietly lose.
      if (id && named && named.name.threadId !== id)
        throw new RolloutError(
          `ambiguous reference '${ref}': the id prefix of ${id} and the name of ${named.name.threadId} (give more of the id, or the full id)`,
        );
      if (id) return target(await this.byId(id));
    }
    if (named) return target(named);
    throw new RolloutError(`no session matches '${ref}' (not an id, id prefix, name or path)`);
  }

  /** The thread's current file; a rollout id (of a revision) names that very file. */
  async byId(id: string): Promise<SessionFile> {
    const files = await this.filesOf('thread', id);
    if (files) return currentFile(files);
    const revision = (await this.filesOf('rollout', id))?.[0];
    if (revision) return revision;
    throw new RolloutError(`no session with id ${id}`);
  }

  /** The file whose rollout id is `id` (what `history_base.thread_id` names), or null. */
  async byRolloutId(id: string): Promise<SessionFile | null> {
    const files = await this.filesOf('rollout', id.toLowerCase());
    return files ? currentFile(files) : null;
  }

  private async byPrefix(prefix: string): Promise<string | null> {
    const ids = [...new Set((await this.find((n) => n.threadId.startsWith(prefix))).map((f) => f.name.threadId))];
    if (ids.length > 1) {
      const shown = ids.slice(0, 10).join(', ') + (ids.length > 10 ? `, and ${ids.length - 10} more` : '');
      throw new RolloutError(`ambiguous id prefix '${prefix}' matches ${ids.length} sessions: ${shown}`);
    }
    return ids[0] ?? null;
  }

  private async byName(name: string): Promise<SessionFile | null> {
    for (const id of await idsNamed(this.home, name)) {
      const files = await this.filesOf('thread', id);
      if (files) return currentFile(files);
    }
    return null;
  }

  /**
   * The most recently active session (by file mtime) whose cwd is `cwd`, or anywhere with `anywhere`.
   * Archived sessions are left out, as `codex resume --last` leaves them out. `hint` ends the
   * message when there is none here (a binary whose `--all` means something else says its own).
   */
  async last(cwd: string, anywhere = false, hint = 'try --all'): Promise<Target> {
    const here = realPath(cwd);
    const active = (await this.all()).filter((f) => f.root === 'sessions').sort((a, b) => b.mtimeMs - a.mtimeMs);
    for (const file of active) {
      if (anywhere) return target(file);
      const { meta } = await readHead(file.path, file.form).catch(() => ({ meta: null }));
      if (typeof meta?.cwd === 'string' && realPath(meta.cwd) === here) return target(file);
    }
    throw new RolloutError(anywhere ? 'no sessions in this home' : `no session was started in ${here} (${hint})`);
  }
}

/**
 * Session references read from a stream, one a line: a bare reference, or an NDJSON object from
 * another rollout binary, whose `path` (else `id`) is taken.
 */
export async function* refsFrom(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const stats = newStats();
  for await (const line of lines(chunks, stats)) {
    const ref = refIn(line.bytes);
    if (ref) yield ref;
  }
  // A list without its last newline (`printf`, `echo -n`) still names its last session: the line
  // reader keeps such a line back, as a torn write of a rollout.
  const last = stats.torn && refIn(stats.torn.bytes);
  if (last) yield last;
}

/** The session a line of stdin names: the line itself, or an NDJSON row's `path`, else `id`; null for none. */
function refIn(bytes: Buffer): string | null {
  const text = bytes.toString('utf8').trim();
  if (!text) return null;
  if (!text.startsWith('{')) return text;
  const row = parseLine(bytes);
  const ref = isObject(row) ? (row.path ?? row.id) : undefined;
  if (typeof ref === 'string' && ref) return ref;
  // The last line of a page of rollout-ls names no session.
  return isObject(row) && 'next_cursor' in row ? null : text;
}

/** Where the sessions to work on are named: the arguments, references read from stdin, or --last. */
export interface RefSource {
  args: readonly string[];
  /** References come from stdin, one a line (--batch, --stdin). */
  stdin?: boolean;
  /** The most recent session (--last). */
  last?: boolean;
  /** A bar over the sessions, for a binary whose work on each may take a while. */
  progress?: RefProgress;
}

/**
 * The sessions named, checked for sense: stdin, the arguments and --last each exclude the others,
 * and at least one session is named (`flag` is how this binary spells "read references from stdin").
 */
export function refSource(args: readonly string[], o: { stdin?: unknown; last?: unknown }, flag: '--batch' | '--stdin', required = true): RefSource {
  if (o.stdin && (args.length || o.last)) throw new UsageError(`${flag} reads references from stdin; give no others`);
  if (o.last && args.length) throw new UsageError('--last takes no session arguments');
  if (required && !args.length && !o.stdin && !o.last) throw new UsageError("no session given (an id, prefix, name, path, '-' or --last)");
  return { args, stdin: Boolean(o.stdin), last: Boolean(o.last) };
}

/** A failure of one session, said on stderr after what stdout already holds. */
export function reportSession(err: unknown): void {
  stdout.flush();
  report(err);
}

export interface RefProgress {
  /** What is done to each, e.g. `exporting`. */
  what: string;
  /** Sizes the sessions named, for the bar's bytes. */
  resolver: Resolver;
}

/**
 * Calls `fn` with each reference in turn (null for --last). A failure of one session (our own
 * error, or the system's) goes to `onError` and the rest go on; anything else is a bug and stops
 * the run. Returns the number of sessions that failed. With `src.progress`, when a bar may show, the
 * references are all read first (stdin to its end) and sized, so that the bar knows its totals.
 */
export async function forEachRef(
  src: RefSource,
  fn: (ref: string | null) => Promise<void>,
  onError: (err: unknown, ref: string | null) => void = reportSession,
): Promise<number> {
  let failed = 0;
  let refs: AsyncIterable<string | null> | Iterable<string | null> = src.last ? [null] : src.stdin ? refsFrom(openSource(STDIN)) : src.args;
  let bar: Progress | undefined;
  let sizes = new Map<string | null, number>();
  const progress = src.progress;
  if (progress && progressMayShow()) {
    const all: Array<string | null> = [];
    for await (const ref of refs) all.push(ref);
    refs = all;
    sizes = await sizesOf(new Set(all), progress.resolver);
    bar = new Progress(
      progress.what,
      all.length,
      all.reduce((n, ref) => n + sizes.get(ref)!, 0),
      'session',
    );
  }
  for await (const ref of refs) {
    try {
      await fn(ref);
    } catch (err) {
      if (!isPerSession(err)) throw err;
      onError(err, ref);
      failed++;
    }
    bar?.add(1, sizes.get(ref) ?? 0);
  }
  bar?.finish();
  return failed;
}

/** The size of the file each reference names; 0 for stdin, --last, and a reference that does not resolve (it fails later, in its turn). */
async function sizesOf(refs: Iterable<string | null>, resolver: Resolver): Promise<Map<string | null, number>> {
  const sizes = new Map<string | null, number>();
  for (const ref of refs) {
    const target = ref === null ? null : await resolver.resolve(ref).catch(() => null);
    sizes.set(ref, target && !target.stdin ? target.file.size : 0);
  }
  return sizes;
}

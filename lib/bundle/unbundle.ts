// rollout-unbundle's run. A bundle is untrusted: it is checked whole (check.ts) before anything is
// written; stdin is spooled to a private file first, so that it too is checked before it is used.
// Then a second pass compares each bundled file with the home's copy (place.ts decides), and a
// third writes what is to be written, each member hashed again on its way to a temp file, so that a
// bundle that changed since it was checked stops that session's write with nothing half-written.
// Names, Codex's threads rows and the rollout index follow, for exactly what was written.
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isPerSession, RolloutError, warn } from '../cli/errors.js';
import { Progress } from '../cli/progress.js';
import { appendThreadName } from '../codex/state.js';
import { isRetag, retagChunks, RetagPlan, type Retag } from '../core/retag.js';
import { openSource, STDIN } from '../core/source.js';
import { compareStreams, hashing } from '../core/verify.js';
import { compressChunks, decompress } from '../core/zstd.js';
import { prepareAtomic, spool, sweepTemps, syncDir, type Prepared } from '../fs/atomic.js';
import { assertUnchanged, destinationReason, fingerprint, lockSession, lstatOrNull, refuseReason } from '../fs/safety.js';
import { cleanName, nameIn, readNames, type Names } from '../home/names.js';
import { assertHome, discover, parseRolloutName, type Home, type SessionFile } from '../home/paths.js';
import { checkBundle } from './check.js';
import { importObjects, type ObjectsImported } from './objects.js';
import type { BundledFile, BundledSession } from './manifest.js';
import { compared, decide, partsOf, rootFor, type Action, type Decision, type Part, type Verdict } from './place.js';
import { readTar } from './tar.js';

export interface UnbundleOptions {
  dryRun: boolean;
  graceMs: number;
  now: number;
  index: string;
  /** Where the sessions belong here (--map-cwd, --provider); null: as they are. */
  retag: Retag | null;
}

/** One NDJSON line: what became of one bundled session. */
export interface SessionLine {
  action: Action;
  id: string;
  paths: string[];
  reason?: string;
  /** The name given to it from the bundle, when the home had none or an older one. */
  name?: string;
  dry_run?: true;
}

export interface UnbundleSummary {
  counts: Record<Action, number>;
  failed: number;
  objects: ObjectsImported;
}

interface Planned {
  session: BundledSession;
  homeFiles: SessionFile[];
  decision: Decision;
}

/** Imports the bundle at `source` ('-': stdin) into the home; `emit` gets one line per session, in the bundle's order. */
export async function unbundle(home: Home, source: string, opts: UnbundleOptions, emit: (line: SessionLine) => void): Promise<UnbundleSummary> {
  assertHome(home);
  const spooled = source === STDIN ? await spool(process.stdin, 'unbundle', 'tar') : null;
  try {
    const path = spooled?.path ?? source;
    const label = spooled ? '<stdin>' : source;
    const manifest = await checkBundle(path).catch((err: unknown) => {
      throw spooled && err instanceof RolloutError ? new RolloutError(err.message, { file: label }) : err;
    });
    const rewrite = isRetag(opts.retag) ? await Rewrite.of(path, opts.retag) : null;
    const planned = await plan(home, path, manifest.sessions, rewrite);
    // Before any session: none lands naming an object this home lacks.
    const objects = await importObjects(home, path, manifest.objects, opts.dryRun);
    const summary: UnbundleSummary = { counts: { import: 0, update: 0, skip: 0, conflict: 0 }, failed: 0, objects };
    const lines = new Map<string, SessionLine>(planned.map((p) => [p.session.id, lineOf(p)]));
    const written = opts.dryRun ? [] : await write(home, path, planned, opts, lines, summary, rewrite);
    const named = await giveNames(home, planned, lines, opts.dryRun);
    for (const p of planned) {
      const line = lines.get(p.session.id)!;
      summary.counts[line.action]++;
      emit(opts.dryRun ? { ...line, dry_run: true } : line);
    }
    if (!opts.dryRun) await afterWrites(home, written, new Set([...written.map((w) => w.id), ...named]), opts.index);
    return summary;
  } finally {
    spooled?.remove();
  }
}

/** Every session's decision, from the home as it is and a pass over the bundle's bytes; nothing is written. */
async function plan(home: Home, bundle: string, sessions: BundledSession[], rewrite: Rewrite | null): Promise<Planned[]> {
  const ids = new Set(sessions.map((s) => s.id));
  const byThread = new Map<string, SessionFile[]>();
  for (const f of await discover(home, { where: (n) => ids.has(n.threadId) })) byThread.set(f.name.threadId, [...(byThread.get(f.name.threadId) ?? []), f]);
  const unknown = new Map<string, string>();
  for (const s of sessions) {
    const why = rewrite?.unknownFor(s);
    if (why) unknown.set(s.id, why);
  }
  const parts = new Map(sessions.map((s) => [s.id, partsOf(s, byThread.get(s.id) ?? [])]));
  const verdicts = await compareAll(
    bundle,
    sessions.filter((s) => !unknown.has(s.id)).flatMap((s) => parts.get(s.id)!),
    rewrite,
  );
  const planned = sessions.map((session) => {
    const homeFiles = byThread.get(session.id) ?? [];
    const why = unknown.get(session.id);
    const decision: Decision = why
      ? { action: 'skip', reason: why, writes: new Map(), replaces: [] }
      : decide(home, parts.get(session.id)!, verdicts, rootFor(session, homeFiles));
    return { session, homeFiles, decision };
  });
  conflictsReach(planned);
  // A bundle whose files would land through a symlink, or on something that is not a rollout file
  // the home lists, is refused whole: nothing of it is written.
  for (const p of planned) {
    for (const [member, target] of p.decision.writes) {
      const why = await destinationReason(home, target);
      if (why) throw new RolloutError(`not a bundle we can import here: ${member}: ${why}`, { file: bundle });
      const st = lstatOrNull(target);
      if (st && !p.decision.replaces.some((f) => f.path === target))
        throw new RolloutError(`not a bundle we can import here: ${member}: ${target} is there already and is not a rollout file the home lists`, {
          file: bundle,
        });
    }
  }
  return planned;
}

/** How each logical file compares with the home's copy: the member read is compared, in step, with the home's decompressed bytes. */
async function compareAll(bundle: string, parts: Part[], rewrite: Rewrite | null): Promise<Map<string, Verdict>> {
  const verdicts = new Map<string, Verdict>();
  const wanted = new Map<string, Part>();
  for (const p of parts) {
    if (p.here) wanted.set(compared(p).path, p);
    else verdicts.set(p.name, { kind: 'new' });
  }
  if (!wanted.size) return verdicts;
  for await (const m of readTar(openSource(bundle))) {
    const p = wanted.get(m.path);
    if (!p) continue;
    const plain = m.path.endsWith('.zst') ? decompress(m.data, m.path) : m.data;
    const theirs = rewrite ? rewrite.chunks(plain) : plain;
    const c = await compareStreams(openSource(p.here!.path), theirs[Symbol.asyncIterator]());
    verdicts.set(
      p.name,
      c.same ? { kind: 'same' } : c.longer === 'b' ? { kind: 'shorter-here' } : c.longer === 'a' ? { kind: 'longer-here' } : { kind: 'differs', at: c.at },
    );
  }
  return verdicts;
}

/**
 * A session whose files read a thread that is a conflict here would read the home's other bytes
 * at the offsets of the bundle's: it is a conflict too (and so on down the forks).
 */
function conflictsReach(planned: Planned[]): void {
  const byId = new Map(planned.map((p) => [p.session.id, p]));
  for (let changed = true; changed;) {
    changed = false;
    for (const p of planned) {
      if (p.decision.action !== 'import' && p.decision.action !== 'update') continue;
      const parent = p.session.parents.find((id) => byId.get(id)?.decision.action === 'conflict');
      if (!parent) continue;
      p.decision = { action: 'conflict', reason: `it reads ${parent}, which is a conflict here`, writes: new Map(), replaces: [] };
      changed = true;
    }
  }
}

/**
 * The bundle's files as they are to be written here (--map-cwd, --provider): a first pass over the
 * bundle learns how each file's rewrite moves its bytes, so that a fork's offsets into a parent
 * that is rewritten too can be carried over, whatever order the members come in.
 */
class Rewrite {
  private constructor(
    private readonly retag: Retag,
    private readonly plan: RetagPlan,
  ) {}

  static async of(bundle: string, retag: Retag): Promise<Rewrite> {
    const plan = new RetagPlan();
    for await (const m of readTar(openSource(bundle))) {
      const name = parseRolloutName(basename(m.path));
      if (!name || plan.has(name.rolloutId)) continue;
      const r = retagChunks(m.path.endsWith('.zst') ? decompress(m.data, m.path) : m.data, retag, (_, offset) => offset);
      for await (const _ of r.chunks);
      plan.add(name.rolloutId, r.shifts, r.refs);
    }
    return new Rewrite(retag, plan);
  }

  /** Why the session cannot be rewritten (a file of it reads a rollout the bundle lacks), or null. */
  unknownFor(s: BundledSession): string | null {
    for (const f of s.files) {
      const name = parseRolloutName(basename(f.path));
      if (name && !this.plan.shiftsOf(name.rolloutId))
        return `${basename(f.path)} reads another rollout through byte offsets, and the bundle does not hold it: not rewritten for this home`;
    }
    return null;
  }

  /** A member's plain bytes, rewritten. */
  chunks(plain: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    return retagChunks(plain, this.retag, this.plan.base).chunks;
  }

  /** What is written for a member: its bytes rewritten, compressed again when it is a .zst. */
  written(member: string, data: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    if (!member.endsWith('.zst')) return this.chunks(data);
    return compressChunks(this.chunks(decompress(data, member)));
  }
}

function lineOf(p: Planned): SessionLine {
  const d = p.decision;
  const paths = d.writes.size ? [...d.writes.values()] : p.homeFiles.length ? p.homeFiles.flatMap((f) => f.files) : p.session.files.map((f) => f.path);
  return { action: d.action, id: p.session.id, paths, ...(d.reason ? { reason: d.reason } : {}) };
}

interface Written {
  id: string;
  path: string;
}

/** How many written files may wait on the disk at once: the file system flushes their syncs together. */
const IN_FLIGHT = 16;

/**
 * The third pass: each session to write is locked and checked again (writer lock, open files,
 * grace, unchanged since compared), then its members are written atomically with the bundle's
 * mtime, each hashed again against the manifest before it takes its name. While one file waits
 * for the disk the next is written; a session's lock is held until its last file has its name.
 * The folders are synced once each, at the end and before anything is reported: a killed run may
 * lose a name it gave (the next run gives it again), never a file's bytes under its name.
 */
async function write(
  home: Home,
  bundle: string,
  planned: Planned[],
  opts: UnbundleOptions,
  lines: Map<string, SessionLine>,
  summary: UnbundleSummary,
  rewrite: Rewrite | null,
) {
  // What a killed import left behind is swept from the folders its files go to, written now or not.
  for (const p of planned) for (const f of p.session.files) sweepTemps(dirname(join(home.dir, f.path)));
  const jobs = new Map<string, { p: Planned; want: BundledFile; target: string }>();
  for (const p of planned)
    for (const [member, target] of p.decision.writes) jobs.set(member, { p, want: p.session.files.find((f) => f.path === member)!, target });
  const written: Written[] = [];
  const bar = new Progress(
    'importing',
    jobs.size,
    [...jobs.values()].reduce((n, j) => n + j.want.size, 0),
    'file',
  );
  // The session being written: its lock, whether it has been stopped, and its files on their way.
  interface Open {
    id: string;
    release: () => void;
    stopped: boolean;
    commits: Promise<void>[];
  }
  const at: { open: Open | null } = { open: null };
  const inFlight = new Set<Promise<void>>();
  const released: Promise<void>[] = [];
  // A failure that is not one session's (a full disk is one session's; a bug is not) ends the run.
  const trouble: { fatal: Error | null } = { fatal: null };
  const close = () => {
    const o = at.open;
    at.open = null;
    if (o) released.push(Promise.allSettled(o.commits).then(() => o.release()));
  };
  const stop = (o: Open, reason: string, err?: unknown) => {
    o.stopped = true;
    lines.set(o.id, { ...lines.get(o.id)!, action: 'skip', reason });
    if (err) {
      summary.failed++;
      warn(reason, { file: bundle });
    }
  };
  const failed = (o: Open, err: unknown) => {
    if (isPerSession(err)) stop(o, `not written: ${(err as Error).message}`, err);
    else trouble.fatal ??= err instanceof Error ? err : new Error(String(err));
  };
  try {
    for await (const m of readTar(openSource(bundle))) {
      const job = jobs.get(m.path);
      if (!job) continue;
      const { p } = job;
      if (at.open?.id !== p.session.id) {
        close();
        const release = await lockSession(home, p.session.id);
        at.open = { id: p.session.id, release: typeof release === 'string' ? () => {} : release, stopped: false, commits: [] };
        const why =
          typeof release === 'string' ? release : p.homeFiles.length ? await refuseReason(home, { id: p.session.id, files: p.homeFiles }, opts) : null;
        if (why) stop(at.open, why);
      }
      const o = at.open;
      if (o.stopped) continue;
      const replaced = p.decision.replaces.find((f) => f.path === job.target);
      const before = replaced ? fingerprint(replaced.path) : null;
      const h = hashing(m.data);
      let prepared: Prepared;
      try {
        // The bundle's bytes are hashed as they are read; what is written may be them rewritten.
        prepared = await prepareAtomic(job.target, rewrite ? rewrite.written(m.path, h.chunks) : h.chunks, {
          mtime: new Date(m.mtime * 1000),
          exclusive: !replaced,
          syncFolder: false,
          check: () => {
            const d = h.done();
            if (d.sha256 !== job.want.sha256 || d.bytes !== job.want.size)
              throw new RolloutError(`${m.path} changed since the bundle was checked; not written`, { file: bundle });
            if (before) assertUnchanged(job.target, before, 'updated');
          },
        });
      } catch (err) {
        failed(o, err);
        continue;
      }
      const commit: Promise<void> = prepared
        .commit()
        .then(
          () => void written.push({ id: p.session.id, path: job.target }),
          (err: unknown) => failed(o, err),
        )
        .finally(() => bar.add(1, job.want.size));
      const tracked = commit.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      o.commits.push(tracked);
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
      if (trouble.fatal) throw trouble.fatal;
    }
  } finally {
    close();
    await Promise.allSettled(inFlight);
    await Promise.all(released);
    // The new names, made durable once per folder, before anything reports them written.
    await Promise.all([...new Set(written.map((w) => dirname(w.path)))].map((dir) => syncDir(dir)));
    bar.finish();
  }
  if (trouble.fatal) throw trouble.fatal;
  return written.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * Names from the manifest go into `session_index.jsonl` as Codex appends them, for sessions the
 * home now holds: when it has no name for the thread, or a name given before the bundled session
 * was last updated. A later rename in this home wins. Returns the ids named.
 */
async function giveNames(home: Home, planned: Planned[], lines: Map<string, SessionLine>, dryRun: boolean): Promise<string[]> {
  // Only sessions the home holds once this run is over: a conflict, or a new one not written, gets no name.
  const held = (p: Planned) => ({ import: true, update: true, skip: p.homeFiles.length > 0, conflict: false })[lines.get(p.session.id)!.action];
  const withName = planned.filter((p) => p.session.name !== null && held(p)).map((p) => p.session);
  if (!withName.length) return [];
  const names = await readNames(home);
  const named: string[] = [];
  for (const s of withName) {
    let name: string;
    try {
      // A bundle's name is held to what rollout-name takes: it could otherwise read as another session's id.
      name = cleanName(s.name!);
    } catch (err) {
      warn(`session ${s.id}: the bundle's name is not given: ${(err as Error).message}`);
      continue;
    }
    if (!newer(names, s, name)) continue;
    if (!dryRun) await appendThreadName(home, s.id, name, s.updated_at ? new Date(s.updated_at) : undefined);
    lines.set(s.id, { ...lines.get(s.id)!, name });
    named.push(s.id);
  }
  return named;
}

/** Whether the bundle's name should win over the home's (Codex's rule: the newest entry wins). */
function newer(names: Names, s: BundledSession, name: string): boolean {
  const current = nameIn(names, s.id);
  if (current === null) return true;
  if (current === name) return false;
  const given = names.log.get(s.id)?.updatedAt;
  return Boolean(given && s.updated_at && Date.parse(s.updated_at) > Date.parse(given));
}

/** Codex's threads rows (only where Codex has a state DB) and the rollout index (where there is one), for what changed. */
async function afterWrites(home: Home, written: Written[], ids: Set<string>, index: string): Promise<void> {
  const { syncThreads } = await import('../codex/sync.js');
  await syncThreads(home, ids);
  // The index is a cache: kept up to date when there is one, as rollout-prune keeps it; else the
  // first rollout-ls builds it.
  if (!written.length || !existsSync(index)) return;
  const { updatePaths } = await import('../index/update.js');
  const done = await updatePaths(
    home,
    written.map((w) => w.path),
    { index, waitMs: 5000 },
  );
  if (!done) warn('the rollout index is busy; it catches up at its next update', { file: index });
}

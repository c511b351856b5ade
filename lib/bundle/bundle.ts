// rollout-bundle's run: choose sessions as rollout-prune chooses them, add the ancestors a
// referencing fork reads (or, with --no-ancestors, make such a fork's files whole: materialize.ts),
// measure every file (size and SHA-256: the manifest comes first in the archive, so it is known
// before any file is written), then stream the archive, hashing each file again as it goes, so
// that a file that changed in between stops the run rather than lands in a bundle that disagrees
// with its own manifest.
//
// Into a file that can be amended in place (-o FILE, not compressed), each file is read once: the
// plan takes only sizes, the archive hashes as it goes, and the manifest, whose length digests do
// not change, is written over its placeholder at the end. The bytes are the same either way.
//
// A slimmed session (rollout-slim) holds markers where its blobs were: the objects they name go
// with it, after the session files, so that the bundle is whole and the other home can restore it.
import { existsSync, lstatSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { RolloutError, warn } from '../cli/errors.js';
import { MarkedObjects, markedObjects } from '../core/blob-marker.js';
import { Progress } from '../cli/progress.js';
import { readHead } from '../core/session.js';
import { fileChunks, openSource } from '../core/source.js';
import { digest, hashing } from '../core/verify.js';
import { compressChunks } from '../core/zstd.js';
import { objectRel, STORE_DIR } from '../fs/objects.js';
import { lstatOrNull } from '../fs/safety.js';
import { ancestry, type Segment } from '../home/history.js';
import { parseRolloutName, plainPath, type Home, type SessionFile } from '../home/paths.js';
import { Resolver } from '../home/resolve.js';
import { list, type Filters } from '../index/query.js';
import { chooseIds, namedSessions, openForChoice } from '../select/choose.js';
import { readManifest } from './check.js';
import { MANIFEST_PATH, manifestBytes, type BundledFile, type BundledSession } from './manifest.js';
import { wholeFile, type Producer } from './materialize.js';
import { fileHeader, writeTar, type TarInput } from './tar.js';

export interface BundleOptions {
  filters: Filters;
  /** Sessions named one by one (arguments, or --stdin); the filters narrow them. */
  refs?: AsyncIterable<string> | Iterable<string>;
  index: string;
  /** Leave out the sessions whose files an older bundle already holds, byte for byte. */
  sinceBundle?: string;
  /** Write a session whose files read another thread whole, instead of adding that thread. */
  noAncestors?: boolean;
  /** The archive goes where its manifest can be amended at the end: size the files now, hash them once as they are written. */
  hashAsWritten?: boolean;
}

/** A file to bundle: where it is, its mtime (seconds, for the tar header), and its digest. */
export interface PlannedFile extends BundledFile {
  abs: string;
  mtime: number;
  /** A file written whole (--no-ancestors): its bytes are made, not read from `abs`. */
  produce?: Producer;
}

/** What a thread's files read of other threads: the threads, and each file that reads one with its ancestors' prefixes. */
interface Reads {
  parents: string[];
  chains: Map<string, Segment[]>;
}

export interface Plan {
  sessions: BundledSession[];
  /** The members after the manifest, in the manifest's order. */
  files: PlannedFile[];
  /** The objects of the store the sessions' markers name, after the files, by name. */
  objects: PlannedFile[];
  /** Files are sized, not yet hashed (`sha256` empty): the archive's manifest is amended once they are. */
  late: boolean;
}

/** A digest's place in the manifest until the file is hashed: as long as a digest, so the manifest's length is final. */
const UNHASHED = '0'.repeat(64);

/** The sessions the options choose, with their ancestors, measured; failures of one reference go to `onError`. */
export async function planBundle(home: Home, opts: BundleOptions, onError: (err: unknown) => void): Promise<Plan> {
  const named = opts.refs ? await namedSessions(home, opts.refs, { insideRoots: false }, onError) : undefined;
  const db = await openForChoice(home, opts.index, opts.filters);
  try {
    const chosen = chooseIds(db, opts.filters, named);
    const resolver = new Resolver(home);
    const byThread = new Map<string, SessionFile[]>();
    for (const f of await resolver.all()) byThread.set(f.name.threadId, [...(byThread.get(f.name.threadId) ?? []), f]);
    const reads = new Map<string, Reads>();
    // Only a file with a history_base reads another; the index knows which (one head read each, not one per file).
    const reading = new Set(db.prepare('SELECT DISTINCT id FROM sessions WHERE history_base IS NOT NULL').pluck().all() as string[]);
    // Ancestors of ancestors too: a revision of an added thread may read yet another thread.
    const work = [...chosen];
    for (let id = work.pop(); id !== undefined; id = work.pop()) {
      if (reads.has(id)) continue;
      const mine: Reads = { parents: [], chains: new Map() };
      for (const f of reading.has(id) ? (byThread.get(id) ?? []) : []) {
        const { meta } = await readHead(f.path, f.form);
        const chain = await ancestry(meta, resolver, f.path);
        // A revision that reads only its own thread's files reads nothing the session does not hold.
        const others = chain.map((seg) => parseRolloutName(basename(seg.path))?.threadId).filter((t): t is string => t !== undefined && t !== id);
        if (others.length) mine.chains.set(f.path, chain);
        mine.parents = [...new Set([...mine.parents, ...others])];
      }
      reads.set(id, mine);
      if (!opts.noAncestors) work.push(...mine.parents);
    }
    const ids = [...reads.keys()];
    const rows = new Map(list(db, { ids, archived: 'include', sort: { key: 'created', descending: false } }).rows.map((r) => [r.id, r]));
    const sessions: Array<BundledSession & { planned: PlannedFile[]; marks: Set<string> }> = [];
    // A home without a store has no object to carry: its files are not searched for markers.
    const slimmed = existsSync(join(home.dir, STORE_DIR));
    // A store's objects are named in the manifest, and an older bundle is compared by digest: both need them first.
    const late = Boolean(opts.hashAsWritten) && !slimmed && !opts.sinceBundle;
    for (const id of ids) {
      const files = byThread.get(id) ?? [];
      if (!files.length) continue;
      const { parents, chains } = reads.get(id)!;
      const whole = Boolean(opts.noAncestors) && parents.length > 0;
      const marks = new Set<string>();
      const measured = files.flatMap((f) => {
        const chain = whole ? chains.get(f.path) : undefined;
        const found = slimmed ? marks : null;
        if (chain) return [measureWhole(home, f, chain, found)];
        return f.files.map((abs) => (late ? Promise.resolve(sized(home, abs, f)) : measure(home, abs, f, found)));
      });
      const planned = (await Promise.all(measured)).sort((a, b) => (a.path < b.path ? -1 : 1));
      const row = rows.get(id);
      sessions.push({
        id,
        name: row?.name ?? null,
        archived: row ? row.archived : files.every((f) => f.root === 'archived_sessions'),
        parents: whole ? [] : parents,
        materialized: whole,
        created_at: row?.created_at ?? null,
        updated_at: row?.updated_at ?? null,
        cwd: row?.cwd ?? null,
        model_provider: row?.model_provider ?? null,
        files: planned.map(({ path, size, sha256 }) => ({ path, size, sha256 })),
        planned,
        marks,
      });
    }
    const kept = opts.sinceBundle ? withAncestors(await newSince(sessions, opts.sinceBundle), sessions) : sessions;
    kept.sort((a, b) => (a.id < b.id ? -1 : 1));
    return {
      sessions: kept.map(({ planned: _, marks: __, ...s }) => s),
      files: kept.flatMap((s) => s.planned),
      objects: await planObjects(home, kept),
      late,
    };
  } finally {
    db.close();
  }
}

/** `chunks`, each shown to `see` on its way. */
async function* seen(chunks: AsyncIterable<Buffer>, see: (c: Buffer) => void): AsyncGenerator<Buffer> {
  for await (const c of chunks) {
    see(c);
    yield c;
  }
}

/** A file measured as it is, and the objects its markers name added to `marks` (a .zst's are in its decompressed bytes). */
async function measure(home: Home, abs: string, f: SessionFile, marks: Set<string> | null): Promise<PlannedFile> {
  const found = marks && new MarkedObjects(marks);
  const zst = abs.endsWith('.zst');
  const d = await digest(!found || zst ? fileChunks(abs) : seen(fileChunks(abs), (c) => found.push(c)));
  if (marks && zst) await markedObjects(openSource(abs), marks);
  else found?.end();
  return { path: relative(home.dir, abs), abs, size: d.bytes, sha256: d.sha256, mtime: mtimeIn(abs, f) };
}

/** A file sized as it is, its digest left for the archive to take (Plan.late). */
function sized(home: Home, abs: string, f: SessionFile): PlannedFile {
  const size = abs === f.path ? f.size : lstatSync(abs).size;
  return { path: relative(home.dir, abs), abs, size, sha256: '', mtime: mtimeIn(abs, f) };
}

/** The mtime of the logical file's first (plain) path: a .zst sibling keeps its source's, as Codex's compressor does. */
const mtimeIn = (abs: string, f: SessionFile): number => Math.floor((abs === f.path ? f.mtimeMs : lstatSync(abs).mtimeMs) / 1000);

/**
 * A file that reads another thread, measured as it will be written: whole, under its plain name
 * (whether the home holds it plain, compressed or both), with its own mtime.
 */
async function measureWhole(home: Home, f: SessionFile, chain: Segment[], marks: Set<string> | null): Promise<PlannedFile> {
  const produce = await wholeFile(f, chain);
  const found = marks && new MarkedObjects(marks);
  const d = await digest(found ? seen(produce('the bundle'), (c) => found.push(c)) : produce('the bundle'));
  found?.end();
  return { path: relative(home.dir, plainPath(f.path)), abs: f.path, size: d.bytes, sha256: d.sha256, mtime: Math.floor(f.mtimeMs / 1000), produce };
}

/**
 * The objects the kept sessions' markers name, each checked against its name. One the store lacks,
 * or holds damaged, is left out with a warning: the session goes as it is, its marker without the blob.
 */
async function planObjects(home: Home, kept: Array<{ id: string; marks: Set<string> }>): Promise<PlannedFile[]> {
  const wanted = new Map<string, string>();
  for (const s of kept) for (const sha of s.marks) if (!wanted.has(sha)) wanted.set(sha, s.id);
  const out: PlannedFile[] = [];
  for (const [sha, id] of [...wanted].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const rel = objectRel(sha);
    const abs = join(home.dir, rel);
    const st = lstatOrNull(abs);
    const d = st?.isFile() ? await digest(fileChunks(abs)) : null;
    if (!d || d.sha256 !== sha) {
      warn(`session ${id} refers to object ${sha}, which ${d ? 'is damaged in' : 'is not in'} this home's store: it is bundled without it`, { file: abs });
      continue;
    }
    // Named by their bytes, objects carry no time of their own: equal objects give equal bundles.
    out.push({ path: rel, abs, size: d.bytes, sha256: sha, mtime: 0 });
  }
  return out;
}

/** The sessions with a file the older bundle lacks, or holds with other bytes. */
async function newSince<T extends BundledSession>(sessions: T[], older: string): Promise<T[]> {
  const had = new Set((await readManifest(older)).sessions.flatMap((s) => s.files.map((f) => `${f.path}\0${f.sha256}`)));
  return sessions.filter((s) => s.files.some((f) => !had.has(`${f.path}\0${f.sha256}`)));
}

/**
 * `kept` and the sessions they read, however far back, even when those are unchanged: a bundle is
 * whole, and an importer carries a fork's byte offsets across a change to its parent's head only
 * with the parent's bytes at hand.
 */
function withAncestors<T extends BundledSession>(kept: T[], all: T[]): T[] {
  const byId = new Map(all.map((s) => [s.id, s]));
  const ids = new Set(kept.map((s) => s.id));
  const work = [...ids];
  for (let id = work.pop(); id !== undefined; id = work.pop()) {
    for (const parent of byId.get(id)?.parents ?? []) {
      if (ids.has(parent) || !byId.has(parent)) continue;
      ids.add(parent);
      work.push(parent);
    }
  }
  return all.filter((s) => ids.has(s.id));
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

/**
 * A file's bytes as measured: its first `size` bytes (or made again), hashed again on the way;
 * other bytes stop the archive. A file not yet hashed (Plan.late) takes its digest here.
 */
async function* asMeasured(f: PlannedFile, bar: Progress, transient: boolean): AsyncGenerator<Buffer> {
  const h = hashing(f.produce ? f.produce(null) : fileChunks(f.abs, { limit: f.size, transient }));
  yield* h.chunks;
  const d = h.done();
  if (f.sha256 === '' && d.bytes === f.size) f.sha256 = d.sha256;
  if (d.sha256 !== f.sha256 || d.bytes !== f.size)
    throw new RolloutError('changed while being bundled; nothing consistent was written, run again', { file: f.abs });
  bar.add(1, f.size);
}

/** `chunks`, and the bar over them ended when they are (or when their reader stops). */
async function* ending(chunks: AsyncIterable<Buffer>, bar: Progress): AsyncGenerator<Buffer> {
  try {
    yield* chunks;
  } finally {
    bar.finish();
  }
}

/** The plan's manifest, with every digest taken so far (a placeholder for the others). */
function manifestOf(plan: Plan): Buffer {
  const digests = new Map([...plan.files, ...plan.objects].map((f) => [f.path, f.sha256 || UNHASHED]));
  const sessions = plan.sessions.map((s) => ({ ...s, files: s.files.map((f) => ({ ...f, sha256: digests.get(f.path) ?? f.sha256 })) }));
  return manifestBytes(sessions, plan.objects);
}

export interface BundleStream {
  chunks: AsyncIterable<Buffer>;
  /** For a late plan, once the chunks are all out: the manifest with every digest, and where in the archive it goes. */
  amend?: () => { at: number; bytes: Buffer };
}

/** The bundle's bytes: the manifest, then every file; compressed with zstd when asked (never for a late plan). */
export function bundleBytes(plan: Plan, zstd: boolean): BundleStream {
  if (plan.late && zstd) throw new Error('a compressed bundle cannot be amended: plan it with its digests first');
  const manifest = manifestOf(plan);
  const all = [...plan.files, ...plan.objects];
  const bar = new Progress(
    'bundling',
    all.length,
    all.reduce((n, f) => n + f.size, 0),
    'file',
  );
  // The manifest's mtime is fixed: it describes the files, and equal files must give equal bytes.
  const head: TarInput = { path: MANIFEST_PATH, size: manifest.length, mtime: 0, data: () => once(manifest) };
  // A late plan's archive goes only to writeAtomic, which writes each chunk before it asks for the
  // next: one read buffer can serve every file. (zstd and a pipe may still hold a chunk.)
  const members: TarInput[] = [head, ...all.map((f) => ({ path: f.path, size: f.size, mtime: f.mtime, data: () => asMeasured(f, bar, plan.late) }))];
  const tar = writeTar(members);
  const chunks = ending(zstd ? compressChunks(tar) : tar, bar);
  if (!plan.late) return { chunks };
  const at = fileHeader(head).length;
  const amend = () => {
    const bytes = manifestOf(plan);
    if (bytes.length !== manifest.length || plan.files.some((f) => f.sha256 === '')) throw new Error('the manifest changed length or lacks a digest');
    return { at, bytes };
  };
  return { chunks, amend };
}

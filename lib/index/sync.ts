// Keeping the index equal to the files. A run compares what discovery sees (path, size, mtime, inode)
// with the rows: unchanged files are not opened, grown files are read from where the last run
// stopped, moved files (archive, unarchive) are recognised by id and re-pointed, vanished files drop
// out, anything else is read whole. One writer at a time (the lock); work is committed in batches,
// each a transaction, so a run killed at any moment leaves the previous state usable.
import { existsSync, lstatSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { holdTemp, sweepTemps, syncDir } from '../fs/atomic.js';
import { RolloutError, warn } from '../cli/errors.js';
import { Progress } from '../cli/progress.js';
import { allNames, readNames } from '../home/names.js';
import { ancestry } from '../home/history.js';
import {
  byName,
  compareCurrent,
  walkHome,
  fileAt,
  parseRolloutName,
  plainPath,
  rootOf,
  zstPath,
  type CurrentKey,
  type Home,
  type SessionFile,
} from '../home/paths.js';
import { Resolver } from '../home/resolve.js';
import { TurnTally } from '../core/turns.js';
import { drainWal, finishScratch, indexPath, mendIndex, openIndex, openScratch, WriterLock, type Database } from './db.js';
import { dirSnapshot, distrust, namesSignature, newSnapshot, saveSnapshot, storedDirs, withdrawSnapshot, type DirSnapshot, type Snapshot } from './fresh.js';
import { DOC_SHIFT } from './query.js';
import { baseOf, canAppend, freshRow, inherit, tallyPrefix, type Doc, type Row } from './scan.js';
import { scanAll, type ScanJob, type SinkDoc } from './scans.js';
import { emptySummary, type Drift, type PathsOptions, type Summary, type UpdateOptions } from './summary.js';

/** The stored fields a run compares against discovery. */
interface Known {
  file: number;
  id: string;
  rollout_id: string;
  path: string;
  size: number;
  mtime_ms: number;
  ino: number;
  compressed: number;
}

/** Rows are committed at least this often (bytes read, files written). */
const BATCH_BYTES = 64 << 20;
const BATCH_FILES = 500;

interface Plan {
  read: Array<{ file: SessionFile; prev: Known | null }>;
  moved: Array<{ file: SessionFile; row: Known }>;
  gone: Known[];
  unchanged: number;
}

/**
 * The rows a run compares against, looked up a directory (or a path) at a time rather than all
 * held: at 100,000 sessions, holding them (and a map of them) was most of a run's memory when one
 * file had changed. With no index, there are none.
 */
class Rows {
  private readonly byPath;
  private readonly inRange;
  private readonly countIn;
  private readonly byRolloutId;
  private readonly byFile;

  constructor(private readonly db: Database | null) {
    this.byPath = db?.prepare(`SELECT ${KNOWN} FROM sessions WHERE path = ?`);
    this.inRange = db?.prepare(`SELECT ${KNOWN} FROM sessions WHERE path >= ? AND path < ?`);
    this.countIn = db?.prepare('SELECT count(*) FROM sessions WHERE path >= ? AND path < ?').pluck();
    this.byRolloutId = db?.prepare(`SELECT ${KNOWN} FROM sessions WHERE rollout_id = ?`);
    this.byFile = db?.prepare(`SELECT ${KNOWN} FROM sessions WHERE file = ?`);
  }

  at(path: string): Known | undefined {
    return this.byPath?.get(path) as Known | undefined;
  }

  /**
   * The rows of the rollouts directly in `dir`, by path: one range of the path index, cheaper than
   * looking each file up. (Every rollout's name starts with `rollout-`, and `-` sorts just before
   * `.`: so the range holds no file of a subdirectory.)
   */
  in(dir: string): Map<string, Known> {
    const rows = (this.inRange?.all(`${dir}/rollout-`, `${dir}/rollout.`) as Known[] | undefined) ?? [];
    return new Map(rows.map((k) => [k.path, k]));
  }

  withRolloutId(id: string): Known[] {
    return (this.byRolloutId?.all(id) as Known[] | undefined) ?? [];
  }

  /** How many rows there are (in `dir` alone: directly, as `in`). */
  count(dir?: string): number {
    if (!this.db) return 0;
    if (dir === undefined) return this.db.prepare('SELECT count(*) FROM sessions').pluck().get() as number;
    return this.countIn!.get(`${dir}/rollout-`, `${dir}/rollout.`) as number;
  }

  /** The rows neither in a trusted directory nor among `seen` (ascending file numbers). */
  others(seen: Uint32Array, trusted: Set<string>): Known[] {
    if (!this.db) return [];
    const missing: number[] = [];
    let i = 0;
    for (const [file, path] of this.db.prepare('SELECT file, path FROM sessions ORDER BY file').raw().iterate() as Iterable<[number, string]>) {
      while (i < seen.length && seen[i]! < file) i++;
      if (seen[i] !== file && !trusted.has(dirname(path))) missing.push(file);
    }
    return missing.map((file) => this.byFile!.get(file) as Known);
  }
}

const KNOWN = 'file, id, rollout_id, path, size, mtime_ms, ino, compressed';

/** A directory of the home as a run walks it. */
interface Walked {
  dir: string;
  files: SessionFile[];
  /** Its files are as the rows have them (the stored snapshot vouches for it): nothing to compare. */
  trusted: boolean;
}

/** A snapshot as a full run takes it (see saveSnapshot). */
interface Taken extends Snapshot {
  /** Directories whose stored rows do not hold, as this walk found them. */
  dirs: DirSnapshot[];
  /** Directories whose stored rows hold: kept as they are, and not held here. */
  kept: string[];
}

const taking = (home: Home): Taken => ({ ...newSnapshot(home), kept: [] });

/**
 * The home's directories as a full run walks them, each recorded in `snap` as it is reached, and
 * trusted when its row of the stored snapshot still holds.
 */
function* walkRecording(home: Home, db: Database | null, snap: Taken): Generator<Walked> {
  const holds = db ? storedDirs(db, home) : null;
  const now = Date.now();
  for (const d of walkHome(home, { entries: true })) {
    const s = dirSnapshot(d, now);
    const trusted = holds?.(s) ?? false;
    if (trusted) snap.kept.push(d.dir);
    else snap.dirs.push(s);
    yield { dir: d.dir, files: d.files, trusted };
  }
}

/**
 * What changed between the files, as the walk yields them, and the rows. Cost follows the changes:
 * a trusted directory's files are counted and nothing more; another's are compared with its rows,
 * fetched as one range. An unchanged file leaves only its row's number behind (four bytes, to find
 * rows whose files are gone, which are only looked for when the count of rows says there are some).
 */
function plan(dirs: Iterable<Walked>, rows: Rows): Plan & { scanned: number } {
  const out: Plan & { scanned: number } = { read: [], moved: [], gone: [], unchanged: 0, scanned: 0 };
  const seen = new FileNumbers();
  const trusted = new Set<string>();
  let inTrusted = 0;
  const fresh: SessionFile[] = [];
  for (const { dir, files, trusted: holds } of dirs) {
    out.scanned += files.length;
    // (The count is a check on the snapshot's word: it costs one walk of the path index's range.)
    if (holds && rows.count(dir) === files.length) {
      trusted.add(dir);
      inTrusted += files.length;
      out.unchanged += files.length;
      continue;
    }
    const known = rows.in(dir);
    for (const f of files) {
      const k = known.get(f.path);
      if (!k) {
        fresh.push(f);
        continue;
      }
      seen.add(k.file);
      if (k.size === f.size && k.mtime_ms === f.mtimeMs && k.ino === f.ino) out.unchanged++;
      else out.read.push({ file: f, prev: k });
    }
  }
  const vanished = new Map<string, Known[]>();
  const others = rows.count() === inTrusted + seen.length ? [] : rows.others(seen.sorted(), trusted);
  for (const k of others) {
    const list = vanished.get(k.rollout_id) ?? [];
    list.push(k);
    vanished.set(k.rollout_id, list);
  }
  // Oldest first, as a first build has always read them (and numbered their rows).
  fresh.sort(byName);
  for (const f of fresh) {
    const candidates = vanished.get(f.name.rolloutId) ?? [];
    const i = candidates.findIndex((k) => sameFile(k, f));
    if (i === -1) out.read.push({ file: f, prev: null });
    else out.moved.push({ file: f, row: candidates.splice(i, 1)[0]! });
  }
  for (const list of vanished.values()) out.gone.push(...list);
  return out;
}

/** Row numbers, four bytes each, outside the heap. */
class FileNumbers {
  private list = new Uint32Array(1024);
  length = 0;

  add(file: number): void {
    if (this.length === this.list.length) {
      const bigger = new Uint32Array(this.list.length * 2);
      bigger.set(this.list);
      this.list = bigger;
    }
    this.list[this.length++] = file;
  }

  sorted(): Uint32Array {
    return this.list.subarray(0, this.length).sort();
  }
}

/** A file that may only have been appended to since its row was written. */
const grew = (k: Known, f: SessionFile) => k.ino === f.ino && f.size > k.size && !f.compressed;

/** A file that moved keeps its bytes: same compression and size, and its inode or its mtime. */
const sameFile = (k: Known, f: SessionFile) => k.compressed === (f.compressed ? 1 : 0) && k.size === f.size && (k.ino === f.ino || k.mtime_ms === f.mtimeMs);

const COLUMNS = Object.keys(
  freshRow({
    path: '',
    files: [],
    root: 'sessions',
    name: { stamp: '', threadId: '', rolloutId: '', compressed: false, json: false },
    compressed: false,
    form: 'nested',
    size: 0,
    mtimeMs: 0,
    ino: 0,
  }),
);

/** Prepared statements over one connection, and the batch being written. */
class Writer {
  private readonly insertRow;
  private readonly updateRow;
  private readonly selectRow;
  private readonly deleteRow;
  private readonly insertDoc;
  private readonly selectDoc;
  private readonly deleteDocs;
  private readonly moveRow;
  private readonly threadFiles;
  private readonly setCurrent;
  private pendingBytes = 0;
  private pendingFiles = 0;
  /** Thread ids whose rows changed in this batch: their `current` file is chosen again. */
  private touched = new Set<string>();

  constructor(
    readonly db: Database,
    private readonly history: HistoryReader,
  ) {
    this.insertRow = db.prepare(`INSERT INTO sessions (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => '@' + c).join(', ')})`);
    this.updateRow = db.prepare(`UPDATE sessions SET ${COLUMNS.map((c) => `${c} = @${c}`).join(', ')} WHERE file = @file`);
    this.selectRow = db.prepare('SELECT * FROM sessions WHERE file = ?');
    this.deleteRow = db.prepare('DELETE FROM sessions WHERE file = ?');
    // (A text comes as a string, or from the reading thread as UTF-8 bytes, which SQLite takes as they are.)
    this.insertDoc = db.prepare('INSERT INTO docs (rowid, text, role, line, ordinal) VALUES (?, CAST(? AS TEXT), ?, ?, ?)');
    this.selectDoc = db.prepare('SELECT text, role, line, ordinal FROM docs WHERE rowid = ?');
    // (The bounds are cast: bound as JavaScript numbers they arrive as REAL, which FTS5 does not use
    // as bounds, and every delete scanned every document after the range, a second per file at
    // 100,000 sessions.)
    this.deleteDocs = db.prepare('DELETE FROM docs WHERE rowid >= CAST(? AS INTEGER) AND rowid < CAST(? AS INTEGER)');
    this.moveRow = db.prepare(
      `UPDATE sessions SET path = @path, root = @root, archived = @archived, mtime_ms = @mtime, ino = @ino,
         updated_at = max(last_line_at, @mtime) WHERE file = @file`,
    );
    this.threadFiles = db.prepare(
      'SELECT id, file, name_at AS stampMs, archived, mtime_ms AS mtimeMs, current FROM sessions WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id, file',
    );
    this.setCurrent = db.prepare('UPDATE sessions SET current = ? WHERE file = ?');
  }

  private begin(): void {
    if (!this.db.inTransaction) this.db.exec('BEGIN IMMEDIATE');
  }

  /** Commits when enough work is pending, so a killed run loses at most one batch. */
  maybeCommit(): void {
    if (this.pendingBytes >= BATCH_BYTES || this.pendingFiles >= BATCH_FILES) this.commit();
  }

  commit(): void {
    if (this.touched.size) {
      this.begin();
      this.markCurrent([...this.touched]);
      this.touched.clear();
    }
    if (this.db.inTransaction) this.db.exec('COMMIT');
    this.pendingBytes = 0;
    this.pendingFiles = 0;
  }

  /** Marks, of each thread's files, the one that stands for it (compareCurrent, as every binary chooses). */
  private markCurrent(ids: string[]): void {
    type File = CurrentKey & { id: string; file: number; current: number };
    const rows = (this.threadFiles.all(JSON.stringify(ids)) as Array<Omit<File, 'archived'> & { archived: number }>).map((r) => ({
      ...r,
      archived: r.archived === 1,
    }));
    for (let i = 0; i < rows.length;) {
      let j = i;
      let best = rows[i]!;
      // Ties go to the later row, so the choice does not depend on the order rows come in.
      for (; j < rows.length && rows[j]!.id === best.id; j++) if (compareCurrent(rows[j]!, best) <= 0) best = rows[j]!;
      for (const r of rows.slice(i, j)) {
        const current = r === best ? 1 : 0;
        if (r.current !== current) this.setCurrent.run(current, r.file);
      }
      i = j;
    }
  }

  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  /** Runs `fn` inside the current batch. */
  within(fn: () => void): void {
    this.begin();
    fn();
  }

  remove(k: Known): void {
    this.begin();
    this.deleteDocs.run(k.file * DOC_SHIFT, (k.file + 1) * DOC_SHIFT);
    this.deleteRow.run(k.file);
    this.touched.add(k.id);
    this.pendingFiles++;
  }

  move(k: Known, f: SessionFile): void {
    this.begin();
    this.moveRow.run({ path: f.path, root: f.root, archived: f.root === 'archived_sessions' ? 1 : 0, mtime: f.mtimeMs, ino: f.ino, file: k.file });
    this.touched.add(k.id);
    this.pendingFiles++;
  }

  /**
   * How `f` is to be read: from where the last read of `prev` stopped when it only grew (see
   * canAppend), else whole. Reads the index and the file's tail; writes nothing.
   */
  async job(f: SessionFile, prev: Known | null, resume: boolean): Promise<Job> {
    const old = prev ? ((this.selectRow.get(prev.file) as (Row & { file: number }) | undefined) ?? null) : null;
    const append = old !== null && resume && (await canAppend(f, old).catch(() => false));
    return { file: f, prev: append ? old : null, old };
  }

  /**
   * Reads the files into their rows and documents, in batches (each in the transaction of the batch
   * it ends in). A file that cannot be read (a broken .zst, no permission) still gets a row, so it
   * is listed and not retried until it changes. `each` follows every file. Each file's job is made
   * as it is reached and dropped once written: a job may hold the file's whole row.
   * (No savepoint per file: FTS5 flushes its pending terms at each one, which made a segment per
   * file. A failed file's documents are one rowid range, dropped by hand.)
   */
  async readAll(read: Plan['read'], resume: boolean, here: boolean, each: (job: Job, bytes: number) => void): Promise<void> {
    const live = new Map<number, Job>();
    const jobOf = (r: Plan['read'][number]) => this.job(r.file, r.prev, resume);
    const made = (async function* () {
      for (const [i, r] of read.entries()) {
        const job = await jobOf(r);
        live.set(i, job);
        yield job;
      }
    })();
    const jobAt = (i: number) => live.get(i)!;
    // The file being written: its row id and its next document's number.
    let at = -1;
    let file = 0;
    let n = 0;
    // A file read anew whose documents are still there: each is compared, and only one that differs
    // is written again. A file rewritten in place (slimmed, re-tagged) keeps most of its text, and
    // deleting a document from the full-text index costs as much as adding it.
    let again = false;
    const start = (i: number) => {
      if (at === i) return;
      at = i;
      this.begin();
      const { file: f, prev, old } = jobAt(i);
      if (old) file = old.file;
      else file = Number(this.insertRow.run(freshRow(f)).lastInsertRowid);
      again = Boolean(old && !prev);
      n = prev ? prev.doc_count : 0;
    };
    // (What a grown file adds, or the whole file: the estimate that decides on a worker.)
    const bytes = read.reduce((n, { file, prev }) => n + file.size - (prev && grew(prev, file) ? prev.size : 0), 0);
    await scanAll(
      { count: read.length, bytes, jobs: made },
      {
        doc: (i, d) => {
          start(i);
          const rowid = file * DOC_SHIFT + n++;
          if (again) {
            const o = this.selectDoc.get(rowid) as Doc | undefined;
            if (o && sameDoc(o, d)) return;
            if (o) this.deleteDocs.run(rowid, rowid + 1);
          }
          this.insertDoc.run(rowid, d.text, d.role, d.line, d.ordinal);
        },
        done: async (i, r) => {
          start(i);
          // What a file read anew no longer holds.
          if (again) this.deleteDocs.run(file * DOC_SHIFT + n, (file + 1) * DOC_SHIFT);
          if (!r.appended) await this.history.inheritFor(r.row);
          this.updateRow.run({ ...r.row, file });
          this.touched.add(r.row.id);
          const job = jobAt(i);
          if (job.old && job.old.id !== r.row.id) this.touched.add(job.old.id);
          this.pendingBytes += r.bytes;
          this.pendingFiles++;
          live.delete(i);
          each(job, r.bytes);
        },
        failed: (i, why) => {
          start(i);
          const job = jobAt(i);
          const f = job.file;
          warn(`${why}; listed without its contents`, { file: f.path });
          this.deleteDocs.run(file * DOC_SHIFT, (file + 1) * DOC_SHIFT);
          const row = { ...freshRow(f), bad_lines: 1 };
          this.updateRow.run({ ...row, file });
          this.touched.add(row.id);
          this.pendingFiles++;
          live.delete(i);
          each(job, 0);
        },
      },
      here,
    );
  }
}

/** A file to read, with its row as the index has it (`old`), and that row again when only its appends are read. */
interface Job extends ScanJob {
  prev: (Row & { file: number }) | null;
  old: (Row & { file: number }) | null;
}

/** Whether a stored document is the one read (its text as a string, or as UTF-8 bytes from the reading thread). */
function sameDoc(o: Doc, d: SinkDoc): boolean {
  if (o.role !== d.role || o.line !== d.line || (o.ordinal ?? null) !== (d.ordinal ?? null)) return false;
  return typeof d.text === 'string' ? o.text === d.text : Buffer.from(o.text, 'utf8').equals(d.text);
}

/** A referenced fork's inherited turns and title, read from its ancestors' prefixes. */
class HistoryReader {
  private resolver?: Resolver;

  constructor(private readonly home: Home) {}

  async inheritFor(row: Row): Promise<void> {
    const base = baseOf(row);
    if (!base) return;
    this.resolver ??= new Resolver(this.home);
    const meta = { id: row.id, history_base: { thread_id: base.thread_id, end_ordinal_exclusive: 0, end_byte_offset: base.end_byte_offset } };
    try {
      const tally = new TurnTally();
      for (const s of await ancestry(meta, this.resolver, row.path)) await tallyPrefix(s.path, s.limit, s.form, tally);
      inherit(row, tally.turns, tally.title);
    } catch (err) {
      // A fork whose parent is gone or broken keeps its own turns; rollout-fsck reports the chain.
      if (!(err instanceof RolloutError) && !(err as NodeJS.ErrnoException)?.code) throw err;
    }
  }
}

/**
 * Applies a plan to the index. `opts.snap` is given by a full run (the home as its walk found it),
 * and stored with its last batch; any other run leaves the snapshot vouching for none of the
 * directories it wrote rows of. `opts.here`: read on this thread.
 */
async function apply(db: Database, home: Home, p: Plan, resume: boolean, opts: { snap?: Taken; here?: boolean } = {}): Promise<Summary> {
  const w = new Writer(db, new HistoryReader(home));
  const s = emptySummary();
  const bar = new Progress(
    'indexing',
    p.read.length,
    p.read.reduce((n, r) => n + r.file.size, 0),
    'file',
  );
  try {
    // A full run stores its snapshot anew at the end; another run's rows are vouched for by no
    // snapshot, so it withdraws the word of their directories'.
    if (opts.snap) w.within(() => withdrawSnapshot(db));
    else w.within(() => distrust(db, touchedDirs(p)));
    for (const k of p.gone) {
      w.remove(k);
      s.removed++;
    }
    for (const { file, row } of p.moved) {
      w.move(row, file);
      s.moved++;
    }
    await w.readAll(p.read, resume, Boolean(opts.here), ({ file, old }, bytes) => {
      s.bytes_read += bytes;
      if (old) s.updated++;
      else s.added++;
      bar.add(1, file.size);
      w.maybeCommit();
    });
    const sig = namesSignature(home);
    if (sig !== (db.prepare("SELECT value FROM meta WHERE key = 'names'").pluck().get() ?? null)) {
      const names = await currentNames(home);
      w.within(() => replaceNames(db, names, sig));
    }
    const snap = opts.snap;
    if (snap) w.within(() => saveSnapshot(db, snap, snap.kept));
    w.commit();
  } catch (err) {
    w.rollback();
    throw err;
  } finally {
    bar.finish();
  }
  s.unchanged = p.unchanged;
  return s;
}

/** The directories of every file a plan writes rows for, moves from or drops. */
function* touchedDirs(p: Plan): Generator<string> {
  for (const { file } of p.read) yield dirname(file.path);
  for (const { file, row } of p.moved) yield* [dirname(file.path), dirname(row.path)];
  for (const k of p.gone) yield dirname(k.path);
}

/** `update` past the snapshot check: the work itself. */
export async function updateHere(home: Home, opts: UpdateOptions): Promise<Summary | null> {
  const started = Date.now();
  const lock = WriterLock.acquire(opts.index, opts.waitMs ?? 60_000);
  if (!lock) return null;
  try {
    // Holding the lock, no other run is building: scratch files beside the index are abandoned.
    sweepTemps(dirname(opts.index));
    mendIndex(opts.index);
    const snap = taking(home);
    let s: Summary;
    // A first build is a rebuild too: built beside, without a journal, and renamed into place.
    if (opts.rebuild || !existsSync(opts.index)) {
      const p = plan(walkRecording(home, null, snap), new Rows(null));
      snap.files = p.scanned;
      s = await rebuild(home, opts.index, p, snap);
    } else {
      const db = openIndex(opts.index, { create: true });
      try {
        const p = plan(walkRecording(home, db, snap), new Rows(db));
        snap.files = p.scanned;
        s = await apply(db, home, p, true, { snap });
      } finally {
        db.close();
      }
    }
    return { ...s, scanned: snap.files, ms: Date.now() - started };
  } finally {
    lock.release();
  }
}

/**
 * A fresh index built beside the old one, then renamed over it: readers see the old or the new.
 * The scratch file and SQLite's files beside it go, whatever stops the build (an error, a full
 * disk, a signal); a build killed outright leaves them to the next run, which sweeps them.
 */
async function rebuild(home: Home, index: string, p: Plan, snap: Taken): Promise<Summary> {
  const tmp = `${index}.rebuild-${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const companions = ['-wal', '-shm', '-journal'].map((ext) => tmp + ext);
  const release = holdTemp(tmp, ...companions);
  const removeScratch = () => {
    for (const p of [tmp, ...companions]) rmSync(p, { force: true });
  };
  let s: Summary;
  try {
    const db = openScratch(tmp);
    try {
      s = await apply(db, home, p, true, { snap });
      finishScratch(db);
    } finally {
      if (db.open) db.close();
    }
    // Frames left in the old file's WAL would be played onto the new file: empty it, or remove it
    // when the old file is too damaged to open.
    if (!drainWal(index)) for (const ext of ['-wal', '-shm']) rmSync(index + ext, { force: true });
    renameSync(tmp, index);
  } catch (err) {
    removeScratch();
    throw err;
  } finally {
    release();
  }
  // The scratch file's own -wal and -shm, emptied by the last checkpoint, are not the index's.
  removeScratch();
  await syncDir(resolve(index, '..'));
  return s;
}

/** `check` past the snapshot check. */
export async function checkHere(home: Home, index: string): Promise<Drift[]> {
  let p: Plan;
  let names: string | null = null;
  if (existsSync(index)) {
    const db = openIndex(index, { readonly: true });
    try {
      p = plan(walkRecording(home, db, taking(home)), new Rows(db));
      names = (db.prepare("SELECT value FROM meta WHERE key = 'names'").pluck().get() as string | undefined) ?? null;
    } finally {
      db.close();
    }
  } else p = plan(walkRecording(home, null, taking(home)), new Rows(null));
  const out: Drift[] = [];
  for (const { file, prev } of p.read) {
    const grown = prev !== null && grew(prev, file);
    out.push({ drift: prev ? (grown ? 'grown' : 'changed') : 'new', id: file.name.threadId, path: file.path });
  }
  for (const { file, row } of p.moved) out.push({ drift: 'moved', id: row.id, path: file.path, from: row.path });
  for (const k of p.gone) out.push({ drift: 'gone', id: k.id, path: k.path });
  if (names !== null && names !== namesSignature(home)) out.push({ drift: 'names' });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Names live outside the rollouts: Codex's session_index.jsonl (newest entry wins) and its state DB.

async function currentNames(home: Home): Promise<Map<string, string>> {
  return allNames(await readNames(home));
}

function replaceNames(db: Database, names: Map<string, string>, sig: string): void {
  db.exec('DELETE FROM names');
  const put = db.prepare('INSERT INTO names (id, name) VALUES (?, ?)');
  for (const [id, name] of names) if (name) put.run(id, name);
  db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('names', ?)").run(sig);
}

// ---------------------------------------------------------------------------------------------
// Updating just some paths: what other binaries call after they write, and `rollout-index --stdin`.

/** The logical session file at `path` (a `.jsonl` or its `.zst`), or null when there is none. */
async function logicalFile(home: Home, path: string): Promise<SessionFile | null> {
  const plain = plainPath(path);
  for (const candidate of [plain, zstPath(plain)]) {
    let st;
    try {
      st = lstatSync(candidate);
    } catch {
      continue;
    }
    if (!st.isFile() || st.size === 0) continue;
    return fileAt(home, candidate);
  }
  return null;
}

/** `updatePaths` on this thread. */
export async function updatePathsHere(home: Home, paths: string[], opts: PathsOptions): Promise<Summary | null> {
  const started = Date.now();
  const lock = WriterLock.acquire(opts.index, opts.waitMs ?? 60_000);
  if (!lock) return null;
  try {
    mendIndex(opts.index);
    const db = openIndex(opts.index, { create: true });
    try {
      const rows = new Rows(db);
      const p: Plan = { read: [], moved: [], gone: [], unchanged: 0 };
      const seen = new Set<string>();
      for (const given of paths) {
        const abs = resolve(given);
        const plain = plainPath(abs);
        if (seen.has(plain)) continue;
        seen.add(plain);
        const name = parseRolloutName(plain.slice(plain.lastIndexOf('/') + 1));
        const file = rootOf(home, plain) && name ? await logicalFile(home, plain) : null;
        if (!file && !rows.at(plain) && !rows.at(zstPath(plain))) {
          if (!rootOf(home, plain) || !name) warn('not a session file of this home; skipped', { file: given });
          continue;
        }
        for (const stale of [plain, zstPath(plain)]) {
          const k = rows.at(stale);
          if (k && stale !== file?.path) p.gone.push(k);
        }
        if (!file) continue;
        const k = rows.at(file.path);
        if (k) {
          if (!opts.force && k.size === file.size && k.mtime_ms === file.mtimeMs && k.ino === file.ino) p.unchanged++;
          else p.read.push({ file, prev: k });
          continue;
        }
        // Not indexed at this path: moved here from a path that no longer exists?
        const from = rows.withRolloutId(file.name.rolloutId).find((o) => !existsSync(o.path) && sameFile(o, file));
        if (from && !opts.force) {
          p.moved.push({ file, row: from });
          p.gone = p.gone.filter((g) => g.file !== from.file);
        } else p.read.push({ file, prev: null });
      }
      const s = await apply(db, home, p, !opts.force, { here: opts.here });
      return { ...s, scanned: seen.size, ms: Date.now() - started };
    } finally {
      db.close();
    }
  } finally {
    lock.release();
  }
}

/**
 * For other binaries, after they create, move or delete session files: brings the rows of these
 * paths up to date, only if an index already exists. Never fails the caller: problems are warnings.
 */
export async function syncPaths(home: Home, paths: string[], opts: { index?: string } = {}): Promise<void> {
  const index = indexPath(home, opts.index);
  if (!existsSync(index) || paths.length === 0) return;
  try {
    // On this thread: the caller's own work is done, and a worker's second heap costs more memory
    // (25 MB re-reading a slimmed 1 GB session) than the time it saves (3%).
    const s = await updatePathsHere(home, paths, { index, waitMs: 10_000, here: true });
    if (!s) warn(`the index ${index} is busy; run rollout-index to bring it up to date`);
  } catch (err) {
    warn(`the index ${index} was not updated (${(err as Error).message}); run rollout-index --rebuild`);
  }
}

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
import { compareCurrent, discover, fileAt, parseRolloutName, plainPath, rootOf, zstPath, type CurrentKey, type Home, type SessionFile } from '../home/paths.js';
import { Resolver } from '../home/resolve.js';
import { TurnTally } from '../core/turns.js';
import { drainWal, finishScratch, indexPath, mendIndex, openIndex, openScratch, WriterLock, type Database } from './db.js';
import { dropSnapshot, namesSignature, saveSnapshot, takeSnapshot, type Snapshot } from './fresh.js';
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

/** What changed between the files and the rows. */
function plan(files: SessionFile[], known: Known[]): Plan {
  const byPath = new Map(known.map((k) => [k.path, k]));
  const seen = new Set<string>();
  const out: Plan = { read: [], moved: [], gone: [], unchanged: 0 };
  const fresh: SessionFile[] = [];
  for (const f of files) {
    const k = byPath.get(f.path);
    if (!k) {
      fresh.push(f);
      continue;
    }
    seen.add(f.path);
    if (k.size === f.size && k.mtime_ms === f.mtimeMs && k.ino === f.ino) out.unchanged++;
    else out.read.push({ file: f, prev: k });
  }
  const vanished = new Map<string, Known[]>();
  for (const k of known) {
    if (seen.has(k.path)) continue;
    const list = vanished.get(k.rollout_id) ?? [];
    list.push(k);
    vanished.set(k.rollout_id, list);
  }
  for (const f of fresh) {
    const candidates = vanished.get(f.name.rolloutId) ?? [];
    const i = candidates.findIndex((k) => sameFile(k, f));
    if (i === -1) out.read.push({ file: f, prev: null });
    else out.moved.push({ file: f, row: candidates.splice(i, 1)[0]! });
  }
  for (const list of vanished.values()) out.gone.push(...list);
  return out;
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
    this.deleteDocs = db.prepare('DELETE FROM docs WHERE rowid >= ? AND rowid < ?');
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

function readKnown(db: Database): Known[] {
  return db.prepare('SELECT file, id, rollout_id, path, size, mtime_ms, ino, compressed FROM sessions').all() as Known[];
}

/**
 * Applies a plan to the index. `opts.snap` is given by a full run (the home as it was before discovery),
 * and stored with its last batch; any other run leaves no snapshot behind. `opts.here`: read on this thread.
 */
async function apply(db: Database, home: Home, p: Plan, resume: boolean, opts: { snap?: Snapshot; here?: boolean } = {}): Promise<Summary> {
  const w = new Writer(db, new HistoryReader(home));
  const s = emptySummary();
  const bar = new Progress(
    'indexing',
    p.read.length,
    p.read.reduce((n, r) => n + r.file.size, 0),
    'file',
  );
  try {
    w.within(() => dropSnapshot(db));
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
    if (snap) w.within(() => saveSnapshot(db, snap));
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

/** `update` past the snapshot check: the work itself. */
export async function updateHere(home: Home, opts: UpdateOptions): Promise<Summary | null> {
  const started = Date.now();
  const lock = WriterLock.acquire(opts.index, opts.waitMs ?? 60_000);
  if (!lock) return null;
  try {
    // Holding the lock, no other run is building: scratch files beside the index are abandoned.
    sweepTemps(dirname(opts.index));
    mendIndex(opts.index);
    const snap = takeSnapshot(home);
    const files = await discover(home);
    snap.files = files.length;
    let s: Summary;
    // A first build is a rebuild too: built beside, without a journal, and renamed into place.
    if (opts.rebuild || !existsSync(opts.index)) s = await rebuild(home, opts.index, files, snap);
    else {
      const db = openIndex(opts.index, { create: true });
      try {
        s = await apply(db, home, plan(files, readKnown(db)), true, { snap });
      } finally {
        db.close();
      }
    }
    return { ...s, scanned: files.length, ms: Date.now() - started };
  } finally {
    lock.release();
  }
}

/**
 * A fresh index built beside the old one, then renamed over it: readers see the old or the new.
 * The scratch file and SQLite's files beside it go, whatever stops the build (an error, a full
 * disk, a signal); a build killed outright leaves them to the next run, which sweeps them.
 */
async function rebuild(home: Home, index: string, files: SessionFile[], snap: Snapshot): Promise<Summary> {
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
      s = await apply(db, home, plan(files, []), true, { snap });
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
  const files = await discover(home);
  let known: Known[] = [];
  let names: string | null = null;
  if (existsSync(index)) {
    const db = openIndex(index, { readonly: true });
    try {
      known = readKnown(db);
      names = (db.prepare("SELECT value FROM meta WHERE key = 'names'").pluck().get() as string | undefined) ?? null;
    } finally {
      db.close();
    }
  }
  const p = plan(files, known);
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
      const known = readKnown(db);
      const byPath = new Map(known.map((k) => [k.path, k]));
      const p: Plan = { read: [], moved: [], gone: [], unchanged: 0 };
      const seen = new Set<string>();
      for (const given of paths) {
        const abs = resolve(given);
        const plain = plainPath(abs);
        if (seen.has(plain)) continue;
        seen.add(plain);
        const name = parseRolloutName(plain.slice(plain.lastIndexOf('/') + 1));
        const file = rootOf(home, plain) && name ? await logicalFile(home, plain) : null;
        if (!file && !byPath.has(plain) && !byPath.has(zstPath(plain))) {
          if (!rootOf(home, plain) || !name) warn('not a session file of this home; skipped', { file: given });
          continue;
        }
        for (const stale of [plain, zstPath(plain)]) {
          const k = byPath.get(stale);
          if (k && stale !== file?.path) p.gone.push(k);
        }
        if (!file) continue;
        const k = byPath.get(file.path);
        if (k) {
          if (!opts.force && k.size === file.size && k.mtime_ms === file.mtimeMs && k.ino === file.ino) p.unchanged++;
          else p.read.push({ file, prev: k });
          continue;
        }
        // Not indexed at this path: moved here from a path that no longer exists?
        const from = known.find((o) => o.rollout_id === file.name.rolloutId && !existsSync(o.path) && sameFile(o, file));
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

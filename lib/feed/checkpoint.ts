// Where rollout-feed stopped in each file, kept in a small SQLite file of the user's choosing. A run
// writes its progress inside one transaction, committed only once what it wrote to stdout is out
// without error: a run that fails or is killed leaves the checkpoint as it was, and the next run
// sends the same records again (at least once; record ids make loading them idempotent). A held
// run (`--hold`) commits its progress aside, and only `--ack`, after the loader succeeded, makes it
// the checkpoint's: the way to be sure of a loader that can fail after it has read everything.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RolloutError } from '../cli/errors.js';
import { openSqlite, type Database } from '../core/sqlite.js';
import type { Progress } from './read.js';

/** Marks the file as a rollout-feed checkpoint ("rfck"). */
const APPLICATION_ID = 0x7266636b;
const VERSION = 1;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS progress (rollout_id TEXT PRIMARY KEY, sent INTEGER NOT NULL, line INTEGER NOT NULL, tail TEXT, carry TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS held (rollout_id TEXT PRIMARY KEY, sent INTEGER NOT NULL, line INTEGER NOT NULL, tail TEXT, carry TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`;

/** A run that commits its progress, one that holds it aside, or the acknowledgement of a held one. */
export type Mode = 'run' | 'hold' | 'ack';

export class Checkpoint {
  private readonly db: Database;
  private readonly put: import('better-sqlite3').Statement;
  private open = false;

  private constructor(
    readonly path: string,
    private readonly mode: Mode,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = openSqlite(path, { timeoutMs: 0 });
    try {
      const app = this.db.pragma('application_id', { simple: true }) as number;
      const tables = this.db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get() as number;
      if (app !== APPLICATION_ID && (app !== 0 || tables > 0)) throw new RolloutError('not a rollout-feed checkpoint; give another file', { file: path });
      this.db.pragma('journal_mode = WAL');
      this.db.exec(SCHEMA);
      this.db.pragma(`application_id = ${APPLICATION_ID}`);
      this.db.pragma(`user_version = ${VERSION}`);
      this.put = this.db.prepare(
        `INSERT OR REPLACE INTO ${mode === 'hold' ? 'held' : 'progress'} (rollout_id, sent, line, tail, carry) VALUES (?, ?, ?, ?, ?)`,
      );
    } catch (err) {
      this.db.close();
      throw busy(err, path);
    }
  }

  /**
   * Opens (or makes) the checkpoint and begins the run's transaction, which holds the file: a second
   * run with the same checkpoint stops at once instead of sending the same records alongside.
   */
  static begin(path: string, mode: Mode): Checkpoint {
    const ck = new Checkpoint(resolve(path), mode);
    ck.start();
    return ck;
  }

  private start(): void {
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      throw busy(err, this.path);
    }
    this.open = true;
    // A batch held and never acknowledged is sent again by this run: it is dropped.
    if (this.mode !== 'ack') this.db.exec('DELETE FROM held');
  }

  set(rolloutId: string, p: Progress): void {
    this.put.run(rolloutId, p.sent, p.line, p.tail, JSON.stringify(p.carry));
  }

  /** Makes this run's progress the checkpoint's (held aside, with `hold`), and begins the next run's transaction. */
  commit(): void {
    this.db.exec('COMMIT');
    this.open = false;
    this.start();
  }

  /** Drops what this run wrote. */
  close(): void {
    if (this.open) this.db.exec('ROLLBACK');
    this.open = false;
    this.db.close();
  }

  /** Moves a held batch's progress into the checkpoint: its records were loaded. Returns the files it moved. */
  ack(): number {
    const moved = this.db.prepare('INSERT OR REPLACE INTO progress SELECT * FROM held').run().changes;
    this.db.exec('DELETE FROM held');
    this.db.exec('COMMIT');
    this.open = false;
    return moved;
  }
}

function busy(err: unknown, path: string): unknown {
  const code = (err as { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_BUSY')) return new RolloutError('another rollout-feed is using this checkpoint', { file: path });
  if (/^SQLITE_(NOTADB|CORRUPT)/.test(code)) return new RolloutError('not a rollout-feed checkpoint (or a damaged one); give another file', { file: path });
  return err;
}

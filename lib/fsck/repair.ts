// Repairing what rollout-fsck found, without losing a byte: the original files go to a backup first
// (a verified copy), every line taken out goes to `<file>.rejected`, and the repaired file replaces
// the original by an atomic rename, with its mode and mtime. What is repaired: a torn last line
// (ended when it is whole, else taken out), a byte-order mark (dropped), invalid UTF-8 (each bad
// sequence becomes U+FFFD, if the line is then JSON; else it is taken out), lines that are not JSON
// (taken out), and a stale or unreadable `.zst` beside a good plain file (removed). A compressed
// session stays compressed under the same name, so Codex's `rollout_path` still holds.
import { constants } from 'node:fs';
import { lstat, open, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { mtimeOf, sweepTemps, syncDir, writeAtomic } from '../fs/atomic.js';
import { judgeLine, type FileReport, type ProblemKind } from './check.js';
import { plainPath, type Home, type SessionFile } from '../home/paths.js';
import { BOM, lineBatches, newStats } from '../core/lines.js';
import { backupPath, backUp } from '../fs/backup.js';
import { compressFile } from '../fs/move.js';
import { assertUnchanged, fingerprint, lockSession, refuseReason, type Fingerprint } from '../fs/safety.js';
import { openSource } from '../core/source.js';

export interface RepairOptions {
  /** Where the originals are copied, in the same layout as under the home. */
  backup: string;
  dryRun: boolean;
  /** Files modified less than this long ago are still being written: left alone. */
  graceMs: number;
  now: number;
}

export interface Repaired {
  action: 'repair';
  id: string;
  path: string;
  /** The kinds of problem fixed. */
  fixed: ProblemKind[];
  /** Copies of the originals. */
  backup: string[];
  /** Where the lines taken out went, or null when none were. */
  rejected: string | null;
  rejected_lines: number;
  /** Files removed (a stale or unreadable `.zst`). */
  removed: string[];
  dry_run: boolean;
}

export interface Skipped {
  action: 'skip';
  id: string;
  path: string;
  reason: string;
}

const plainOf = (f: SessionFile) => plainPath(f.path);
export const rejectedPath = (f: SessionFile): string => `${plainOf(f)}.rejected`;

/** Repairs the fixable problems of one file; null when it has none. */
export async function repairFile(home: Home, report: FileReport, opts: RepairOptions): Promise<Repaired | Skipped | null> {
  if (opts.dryRun || !report.problems.some((p) => p.fixable)) return repairLocked(home, report, opts);
  // Another run acting on the same session at the same moment would undo half of this one.
  const id = report.problems[0]!.id;
  const release = await lockSession(home, id || basename(report.file.path));
  if (typeof release === 'string') return { action: 'skip', id, path: report.file.path, reason: release };
  try {
    return await repairLocked(home, report, opts);
  } finally {
    release();
  }
}

/** repairFile, holding the session's lock. */
async function repairLocked(home: Home, report: FileReport, opts: RepairOptions): Promise<Repaired | Skipped | null> {
  const { file } = report;
  const fixable = report.problems.filter((p) => p.fixable);
  if (!fixable.length) return null;
  const id = report.problems[0]!.id;
  if (report.problems.some((p) => p.problem === 'unreadable_zst' && p.path === file.path)) {
    return { action: 'skip', id, path: file.path, reason: 'the .zst cannot be read to its end; nothing is rewritten from it' };
  }
  const refused = await refuseReason(home, { id, files: [file] }, { graceMs: opts.graceMs, now: opts.now });
  if (refused) return { action: 'skip', id, path: file.path, reason: refused };
  const seen = fingerprint(file.path);
  // Half-made files a killed repair or compression left beside it.
  if (!opts.dryRun) sweepTemps(dirname(file.path));
  const rewrite = fixable.some((p) => p.fix !== 'remove_zst');
  // A twin is dropped when it is stale or unreadable, and also when the plain file it copies is rewritten.
  const twin = file.files.length > 1 ? file.files[1] : null;
  const removeTwin = twin !== null && (rewrite || fixable.some((p) => p.path === twin));
  const twinSeen = removeTwin ? fingerprint(twin!) : null;
  const result: Repaired = {
    action: 'repair',
    id,
    path: file.path,
    fixed: [...new Set(fixable.map((p) => p.problem))],
    backup: [],
    rejected: null,
    rejected_lines: 0,
    removed: removeTwin ? [twin!] : [],
    dry_run: opts.dryRun,
  };
  // Copied and read back before anything changes; a dry run names the same places.
  for (const p of file.files) result.backup.push(await (opts.dryRun ? backupPath : backUp)(home, opts.backup, p));
  if (opts.dryRun) {
    result.rejected_lines = fixable.filter((p) => p.fix === 'reject_line' || p.fix === 'split_line').length;
    result.rejected = result.rejected_lines ? rejectedPath(file) : null;
    return result;
  }

  if (rewrite) {
    const taken = await rewriteFile(file, seen);
    result.rejected_lines = taken;
    result.rejected = taken ? rejectedPath(file) : null;
  }
  if (removeTwin) {
    assertUnchanged(twin!, twinSeen!, 'repaired');
    await unlink(twin!);
    await syncDir(dirname(twin!));
  }
  return result;
}

const NL = Buffer.from('\n');
const BLOCK = 1 << 20;

/**
 * Writes the repaired lines over the file (compressed again when it was), if it is still the file
 * `seen` describes; returns the lines taken out.
 */
async function rewriteFile(file: SessionFile, seen: Fingerprint): Promise<number> {
  const before = await lstat(file.path);
  const plain = plainOf(file);
  let rejected = null as FileHandle | null;
  let taken = 0;
  async function* repairedLines(): AsyncGenerator<Buffer> {
    const stats = newStats();
    let pending: Buffer[] = [];
    let size = 0;
    const keep = (bytes: Buffer) => {
      pending.push(bytes, NL);
      size += bytes.length + 1;
    };
    const takeOut = async (bytes: Buffer) => {
      rejected ??= await open(rejectedPath(file), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, before.mode & 0o666);
      await rejected.write(Buffer.concat([bytes, NL]));
      taken++;
    };
    const one = async (bytes: Buffer) => {
      const v = judgeLine(bytes);
      if (v.ok) keep(bytes);
      else if (v.problem === 'invalid_utf8' && v.salvaged) keep(v.salvaged);
      else if (v.problem === 'not_json' && v.record) {
        await takeOut(bytes.subarray(0, bytes.length - v.record.length));
        keep(v.record);
      } else await takeOut(bytes);
    };
    for await (const batch of lineBatches(openSource(file.path), stats)) {
      for (const line of batch) await one(line.bytes);
      if (size >= BLOCK) {
        yield Buffer.concat(pending, size);
        pending = [];
        size = 0;
      }
    }
    if (stats.torn) await one(stats.torn.bytes);
    if (size) yield Buffer.concat(pending, size);
    // The lines taken out are safe on disk before the original is replaced.
    await rejected?.sync();
  }
  /** A generation-0 document can only lose its byte-order mark; every other byte stays. */
  async function* documentWithoutBom(): AsyncGenerator<Buffer> {
    let first = true;
    for await (const chunk of openSource(file.path)) {
      yield first && chunk.subarray(0, 3).equals(BOM) ? chunk.subarray(3) : chunk;
      first = false;
    }
  }
  const repaired = file.form === 'json' ? documentWithoutBom() : repairedLines();
  try {
    const mode = before.mode & 0o7777;
    if (!file.compressed) {
      // Compare and swap: a file that changed meanwhile keeps its bytes, and nothing replaces it.
      await writeAtomic(plain, repaired, { mode, mtime: mtimeOf(file.path), check: () => assertUnchanged(file.path, seen, 'repaired') });
    } else {
      // Compressed the way Codex compresses, under the same name; the plain file exists only meanwhile.
      await writeAtomic(plain, repaired, { mode, mtime: mtimeOf(file.path), exclusive: true });
      try {
        await compressFile(plain, { replacing: seen });
      } catch (err) {
        await unlink(plain).catch(() => {});
        throw err;
      }
    }
  } finally {
    await rejected?.close();
  }
  return taken;
}

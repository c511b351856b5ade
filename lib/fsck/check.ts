// Checking session files for the damage that makes Codex lose or refuse a session: a torn write, a
// byte-order mark, invalid UTF-8, lines that are not JSON, a missing or foreign session_meta, broken
// ordinals, a history_base that points nowhere, a .zst that disagrees with its plain twin, the same
// rollout in two places. Every line is validated (a torn write followed by an append looks like an
// object from outside), but each file is streamed once, in constant memory.
import { isUtf8 } from 'node:buffer';
import { breathe } from '../fs/atomic.js';
import { RolloutError } from '../cli/errors.js';
import type { SessionFile } from '../home/paths.js';
import { lineBatches, newStats, type Line, type LineStats } from '../core/lines.js';
import { generationOf, isBareGeneration, isEnvelope, isObject, parseLine, type Generation, TIMESTAMP } from '../core/record.js';
import { looksLikePath, type Resolver } from '../home/resolve.js';
import { openSession } from '../core/session.js';
import { openSource, STDIN } from '../core/source.js';
import { compareStreams, type Comparison } from '../core/verify.js';

export type ProblemKind =
  | 'torn_line'
  | 'bom'
  | 'invalid_utf8'
  | 'not_json'
  | 'no_session_meta'
  | 'id_mismatch'
  | 'ordinal_gap'
  | 'missing_parent'
  | 'base_past_end'
  | 'base_mismatch'
  | 'zst_mismatch'
  | 'duplicate_id'
  | 'unreadable_zst';

export interface Problem {
  id: string;
  path: string;
  /** 1-based physical line number, or null for a problem of the whole file. */
  line: number | null;
  problem: ProblemKind;
  /** `--repair` can fix it without losing anything. */
  fixable: boolean;
  /** How `--repair` fixes it; null when it cannot. */
  fix: Fix | null;
  detail: string;
}

export type Fix = 'add_newline' | 'drop_bom' | 'replace_bytes' | 'split_line' | 'reject_line' | 'remove_zst';

// ---------------------------------------------------------------------------------------------
// One line.

export type LineVerdict =
  | { ok: true; value: Record<string, any> }
  /** `salvaged`: the line with invalid bytes replaced by U+FFFD, when that is a JSON object. */
  | { ok: false; problem: 'invalid_utf8'; salvaged: Buffer | null; value?: Record<string, any> }
  /** `record`: a whole record that a torn write ran into (the bytes before it are the torn part). */
  | { ok: false; problem: 'not_json'; record: Buffer | null };

/** Whether a line is one JSON object, and if only its bytes are wrong, what it would be with them replaced. */
export function judgeLine(bytes: Buffer): LineVerdict {
  if (!isUtf8(bytes)) {
    // The WHATWG decoder replaces each invalid sequence with U+FFFD, as Rust's from_utf8_lossy does.
    const text = bytes.toString('utf8');
    const value = parseObject(text);
    return value ? { ok: false, problem: 'invalid_utf8', salvaged: Buffer.from(text), value } : { ok: false, problem: 'invalid_utf8', salvaged: null };
  }
  const value = parseObject(bytes.toString('utf8'));
  return value ? { ok: true, value } : { ok: false, problem: 'not_json', record: mergedRecord(bytes) };
}

/**
 * Codex before July 2026 appended after a torn write without starting a new line, so the torn
 * fragment and the next record became one line, and Codex lost both. The record is the longest
 * tail of the line that opens like a record and parses whole.
 */
function mergedRecord(bytes: Buffer): Buffer | null {
  for (let at = bytes.indexOf(TIMESTAMP, 1); at !== -1; at = bytes.indexOf(TIMESTAMP, at + 1)) {
    const tail = bytes.subarray(at);
    if (isUtf8(tail) && parseObject(tail.toString('utf8'))) return tail;
  }
  return null;
}

function parseObject(text: string): Record<string, any> | null {
  try {
    const v = JSON.parse(text);
    return isObject(v) ? v : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// One file.

interface Ctx {
  file: SessionFile;
  id: string;
  out: Problem[];
}

function add(ctx: Ctx, problem: ProblemKind, line: number | null, fix: Fix | null, detail: string, path = ctx.file.path): void {
  ctx.out.push({ id: ctx.id, path, line, problem, fixable: fix !== null, fix, detail });
}

/** Shows a few bytes of a bad line, printable ASCII as is, the rest as \xNN. */
export function excerpt(bytes: Buffer, max = 40): string {
  let s = '';
  for (const b of bytes.subarray(0, max)) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return bytes.length > max ? `${s}...` : s;
}

/** Every problem of one session file (the duplicate check, which needs the whole home, is apart). */
export async function checkFile(file: SessionFile, resolver: Resolver): Promise<Problem[]> {
  const ctx: Ctx = { file, id: file.name.threadId, out: [] };
  if (file.form === 'json') await checkDocument(ctx);
  else {
    try {
      await checkLines(ctx, resolver);
    } catch (err) {
      if (!(err instanceof RolloutError) || !/corrupt zstd data/.test(err.message)) throw err;
      add(ctx, 'unreadable_zst', null, null, `${err.message}; the lines before the damage are readable`);
    }
    if (file.files.length > 1) await checkTwin(ctx, file.files[0]!, file.files[1]!);
  }
  return ctx.out;
}

/** Generation 0: one pretty-printed JSON document (Codex no longer reads these; only damage is reported). */
async function checkDocument(ctx: Ctx): Promise<void> {
  try {
    const s = await openSession(ctx.file.path, { form: 'json' });
    if (s.stats.bom) add(ctx, 'bom', 1, 'drop_bom', 'a byte-order mark before the document');
    const id = isObject(s.first) && isObject(s.first.session) ? String(s.first.session.id ?? '').toLowerCase() : '';
    if (ctx.file.name.threadId && id && id !== ctx.file.name.threadId) {
      add(ctx, 'id_mismatch', 1, null, `the document's session id is ${id}, the file name says ${ctx.file.name.threadId}`);
    }
  } catch (err) {
    if (!(err instanceof RolloutError)) throw err;
    add(ctx, 'not_json', null, null, err.message);
  }
}

async function checkLines(ctx: Ctx, resolver: Resolver): Promise<void> {
  const stats = newStats();
  let generation: Generation | null;
  let first = true;
  let ordinals: OrdinalCheck | null = null;
  // Reused read buffers (nothing here keeps a line past its batch): a fresh megabyte per read was
  // over 100 MB of garbage at the peak of a check of 10,000 sessions.
  for await (const batch of lineBatches(openSource(ctx.file.path, { transient: true }), stats, { transient: true })) {
    for (const line of batch) {
      const verdict = judgeLine(line.bytes);
      if (!verdict.ok) reportLine(ctx, line, verdict);
      const value = verdict.ok ? verdict.value : verdict.problem === 'invalid_utf8' ? verdict.value : undefined;
      if (first) {
        first = false;
        if (stats.bom) add(ctx, 'bom', 1, 'drop_bom', 'the file starts with a UTF-8 byte-order mark, which hides the session_meta from Codex');
        generation = generationOf(value, ctx.file.form);
        await checkHead(ctx, value, generation, resolver);
        if (generation === 'E') ordinals = new OrdinalCheck(ctx, value!);
        continue;
      }
      if (ordinals) {
        if (value) ordinals.next(line, value);
        else ordinals.rejected++;
      }
    }
  }
  if (first && stats.bom) add(ctx, 'bom', 1, 'drop_bom', 'the file starts with a UTF-8 byte-order mark');
  if (stats.torn) reportTorn(ctx, stats);
  if (first && !stats.torn) add(ctx, 'no_session_meta', null, null, 'the file holds no lines');
}

function reportLine(ctx: Ctx, line: Line, verdict: Exclude<LineVerdict, { ok: true }>): void {
  if (verdict.problem === 'invalid_utf8') {
    const how = verdict.salvaged
      ? 'repair replaces the bad bytes with U+FFFD'
      : 'not JSON even with the bad bytes replaced; repair moves it to the .rejected file';
    add(
      ctx,
      'invalid_utf8',
      line.no,
      verdict.salvaged ? 'replace_bytes' : 'reject_line',
      `invalid UTF-8 at byte ${line.offset + firstBadByte(line.bytes)} (${how})`,
    );
  } else {
    const torn = verdict.record ? line.bytes.length - verdict.record.length : 0;
    if (torn)
      add(
        ctx,
        'not_json',
        line.no,
        'split_line',
        `a torn write of ${torn} bytes ran into a whole record: ${excerpt(line.bytes)} (repair keeps the record and moves the torn part to the .rejected file)`,
      );
    else add(ctx, 'not_json', line.no, 'reject_line', `not a JSON object: ${excerpt(line.bytes)} (repair moves it to the .rejected file)`);
  }
}

function reportTorn(ctx: Ctx, stats: LineStats): void {
  const torn = stats.torn!;
  const complete = judgeLine(torn.bytes).ok;
  add(
    ctx,
    'torn_line',
    torn.no,
    complete ? 'add_newline' : 'reject_line',
    complete
      ? `the last line is complete but has no newline (repair adds one)`
      : `the last line was cut off after ${torn.bytes.length} bytes: ${excerpt(torn.bytes)} (repair moves it to the .rejected file)`,
  );
}

/** Offset of the first byte of the first invalid UTF-8 sequence in a line known to have one. */
function firstBadByte(bytes: Buffer): number {
  // Decoding replaces each bad sequence with U+FFFD and leaves the good bytes as they were, so the
  // text before a replacement re-encodes to exactly the bytes before it; a U+FFFD that was in the
  // line all along reads back as its own three bytes and is passed over.
  const text = bytes.toString('utf8');
  for (let i = text.indexOf('\ufffd'); i !== -1; i = text.indexOf('\ufffd', i + 1)) {
    const at = Buffer.byteLength(text.slice(0, i));
    if (!(bytes[at] === 0xef && bytes[at + 1] === 0xbf && bytes[at + 2] === 0xbd)) return at;
  }
  return 0;
}

async function checkHead(ctx: Ctx, value: Record<string, any> | undefined, generation: Generation | null, resolver: Resolver): Promise<void> {
  if (isBareGeneration(generation)) {
    // 2025 bare-line files have a bare meta first; Codex cannot read them, but they are not damaged.
    const id = String(value!.id ?? '').toLowerCase();
    if (ctx.file.name.threadId && id !== ctx.file.name.threadId) {
      add(ctx, 'id_mismatch', 1, null, `the meta's id is ${id}, the file name says ${ctx.file.name.threadId}`);
    }
    return;
  }
  if (!isEnvelope(value) || value.type !== 'session_meta' || !isObject(value.payload) || typeof value.payload.id !== 'string') {
    const what = value === undefined ? 'is not JSON' : isEnvelope(value) ? `is a ${value.type}` : 'is not a rollout record';
    add(ctx, 'no_session_meta', 1, null, `the first line ${what}, not a session_meta: Codex cannot resume or list this file`);
    return;
  }
  const meta = value.payload;
  const id = meta.id.toLowerCase();
  if (!ctx.id) ctx.id = id;
  else if (id !== ctx.file.name.threadId) {
    add(ctx, 'id_mismatch', 1, null, `session_meta.id is ${id}, the file name says ${ctx.file.name.threadId}`);
  }
  if (isObject(meta.history_base)) await checkBase(ctx, meta.history_base, resolver);
}

/** A paginated file's ordinals: the head's, then one more per record; a gap only where lines were lost. */
class OrdinalCheck {
  private prev: number;
  /** Lines since the last good one that are not JSON: each may have been a record. */
  rejected = 0;

  constructor(
    private readonly ctx: Ctx,
    head: Record<string, any>,
  ) {
    const base = head.payload?.history_base;
    const want = isObject(base) ? Number(base.end_ordinal_exclusive) : 0;
    this.prev = typeof head.ordinal === 'number' ? head.ordinal : want;
    if (typeof head.ordinal !== 'number') add(ctx, 'ordinal_gap', 1, null, 'the session_meta of a paginated file has no ordinal');
    else if (head.ordinal !== want) {
      add(
        ctx,
        'ordinal_gap',
        1,
        null,
        `the session_meta's ordinal is ${head.ordinal}, but ${isObject(base) ? 'history_base.end_ordinal_exclusive' : 'a file without history_base starts at'} ${want}`,
      );
    }
  }

  next(line: Line, value: Record<string, any>): void {
    const ord = value.ordinal;
    if (typeof ord !== 'number') {
      add(this.ctx, 'ordinal_gap', line.no, null, 'a line of a paginated file without an ordinal');
    } else if (ord !== this.prev + 1) {
      // Codex tolerates a gap that lines it had to reject could have filled.
      const covered = ord > this.prev + 1 && ord <= this.prev + 1 + this.rejected;
      if (!covered) add(this.ctx, 'ordinal_gap', line.no, null, `ordinal ${ord} follows ${this.prev}`);
    }
    if (typeof ord === 'number') this.prev = ord;
    this.rejected = 0;
  }
}

/**
 * `history_base` must name a rollout of this home, and cut it at the end of a line within its
 * (decompressed) length, right after the line whose ordinal is one less than `end_ordinal_exclusive`.
 */
async function checkBase(ctx: Ctx, base: Record<string, any>, resolver: Resolver): Promise<void> {
  const parentId = String(base.thread_id ?? '').toLowerCase();
  const parent = parentId ? await resolver.byRolloutId(parentId) : null;
  if (!parent) {
    add(
      ctx,
      'missing_parent',
      1,
      null,
      `history_base names rollout ${parentId || '(none)'}, which is not in this home: the history before it is lost to Codex`,
    );
    return;
  }
  const offset = Number(base.end_byte_offset);
  const ordinal = Number(base.end_ordinal_exclusive);
  if (!Number.isSafeInteger(offset) || offset < 0) {
    add(ctx, 'base_mismatch', 1, null, `history_base.end_byte_offset is not a byte offset: ${JSON.stringify(base.end_byte_offset)}`);
    return;
  }
  if (offset === 0) return;
  const stats = newStats();
  for await (const batch of lineBatches(openSource(parent.path, { transient: true }), stats, { transient: true })) {
    for (const line of batch) {
      if (line.end < offset) continue;
      if (line.end > offset) {
        add(ctx, 'base_mismatch', 1, null, `history_base.end_byte_offset ${offset} falls inside line ${line.no} of ${parent.path}`);
        return;
      }
      const v = parseLine(line.bytes);
      const got = isObject(v) ? v.ordinal : undefined;
      if (typeof got === 'number' && Number.isSafeInteger(ordinal) && got !== ordinal - 1) {
        add(ctx, 'base_mismatch', 1, null, `history_base cuts ${parent.path} after ordinal ${got}, but end_ordinal_exclusive is ${ordinal}`);
      }
      return;
    }
  }
  add(
    ctx,
    'base_past_end',
    1,
    null,
    `history_base.end_byte_offset ${offset} is past the end of ${parent.path} (${completeLength(stats)} bytes of whole lines)`,
  );
}

const completeLength = (stats: LineStats) => (stats.torn ? stats.torn.offset : stats.bytes);

/**
 * A plain file and its `.zst` should hold the same bytes; Codex reads the plain one. A `.zst` that
 * holds a prefix of the plain file is stale (the session was resumed and appended to since) and a
 * `.zst` that cannot be read is useless beside a good plain file: both are safe to remove.
 */
async function checkTwin(ctx: Ctx, plain: string, zst: string): Promise<void> {
  let cmp: Comparison;
  try {
    cmp = await compareStreams(openSource(plain), openSource(zst));
  } catch (err) {
    if (!(err instanceof RolloutError) || !/corrupt zstd data/.test(err.message)) throw err;
    add(ctx, 'unreadable_zst', null, 'remove_zst', `${err.message}; the plain file beside it is what Codex reads (repair removes the .zst)`, zst);
    return;
  }
  if (cmp.same) return;
  if (cmp.longer === 'a' && cmp.at === cmp.bLength) {
    add(ctx, 'zst_mismatch', null, 'remove_zst', `the .zst holds the first ${cmp.at} bytes of the plain file only: it is stale (repair removes it)`, zst);
  } else {
    add(ctx, 'zst_mismatch', null, null, `the .zst and the plain file differ from byte ${cmp.at} on; Codex reads the plain file`, zst);
  }
}

// ---------------------------------------------------------------------------------------------
// The whole home.

/**
 * The same rollout id in two logical files (both roots, or an old flat name and the dated tree):
 * Codex would show one and hide the other. A reverted thread's revisions share a thread id but have
 * their own rollout ids, so they are no duplicates.
 */
export function duplicates(all: SessionFile[]): Map<string, Problem> {
  const byRollout = new Map<string, SessionFile[]>();
  for (const f of all) {
    if (!f.name.rolloutId) continue;
    const group = byRollout.get(f.name.rolloutId);
    if (group) group.push(f);
    else byRollout.set(f.name.rolloutId, [f]);
  }
  const out = new Map<string, Problem>();
  for (const [rolloutId, group] of byRollout) {
    if (group.length < 2) continue;
    for (const f of group) {
      const others = group.filter((g) => g !== f).map((g) => g.path);
      out.set(f.path, {
        id: f.name.threadId,
        path: f.path,
        line: null,
        problem: 'duplicate_id',
        fixable: false,
        fix: null,
        detail: `rollout ${rolloutId} is also in ${others.join(', ')}`,
      });
    }
  }
  return out;
}

export interface FileReport {
  file: SessionFile;
  problems: Problem[];
  /** Why the file could not be checked (unreadable, vanished); the run goes on. */
  error?: unknown;
}

/** Checks `files` (every session file of the home when not given), one report per file, in order. */
export async function* fsck(resolver: Resolver, files?: SessionFile[]): AsyncGenerator<FileReport> {
  const all = await resolver.all();
  const dups = duplicates(all);
  for (const file of files ?? all) {
    await breathe();
    try {
      const problems = await checkFile(file, resolver);
      const dup = dups.get(file.path);
      if (dup) problems.push(dup);
      yield { file, problems };
    } catch (error) {
      yield { file, problems: [], error };
    }
  }
}

/**
 * The files a reference stands for: a path is that file; an id or name is every file of the thread
 * (each revision of a reverted thread, a copy in the other root); `-` is stdin.
 */
export async function filesOf(resolver: Resolver, ref: string): Promise<SessionFile[]> {
  const target = await resolver.resolve(ref);
  if (target.stdin) return [stdinFile()];
  const isPath = looksLikePath(ref);
  const thread = target.file.name.threadId;
  if (isPath || !thread) return [target.file];
  return (await resolver.all()).filter((f) => f.name.threadId === thread);
}

/** Stdin, described as a file without a name: checked line by line, never repaired. */
function stdinFile(): SessionFile {
  const name = { stamp: '', threadId: '', rolloutId: '', compressed: false, json: false };
  return { path: STDIN, files: [STDIN], root: 'sessions', name, compressed: false, form: 'nested', size: 0, mtimeMs: 0, ino: 0 };
}

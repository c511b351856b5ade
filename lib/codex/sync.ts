// Codex's own `threads` table (state_5.sqlite) kept in step with the rollout files: a row derived
// from a file the way Codex's backfill derives it (spec 7.3, checked against what 0.169 writes), the
// disagreements between the table and the files, and the one transaction that mends them.
//
// The rollout index's FileScan (lib/index/scan.ts) is not reused: Codex's row needs fields it does not
// keep (approval, sandbox as a permission profile, thread_source, agent fields, memory mode, a first
// user message distinct from the title), Codex takes title and first message from user-message
// events only where the index also reads response items, and the scan parses every item for search.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { join } from 'node:path';
import { RolloutError, warn } from '../cli/errors.js';
import { nameIn, openStateDb, readNames } from '../home/names.js';
import { backupStateDb, openStateDbForWrite } from './state.js';
import { configPath, currentFile, discover, plainPath, stampTime, stateDbPath, zstPath, type Home, type SessionFile } from '../home/paths.js';
import { isEnvelope, isObject, parseLine, peekType, type Envelope, type SessionMetaPayload } from '../core/record.js';
import { openSession } from '../core/session.js';
import { titleFrom } from '../core/turns.js';

import type { Database } from '../core/sqlite.js';
export type ThreadRow = Record<string, string | number | null>;

/** Why Codex cannot read a file (so it gets no row), or null when it can. */
export type Refusal = string;

// ---- Deriving a row from a file.

const GENERATION_REFUSALS: Record<string, string> = {
  '0': "generation 0 (the TypeScript CLI's .json): Codex cannot read it",
  A: 'generation A (bare lines): Codex cannot read it',
  B: 'generation B (bare lines): Codex cannot read it',
  C: 'generation C (bare lines): Codex cannot read it',
};
const HISTORY_MODES = new Set(['legacy', 'paginated']);
/** The event payloads a row needs; every other line is passed over unparsed. */
const EVENTS = new Set(['token_count', 'user_message', 'item_completed']);
const IMAGE_PREVIEW = '[Image]';

/** What a `turn_context` without a decodable sandbox gives when the file has none at all. */
const READ_ONLY = (network: boolean) => managed([ROOT_READ], network);
const ROOT_READ = { path: { type: 'special', value: { kind: 'root' } }, access: 'read' };

function managed(entries: unknown[], network: boolean): string {
  return JSON.stringify({ type: 'managed', file_system: { type: 'restricted', entries }, network: network ? 'enabled' : 'restricted' });
}

const special = (kind: string, subpath?: string) => ({ type: 'special', value: subpath ? { kind, subpath } : { kind } });
const readIfThere = (path: unknown) => ({ path, access: 'read', missing_path_behavior: 'skip' });

/**
 * A legacy `sandbox_policy` as the permission profile Codex 0.169 stores for it (observed: Codex
 * converts old policies when it backfills). Null for a shape Codex cannot decode, which makes it
 * skip the whole `turn_context`.
 */
export function permissionProfileOf(policy: unknown, cwd: string): string | null {
  if (!isObject(policy)) return null;
  const network = policy.network_access === true || policy.network_access === 'enabled';
  switch (policy.type) {
    case 'danger-full-access':
      return JSON.stringify({ type: 'disabled' });
    case 'read-only':
      return READ_ONLY(network);
    case 'external-sandbox':
      return JSON.stringify({ type: 'external', network: network ? 'enabled' : 'restricted' });
    case 'workspace-write': {
      const roots = Array.isArray(policy.writable_roots) ? policy.writable_roots.filter((r: unknown) => typeof r === 'string') : [];
      const entries: unknown[] = [ROOT_READ, { path: special('project_roots'), access: 'write' }];
      if (policy.exclude_slash_tmp !== true) entries.push({ path: special('slash_tmp'), access: 'write' });
      if (policy.exclude_tmpdir_env_var !== true) entries.push({ path: special('tmpdir'), access: 'write' });
      for (const root of roots) entries.push({ path: { type: 'path', path: root }, access: 'write' });
      for (const sub of ['.git', '.agents', '.codex', '.aws']) entries.push(readIfThere(special('project_roots', sub)));
      if (cwd) entries.push(readIfThere({ type: 'path', path: join(cwd, '.codex') }));
      return managed(entries, network);
    }
  }
  return null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/** The text and images of a user message, as Codex previews it: prefix stripped, else `[Image]`. */
function preview(text: string, images: boolean): { title: string; first: string | null } {
  const title = titleFrom(text);
  return { title, first: title || (images ? IMAGE_PREVIEW : null) };
}

/** What a user-message record offers for title and preview; null when it is not one. */
function userMessageOf(p: Record<string, any>): { title: string; first: string | null } | null {
  if (p.type === 'user_message' && typeof p.message === 'string') {
    const images = (Array.isArray(p.images) && p.images.length > 0) || (Array.isArray(p.local_images) && p.local_images.length > 0);
    return preview(p.message, images);
  }
  if (p.type === 'item_completed' && isObject(p.item) && p.item.type === 'UserMessage') {
    const parts = Array.isArray(p.item.content) ? p.item.content.filter(isObject) : [];
    const text = parts
      .filter((c: any) => c.type === 'text' && typeof c.text === 'string')
      .map((c: any) => c.text)
      .join('\n');
    return preview(
      text,
      parts.some((c: any) => c.type === 'image' || c.type === 'localImage' || c.type === 'local_image'),
    );
  }
  return null;
}

/** The columns a record that does not name them leaves as they were: the constructor sets them all. */
type Kept = 'cli_version' | 'cwd' | 'originator' | 'thread_source' | 'agent_nickname' | 'agent_role' | 'agent_path' | 'memory_mode' | 'model';

/** Accumulates a `threads` row from a file's records, as Codex's extractor does. */
class Derivation {
  readonly row: ThreadRow & Record<Kept, string | number | null>;
  private title = '';
  private first: string | null = null;

  constructor(
    private readonly id: string,
    file: SessionFile,
    meta: SessionMetaPayload,
    defaultProvider: string,
  ) {
    const created = Date.parse(String(meta.timestamp ?? ''));
    const createdMs = Number.isNaN(created) ? stampTime(file.name.stamp) : created;
    const archived = file.root === 'archived_sessions';
    const updatedAt = Math.floor(file.mtimeMs / 1000);
    this.row = {
      id,
      rollout_path: file.path,
      created_at: Math.floor(createdMs / 1000),
      updated_at: updatedAt,
      created_at_ms: createdMs,
      updated_at_ms: file.mtimeMs,
      recency_at: updatedAt,
      recency_at_ms: file.mtimeMs,
      source: 'vscode',
      model_provider: defaultProvider,
      cwd: '',
      title: '',
      first_user_message: '',
      preview: '',
      sandbox_policy: READ_ONLY(false),
      approval_mode: 'on-request',
      tokens_used: 0,
      has_user_event: 0,
      archived: archived ? 1 : 0,
      archived_at: archived ? updatedAt : null,
      git_sha: null,
      git_branch: null,
      git_origin_url: null,
      cli_version: '',
      agent_nickname: null,
      agent_role: null,
      agent_path: null,
      memory_mode: 'enabled',
      model: null,
      reasoning_effort: null,
      thread_source: null,
      history_mode: str(meta.history_mode) ?? 'legacy',
      originator: null,
      name: null,
      is_pinned: 0,
    };
    this.meta(meta);
  }

  add(env: Envelope): void {
    const p = isObject(env.payload) ? env.payload : {};
    if (env.type === 'session_meta') this.meta(p as SessionMetaPayload);
    else if (env.type === 'turn_context') this.turnContext(p);
    else if (env.type === 'event_msg') {
      if (p.type === 'token_count') {
        // Codex decodes a token_count only with both usages present (an interrupted turn writes info: null).
        const info = p.info;
        const total = Number(info?.total_token_usage?.total_tokens);
        if (isObject(info?.total_token_usage) && isObject(info?.last_token_usage) && Number.isFinite(total)) this.row.tokens_used = Math.max(0, total);
        return;
      }
      const message = userMessageOf(p);
      if (!message) return;
      if (this.first === null) this.first = message.first;
      if (!this.title && message.title) this.title = message.title;
    }
  }

  /** Whether the user-message records can no longer change the row. */
  get haveMessage(): boolean {
    return this.first !== null && this.title !== '';
  }

  finish(): ThreadRow {
    this.row.title = this.title;
    this.row.first_user_message = this.first ?? '';
    this.row.preview = this.first ?? '';
    return this.row;
  }

  /** A session_meta of this thread (later ones, which Codex appends, override); a copied parent's is ignored. */
  private meta(m: SessionMetaPayload): void {
    if (String(m.id).toLowerCase() !== this.id) return;
    const r = this.row;
    if (m.source !== undefined) r.source = typeof m.source === 'string' ? m.source : JSON.stringify(m.source);
    if (typeof m.model_provider === 'string') r.model_provider = m.model_provider;
    r.cli_version = str(m.cli_version) ?? r.cli_version;
    r.cwd = str(m.cwd) ?? r.cwd;
    r.originator = str(m.originator) ?? r.originator;
    r.thread_source = str(m.thread_source) ?? r.thread_source;
    r.agent_nickname = str(m.agent_nickname) ?? r.agent_nickname;
    r.agent_role = str(m.agent_role) ?? r.agent_role;
    r.agent_path = str(m.agent_path) ?? r.agent_path;
    r.memory_mode = str(m.memory_mode) ?? r.memory_mode;
    if (isObject(m.git)) {
      r.git_sha = str(m.git.commit_hash);
      r.git_branch = str(m.git.branch);
      r.git_origin_url = str(m.git.repository_url);
    }
  }

  private turnContext(p: Record<string, any>): void {
    const cwd = str(p.cwd) ?? '';
    const sandbox = isObject(p.permission_profile) ? JSON.stringify(p.permission_profile) : permissionProfileOf(p.sandbox_policy, cwd);
    if (sandbox === null) return;
    const r = this.row;
    if (!r.cwd) r.cwd = cwd;
    r.sandbox_policy = sandbox;
    if (p.approval_policy !== undefined) r.approval_mode = typeof p.approval_policy === 'string' ? p.approval_policy : JSON.stringify(p.approval_policy);
    r.model = str(p.model) ?? r.model;
    r.reasoning_effort = str(p.effort);
  }
}

export interface DeriveOptions {
  /** Codex's configured `model_provider`, for files whose session_meta names none. */
  defaultProvider: string;
}

/**
 * The `threads` row Codex would make from `file`, or why Codex cannot read it. Streams the file;
 * only session_meta, turn_context, token counts and (until they are settled) user messages are
 * parsed.
 */
export async function deriveThread(file: SessionFile, opts: DeriveOptions): Promise<{ row: ThreadRow } | { refused: Refusal }> {
  const session = await openSession(file.path, { form: file.form });
  try {
    const refusal = GENERATION_REFUSALS[session.generation ?? ''];
    if (refusal) return { refused: refusal };
    const first = session.first;
    if (session.stats.bom) return { refused: 'starts with a byte-order mark: Codex cannot read it (rollout-fsck --repair)' };
    if (!isEnvelope(first) || first.type !== 'session_meta' || !isObject(first.payload) || typeof first.payload.id !== 'string') {
      return { refused: 'the first line is not a session_meta: Codex cannot read it' };
    }
    const meta = first.payload as SessionMetaPayload;
    const id = meta.id.toLowerCase();
    if (file.name.threadId && id !== file.name.threadId) return { refused: `its session_meta id ${id} does not match the file name` };
    if (meta.history_mode !== undefined && !HISTORY_MODES.has(String(meta.history_mode))) {
      return { refused: `unknown history_mode '${meta.history_mode}': Codex cannot read it` };
    }
    const d = new Derivation(id, file, meta, opts.defaultProvider);
    let firstLine = true;
    for await (const batch of session.batches) {
      for (const line of batch) {
        if (firstLine) {
          firstLine = false;
          continue;
        }
        if (!isUtf8(line.bytes)) return { refused: `invalid UTF-8 on line ${line.no}: Codex cannot read it (rollout-fsck --repair)` };
        const info = peekType(line.bytes);
        if (info && !wanted(info.type!, info.payloadType, d.haveMessage)) continue;
        const env = parseLine(line.bytes);
        if (isEnvelope(env)) d.add(env);
      }
    }
    return { row: d.finish() };
  } finally {
    await session.close();
  }
}

function wanted(type: string, payloadType: string | undefined, haveMessage: boolean): boolean {
  if (type === 'session_meta' || type === 'turn_context') return true;
  if (type !== 'event_msg') return false;
  if (payloadType === undefined) return true;
  return payloadType === 'token_count' || (!haveMessage && EVENTS.has(payloadType));
}

/** Codex's default `model_provider` from its `config.toml` (top-level key), else `openai`. */
export function defaultProvider(home: Home): string {
  const path = configPath(home);
  if (!existsSync(path)) return 'openai';
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (/^\s*\[/.test(line)) break;
    const m = /^\s*model_provider\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(line);
    if (m) return m[1] ?? m[2]!;
  }
  return 'openai';
}

// ---- Comparing the table with the files.

export interface RowRef {
  id: string;
  rollout_path: string;
  archived: number;
  /** Undefined when the table has no `name` column (before 0.169's migration 0041). */
  name?: string | null;
}

/** One disagreement between Codex's table and the files (`--check --codex` prints these). */
export interface CodexDrift {
  drift: 'missing' | 'moved' | 'archived' | 'name' | 'gone' | 'unreadable';
  id: string;
  /** The file (for `gone`: none). */
  path?: string;
  /** The row's `rollout_path`, when the row points elsewhere or at nothing. */
  from?: string;
  archived?: boolean;
  /** For `name`: the name `session_index.jsonl` gives (Codex's rebuilds lose it). */
  name?: string;
  reason?: string;
}

/** What a run will do: the drifts, with the rows to insert derived already. */
export interface CodexPlan {
  drifts: CodexDrift[];
  inserts: ThreadRow[];
  unchanged: number;
  /** Files that could not be read at all (I/O, a broken .zst): reported, skipped. */
  errors: Array<{ path: string; message: string }>;
}

function readRows(db: Database): RowRef[] {
  const cols = new Set((db.prepare('PRAGMA table_info(threads)').all() as { name: string }[]).map((c) => c.name));
  if (!cols.has('id') || !cols.has('rollout_path')) throw new RolloutError("Codex's state DB has no threads table", { file: db.name });
  const archived = cols.has('archived') ? 'archived' : '0';
  const name = cols.has('name') ? ', name' : '';
  return db.prepare(`SELECT id, rollout_path, ${archived} AS archived${name} FROM threads`).all() as RowRef[];
}

/**
 * Compares Codex's `threads` rows with the files of the home and derives the rows Codex lacks.
 * Reads only; throws when there is no state DB to compare with.
 */
export async function planCodexSync(home: Home): Promise<CodexPlan> {
  const db = openStateDb(home);
  if (!db) throw new RolloutError('Codex has no state DB here yet (run Codex once to create it)', { file: stateDbPath(home) });
  let rows: RowRef[];
  try {
    rows = readRows(db);
  } finally {
    db.close();
  }
  const byThread = new Map<string, SessionFile[]>();
  for (const f of await discover(home)) {
    const list = byThread.get(f.name.threadId);
    if (list) list.push(f);
    else byThread.set(f.name.threadId, [f]);
  }
  const plan: CodexPlan = { drifts: [], inserts: [], unchanged: 0, errors: [] };
  const names = await readNames(home);
  const missing: SessionFile[] = [];
  const rowOf = new Map(rows.map((r) => [r.id.toLowerCase(), r]));

  for (const [id, files] of byThread) {
    const row = rowOf.get(id);
    if (!row) {
      missing.push(currentFile(files));
      continue;
    }
    const target = files.find((f) => f.files.some((p) => plainPath(p) === plainPath(row.rollout_path)));
    if (!target) {
      // The row points at no file of this home: right if that file is still there (another place), else re-pointed.
      if (existsSync(row.rollout_path) || existsSync(zstPath(row.rollout_path))) plan.unchanged++;
      else {
        const to = currentFile(files);
        plan.drifts.push({ drift: 'moved', id, path: to.path, from: row.rollout_path, archived: to.root === 'archived_sessions' });
      }
      continue;
    }
    const archived = target.root === 'archived_sessions';
    // The log's name, as Codex's thread/name/set wrote it both there and in the row.
    const name = names.log.get(id)?.name;
    if (Boolean(row.archived) !== archived) plan.drifts.push({ drift: 'archived', id, path: target.path, archived });
    else if (name !== undefined && row.name !== undefined && row.name !== name) plan.drifts.push({ drift: 'name', id, path: target.path, name });
    else plan.unchanged++;
  }
  for (const row of rows) {
    const id = row.id.toLowerCase();
    if (byThread.has(id)) continue;
    if (existsSync(row.rollout_path) || existsSync(zstPath(row.rollout_path)) || existsSync(plainPath(row.rollout_path))) plan.unchanged++;
    else plan.drifts.push({ drift: 'gone', id, from: row.rollout_path });
  }

  const provider = defaultProvider(home);
  for (const file of missing) {
    try {
      const got = await deriveThread(file, { defaultProvider: provider });
      if ('refused' in got) {
        plan.drifts.push({ drift: 'unreadable', id: file.name.threadId, path: file.path, reason: got.refused });
        continue;
      }
      got.row.name = nameIn(names, String(got.row.id));
      plan.inserts.push(got.row);
      plan.drifts.push({ drift: 'missing', id: String(got.row.id), path: file.path });
    } catch (err) {
      plan.errors.push({ path: file.path, message: (err as Error).message });
    }
  }
  plan.drifts.sort((a, b) => (a.path ?? a.from ?? '').localeCompare(b.path ?? b.from ?? ''));
  return plan;
}

// ---- Writing.

export interface CodexAction {
  action: 'insert' | 'fix' | 'remove';
  id: string;
  path?: string;
  from?: string;
  archived?: boolean;
  name?: string;
}

export interface CodexSummary {
  inserted: number;
  fixed: number;
  removed: number;
  unchanged: number;
  unreadable: number;
  /** Rows Codex itself changed between the comparison and the write; left as Codex made them. */
  raced: number;
  backup: string | null;
}

interface Column {
  name: string;
  notnull: number;
  dflt_value: unknown;
  pk: number;
}

/**
 * Mends Codex's table as `plan` says: after a backup of the DB, in one IMMEDIATE transaction with
 * Codex's busy timeout. Each write is guarded by what the row was when compared, so a row that a
 * running Codex changed meanwhile is left as Codex made it. Nothing is written (and no backup made)
 * when the plan has nothing to do.
 */
export async function applyCodexSync(home: Home, plan: CodexPlan, onAction: (a: CodexAction) => void = () => {}): Promise<CodexSummary> {
  const summary: CodexSummary = {
    inserted: 0,
    fixed: 0,
    removed: 0,
    unchanged: plan.unchanged,
    unreadable: plan.drifts.filter((d) => d.drift === 'unreadable').length,
    raced: 0,
    backup: null,
  };
  const work = plan.drifts.filter((d) => d.drift !== 'unreadable');
  if (!work.length) return summary;
  const db = openStateDbForWrite(home);
  if (!db) throw new RolloutError('Codex has no state DB here any more', { file: stateDbPath(home) });
  try {
    const columns = db.prepare('PRAGMA table_info(threads)').all() as Column[];
    const have = new Set(columns.map((c) => c.name));
    const inserts = new Map(plan.inserts.map((r) => [String(r.id), r]));
    if (inserts.size) {
      const unknown = columns.filter((c) => c.notnull && c.dflt_value === null && !c.pk && !(c.name in plan.inserts[0]!));
      if (unknown.length)
        throw new RolloutError(`Codex's threads table requires columns this version does not know: ${unknown.map((c) => c.name).join(', ')}`, {
          file: db.name,
        });
    }
    summary.backup = await backupStateDb(db);
    // Codex's schema declares its cascades; with them on, a removed row takes its dependants as Codex's own delete would.
    db.pragma('foreign_keys = ON');
    const taken = have.has('updated_at_ms') ? db.prepare('SELECT 1 FROM threads WHERE updated_at_ms = ?').pluck() : null;
    const rowNow = db.prepare(`SELECT rollout_path, ${have.has('archived') ? 'archived' : '0'} AS archived FROM threads WHERE id = ?`);
    const actions: CodexAction[] = [];

    db.transaction(() => {
      for (const d of work) {
        if (d.drift === 'missing') {
          const row = { ...inserts.get(d.id)! };
          // Codex keeps updated_at_ms unique (its pages are anchored on it): a tie moves up a millisecond.
          if (taken) while (taken.get(row.updated_at_ms)) row.updated_at_ms = Number(row.updated_at_ms) + 1;
          if (row.recency_at_ms !== null) row.recency_at_ms = row.updated_at_ms!;
          const cols = Object.keys(row).filter((c) => have.has(c));
          const done = db
            .prepare(`INSERT INTO threads (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')}) ON CONFLICT(id) DO NOTHING`)
            .run(Object.fromEntries(cols.map((c) => [c, row[c]])));
          if (done.changes) actions.push({ action: 'insert', id: d.id, path: d.path });
          else summary.raced++;
          continue;
        }
        const now = rowNow.get(d.id) as { rollout_path: string; archived: number } | undefined;
        if (d.drift === 'name') {
          if (now && db.prepare('UPDATE threads SET name = ? WHERE id = ? AND rollout_path = ?').run(d.name, d.id, now.rollout_path).changes) {
            actions.push({ action: 'fix', id: d.id, path: d.path, name: d.name });
          } else summary.raced++;
          continue;
        }
        if (d.drift === 'gone') {
          if (now && now.rollout_path === d.from && db.prepare('DELETE FROM threads WHERE id = ? AND rollout_path = ?').run(d.id, d.from).changes) {
            actions.push({ action: 'remove', id: d.id, from: d.from });
          } else summary.raced++;
          continue;
        }
        // moved or archived: the file is where it is; the row learns its path and archive state.
        const expected = d.drift === 'moved' ? d.from : now?.rollout_path;
        if (!now || now.rollout_path !== expected) {
          summary.raced++;
          continue;
        }
        const set: Record<string, unknown> = { rollout_path: d.drift === 'moved' ? d.path : now.rollout_path };
        if (have.has('archived') && Boolean(now.archived) !== d.archived) {
          set.archived = d.archived ? 1 : 0;
          if (have.has('archived_at')) set.archived_at = d.archived ? archivedAt(d.path!) : null;
        }
        const names = Object.keys(set);
        db.prepare(`UPDATE threads SET ${names.map((c) => `"${c}" = @${c}`).join(', ')} WHERE id = @id AND rollout_path = @expected`).run({
          ...set,
          id: d.id,
          expected,
        });
        actions.push({ action: 'fix', id: d.id, path: d.path, ...(d.drift === 'moved' ? { from: d.from } : {}), archived: d.archived });
      }
    }).immediate();

    for (const a of actions) {
      if (a.action === 'insert') summary.inserted++;
      else if (a.action === 'fix') summary.fixed++;
      else summary.removed++;
      onAction(a);
    }
    return summary;
  } finally {
    db.close();
  }
}

/** Codex's backfill stamps an archived thread with its file's mtime, in seconds. */
function archivedAt(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  return Math.floor((st ? st.mtimeMs : Date.now()) / 1000);
}

/**
 * `rollout-index --codex`: with `check`, emits each disagreement and returns whether there is one to
 * mend (sessions Codex cannot read are shown but are not one); without, mends them, emitting each
 * action and then a summary, and returns whether a file could not be read.
 */
export async function syncCodex(home: Home, opts: { check: boolean }, emit: (value: object) => void): Promise<boolean> {
  const started = Date.now();
  const plan = await planCodexSync(home);
  for (const e of plan.errors) warn(e.message, { file: e.path });
  if (opts.check) {
    for (const d of plan.drifts) emit(d);
    return plan.errors.length > 0 || plan.drifts.some((d) => d.drift !== 'unreadable');
  }
  for (const d of plan.drifts) if (d.drift === 'unreadable') emit({ action: 'skip', id: d.id, path: d.path, reason: d.reason });
  const summary = await applyCodexSync(home, plan, emit);
  emit({ ...summary, ms: Date.now() - started });
  return plan.errors.length > 0;
}

// A row of Codex's own `threads` table (state_5.sqlite) derived from a rollout file the way Codex's
// backfill derives it (spec 7.3, checked against what 0.169 writes).
//
// The rollout index's FileScan (lib/index/scan.ts) is not reused: Codex's row needs fields it does not
// keep (approval, sandbox as a permission profile, thread_source, agent fields, memory mode, a first
// user message distinct from the title), Codex takes title and first message from user-message
// events only where the index also reads response items, and the scan parses every item for search.
import { existsSync, readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { join } from 'node:path';
import { configPath, stampTime, type Home, type SessionFile } from '../home/paths.js';
import { isEnvelope, isObject, parseLine, peekType, type Envelope, type SessionMetaPayload } from '../core/record.js';
import { openSession } from '../core/session.js';
import { titleFrom } from '../core/turns.js';

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
      if (p.type === 'thread_settings_applied') return this.settings(p.thread_settings);
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

  /**
   * A thread_settings_applied (at a fork's head, and at each resume): Codex's row takes the working
   * directory and provider of the last one over the session_meta's (test/interop/FINDINGS.md, 9).
   */
  private settings(s: unknown): void {
    if (!isObject(s)) return;
    this.row.cwd = str(s.cwd) ?? this.row.cwd;
    if (typeof s.model_provider_id === 'string') this.row.model_provider = s.model_provider_id;
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
  return payloadType === 'token_count' || payloadType === 'thread_settings_applied' || (!haveMessage && EVENTS.has(payloadType));
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

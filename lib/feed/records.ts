// What rollout-feed writes: the records of rollout-export's NDJSON (its items), the usage of each
// model response, and a session's facts as the index knows them, each with a record id and a host.
import type { FeedFile } from '../index/query.js';
import type { SessionFacts } from '../items/model.js';

export const FEED_KINDS = ['session', 'turn', 'message', 'reasoning', 'tool_call', 'compaction', 'usage'] as const;
export type FeedKind = (typeof FEED_KINDS)[number];

/**
 * A session's facts, as the index read them when the record was written (written again, same id, as
 * they change): the export's facts that the index keeps, and where the session stands.
 */
export interface SessionRecord extends Omit<SessionFacts, 'history_mode' | 'turns' | 'inherited_turns' | 'rolled_back_turns' | 'compactions' | 'tokens'> {
  /** The rollout file read (the session id, unless a thread has several files). */
  rollout: string;
  history_mode: string | null;
  parent_thread: string | null;
  archived: boolean;
  turns: number;
  /** The thread's token total from its last token count. */
  tokens: number;
}

const iso = (ms: number): string | null => (ms > 0 ? new Date(ms).toISOString() : null);

export function sessionRecord(f: FeedFile): SessionRecord {
  const git = f.git_branch !== null || f.git_sha !== null || f.git_origin_url !== null;
  return {
    kind: 'session',
    session: f.id,
    rollout: f.rollout_id,
    title: f.title,
    name: f.name,
    file: f.path,
    generation: f.generation,
    history_mode: f.history_mode,
    created: iso(f.created_at),
    updated: iso(f.updated_at),
    cwd: f.cwd,
    git: git ? { branch: f.git_branch, commit: f.git_sha, repository: f.git_origin_url } : null,
    model: f.model,
    provider: f.model_provider,
    cli_version: f.cli_version,
    originator: f.originator,
    source: sourceOf(f.source),
    forked_from: f.forked_from_id,
    parent_thread: f.parent_thread_id,
    archived: f.archived === 1,
    turns: f.turns,
    tokens: f.tokens,
  };
}

/** session_meta.source as Codex wrote it: the index keeps an object as its JSON text. */
function sourceOf(s: string | null): unknown {
  if (s === null || !s.startsWith('{')) return s;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return s;
  }
}

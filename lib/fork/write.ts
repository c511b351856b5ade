// rollout-fork's work: a new session made of a source session's history up to (or from) a turn.
// Pass 1 (lib/fork-plan.ts) decides the cut from positions alone; pass 2 streams the kept lines,
// unchanged but for the `ordinal` of paginated lines, behind a new `session_meta`, into an atomic
// write that never replaces an existing file.
import { basename, resolve } from 'node:path';
import { inBlocks, writeAtomic } from '../fs/atomic.js';
import { RolloutError } from '../cli/errors.js';
import { appendThreadName } from '../codex/state.js';
import { mapTurns, planCut, type Cut, type Plan, type TurnMap } from './plan.js';
import { ancestry, copiedHistory, type Segment } from '../home/history.js';
import { newSessionPath, parseRolloutName } from '../home/paths.js';
import { isoMillis, localStamp, uuidv7 } from '../core/ids.js';
import type { Output } from '../cli/output.js';
import { isObject, type SessionMetaPayload } from '../core/record.js';
import type { Resolver, Target } from '../home/resolve.js';
import { metaOf, openSession } from '../core/session.js';
import { spoolStdin } from '../core/source.js';

export interface ForkOptions {
  cut: Cut;
  /** Append Codex's interrupt marker when the kept history ends mid-turn. */
  interrupted: boolean;
  /** Write a Codex-0.169-style referenced fork (`history_base`) instead of copying the history. */
  reference: boolean;
  cwd?: string;
  name?: string;
  /** Write the new rollout here instead of into the home (which is then left alone). */
  stdout?: Output;
  dryRun: boolean;
  /** The rollout index to add the fork to, when it exists (default: lib/index's). */
  index?: string;
  now?: Date;
}

export interface ForkResult {
  id: string;
  path: string | null;
  forked_from_id: string;
  turns: number;
  lines: number;
}

/**
 * What Codex 0.169 puts in the model-visible interrupt marker (core/src/context/turn_aborted.rs),
 * wrapped in `<turn_aborted>` as a user message (spec 6.2).
 */
export const INTERRUPTED_GUIDANCE =
  'The user interrupted the previous turn on purpose. Any running unified exec processes may still be running in the background. If any tools/commands were aborted, they may have partially executed.';

const NL = Buffer.from('\n');

export async function forkSession(target: Target, resolver: Resolver, opts: ForkOptions): Promise<ForkResult> {
  if (!target.stdin) return forkFrom(target.file.path, target, resolver, opts);
  if (opts.reference) throw new RolloutError('--reference needs a source in the Codex home, not stdin: a referenced fork points at its parent file');
  // Two passes need the bytes twice.
  const spooled = await spoolStdin();
  try {
    return await forkFrom(spooled.path, target, resolver, opts);
  } finally {
    await spooled.remove();
  }
}

async function forkFrom(path: string, target: Target, resolver: Resolver, opts: ForkOptions): Promise<ForkResult> {
  const label = target.label;
  const form = target.stdin ? undefined : target.file.form;
  const head = await openSession(path, { form });
  await head.close();
  const meta = metaOf(head.first);
  if (!meta) {
    const bare = head.generation && head.generation !== 'D' && head.generation !== 'E';
    throw new RolloutError(
      bare
        ? 'no session_meta: an old bare-line session, which Codex no longer reads (rollout-cat --normalize turns it into one that can be forked)'
        : 'no session_meta on the first line; not a session Codex can resume',
      { file: label },
    );
  }
  const paginated = head.generation === 'E';
  if (opts.reference && !paginated)
    throw new RolloutError('--reference needs a paginated source (history_mode "paginated"); this one is legacy', { file: label });
  if (opts.reference && opts.cut.kind === 'turns' && opts.cut.range.from !== null) {
    throw new RolloutError(`--reference keeps a prefix of the history; ${opts.cut.range.said} keeps a suffix`);
  }

  const segments: Segment[] = [...(paginated ? await ancestry(meta, resolver, label) : []), { path, form }];
  const map = await mapTurns(segments);
  const plan = planCut(map, opts.cut, label);

  const now = opts.now ?? new Date();
  const id = uuidv7(now.getTime());
  const marker = opts.interrupted && plan.midTurn ? plan.midTurn : null;
  const base = opts.reference ? await historyBase(map, plan, segments, target, resolver) : null;
  // Paginated ordinals run on from the meta: 0 in a copy, the cut's ordinal in a referenced fork.
  const firstOrdinal = !paginated ? null : base ? base.end_ordinal_exclusive : 0;
  const metaLine = envelope(now, firstOrdinal, 'session_meta', forkMeta(meta, { id, now, cwd: opts.cwd, base }));
  const kept = base ? 0 : plan.end - plan.start;
  const markerLines = marker ? interruptLines(marker.turnId, now, firstOrdinal === null ? null : firstOrdinal + 1 + kept) : [];
  const result: ForkResult = {
    id,
    path: opts.stdout ? null : newSessionPath(resolver.home, id, localStamp(now)),
    forked_from_id: meta.id,
    turns: plan.turns,
    lines: 1 + kept + markerLines.length,
  };

  async function* content(): AsyncGenerator<Buffer[]> {
    yield [Buffer.from(metaLine), NL];
    if (!base) {
      const first = firstOrdinal === null ? null : firstOrdinal + 1;
      yield* copiedHistory(segments, { start: plan.start, end: plan.end, firstOrdinal: first, label, into: 'the fork' });
    }
    for (const line of markerLines) yield [Buffer.from(line), NL];
  }

  if (opts.stdout) {
    for await (const pieces of content()) for (const p of pieces) opts.stdout.write(p);
    return result;
  }
  if (opts.dryRun) return result;
  await writeAtomic(result.path!, inBlocks(content()), { exclusive: true });
  if (opts.name !== undefined) await appendThreadName(resolver.home, id, opts.name, now);
  // Loaded only after a write: the index code is of no use to a dry run or --stdout.
  const { syncPaths } = await import('../index/sync.js');
  await syncPaths(resolver.home, [result.path!], { index: opts.index });
  return result;
}

type HistoryBase = { thread_id: string; end_ordinal_exclusive: number; end_byte_offset: number };

/**
 * The `history_base` of a referenced fork: the file holding the last kept line (the source, or the
 * ancestor whose prefix the cut falls in), its ordinal after that line, and the byte offset there.
 */
async function historyBase(map: TurnMap, plan: Plan, segments: Segment[], target: Target, resolver: Resolver): Promise<HistoryBase> {
  const place = map.before.get(plan.end);
  if (!place || place.ordinal === null) throw new RolloutError('--reference: the line before the cut has no ordinal', { file: target.label });
  const seg = segments[place.segment]!;
  const own = place.segment === segments.length - 1 && !target.stdin;
  const rolloutId = own ? target.file.name.rolloutId : (parseRolloutName(basename(seg.path))?.rolloutId ?? '');
  // Codex finds the parent by rollout id under its home, so the parent must be found that way too.
  const found = rolloutId ? await resolver.byRolloutId(rolloutId) : null;
  if (!found || resolve(found.path) !== resolve(seg.path)) {
    throw new RolloutError('--reference: the source is not a rollout in this Codex home, so Codex could not find it by id', { file: seg.path });
  }
  return { thread_id: rolloutId, end_ordinal_exclusive: place.ordinal + 1, end_byte_offset: place.end };
}

/**
 * The fork's `session_meta` payload: the source's fields in the source's order, with a new id (and
 * session id: a fork is a root thread), `forked_from_id` after the id as Codex writes it, a fresh
 * timestamp and context-window id, and no `history_base` unless the fork references its parent.
 */
export function forkMeta(source: SessionMetaPayload, f: { id: string; now: Date; cwd?: string; base: HistoryBase | null }): Record<string, unknown> {
  // Both describe ordinals of the source's own file, which a fork does not share.
  const dropped = new Set(['forked_from_id', 'forked_from_ordinal_exclusive', 'history_base', 'subagent_history_start_ordinal']);
  const cwd = f.cwd === undefined ? undefined : resolve(f.cwd);
  const out: Record<string, unknown> = {};
  if (!('session_id' in source)) out.session_id = f.id;
  for (const [key, value] of Object.entries(source)) {
    if (dropped.has(key)) continue;
    if (key === 'session_id') out.session_id = f.id;
    else if (key === 'id') {
      out.id = f.id;
      out.forked_from_id = source.id;
      if (f.base) out.forked_from_ordinal_exclusive = f.base.end_ordinal_exclusive;
    } else if (key === 'timestamp') out.timestamp = isoMillis(f.now);
    else if (key === 'cwd') out.cwd = cwd ?? value;
    // Workspace roots follow the cwd they were derived from.
    else if (key === 'runtime_workspace_roots' && cwd !== undefined && Array.isArray(value)) {
      out[key] = value.map((root) => (root === source.cwd ? cwd : root));
    } else if (key === 'context_window' && isObject(value) && 'window_id' in value) {
      out[key] = { ...value, window_id: uuidv7(f.now.getTime()) };
    } else if (key === 'history_mode') {
      out[key] = value;
      if (f.base) out.history_base = f.base;
    } else out[key] = value;
  }
  if (cwd !== undefined && !('cwd' in out)) out.cwd = cwd;
  if (f.base && !('history_base' in out)) out.history_base = f.base;
  return out;
}

/** A compact envelope line in Codex's key order. */
function envelope(now: Date, ordinal: number | null, type: string, payload: unknown): string {
  const env: Record<string, unknown> = { timestamp: isoMillis(now) };
  if (ordinal !== null) env.ordinal = ordinal;
  env.type = type;
  env.payload = payload;
  return JSON.stringify(env);
}

/**
 * Codex's interrupt marker (spec 6.2), as 0.169 writes it: the `<turn_aborted>` user message, tagged
 * as harness-made context, then the `turn_aborted` event.
 */
export function interruptLines(turnId: string | null, now: Date, ordinal: number | null): string[] {
  const text = `<turn_aborted>\n${INTERRUPTED_GUIDANCE}\n</turn_aborted>`;
  const passthrough = {
    ...(turnId ? { turn_id: turnId } : {}),
    create_time: now.getTime() / 1000,
    content_item_kinds: ['generic.turn_aborted'],
    content_item_metadata: [{ provenance: { type: 'harness', hook: false } }],
  };
  const message = {
    type: 'message',
    id: `msg_${uuidv7(now.getTime())}`,
    role: 'user',
    content: [{ type: 'input_text', text }],
    internal_chat_message_metadata_passthrough: passthrough,
  };
  return [
    envelope(now, ordinal, 'response_item', message),
    envelope(now, ordinal === null ? null : ordinal + 1, 'event_msg', { type: 'turn_aborted', turn_id: turnId, reason: 'interrupted' }),
  ];
}

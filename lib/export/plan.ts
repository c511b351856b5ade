// The first of an export's two passes: a cheap read of the whole history that finds where each user
// turn starts, which turns later rollbacks dropped, and the session's facts (title, model, tokens),
// so that the second pass can stream the surviving turns without holding any of them. Only small
// records are parsed: user messages (without their images), task events, turn contexts, token
// counts. What it keeps per turn is a few numbers (turn-table.ts); nothing grows with what was said.
import type { SessionMetaPayload } from '../core/record.js';
import { isEnvelope, isObject, parseLine, peekType, typeOf, peekTimestamp } from '../core/record.js';
import { mayOpenTurn, TitleFinder, TurnBoundaries } from '../core/turns.js';
import { parseLean } from '../items/lean.js';
import { tokenTotals, type SessionFacts } from '../items/model.js';
import { records, type Records, type Source } from './records.js';
import { TurnTable } from './turn-table.js';

export interface Plan {
  facts: SessionFacts;
  /** The turns of the effective history, in order (turn n is `turns.get(n - 1)`). */
  turns: TurnTable;
  /** Position ranges `[from, to)` that rollbacks dropped, sorted and disjoint. */
  dropped: Array<[number, number]>;
}

/** The totals of the last token count of a batch that has them (most counts are superseded: only the last is read). */
function lastTokens(batch: Records): SessionFacts['tokens'] {
  for (let i = batch.lines.length - 1; i >= 0; i--) {
    if (batch.bad?.has(i)) continue;
    const { bytes } = batch.lines[i]!;
    const info = peekType(bytes) ?? typeOf(bytes);
    if (info.type !== 'event_msg' || info.payloadType !== 'token_count') continue;
    const p = parseLine(bytes)?.payload;
    const totals = isObject(p) ? tokenTotals(p.info?.total_token_usage) : null;
    if (totals) return totals;
  }
  return null;
}

/** The timestamp of the last record of a batch that shows one in its first bytes. */
function lastTimestamp(batch: Records): string | null {
  for (let i = batch.lines.length - 1; i >= 0; i--) {
    const t = batch.bad?.has(i) ? null : peekTimestamp(batch.lines[i]!.bytes);
    if (t !== null) return t;
  }
  return null;
}

export interface PlanInput {
  sources: Source[];
  meta: SessionMetaPayload | null;
  generation: string | null;
  label: string;
  /** The session's name from Codex's index, if it has one. */
  name: string | null;
}

export async function planSession(input: PlanInput): Promise<Plan> {
  const { meta } = input;
  const own = input.sources.length - 1;
  const alive = new TurnTable();
  const dropped: Array<[number, number]> = [];
  let rolledBack = 0;
  let compactions = 0;
  let tokens: SessionFacts['tokens'] = null;
  let updated: string | null = null;
  let context: { model: string | null; cwd: string | null } = { model: null, cwd: null };
  let latestModel: string | null = null;
  // The title, as every binary finds it (core/turns.ts), among inherited lines and the session's own.
  const titles = { inherited: new TitleFinder(), own: new TitleFinder() };
  // A task_started since the last user turn: the turn it opens starts there.
  let pending: { pos: number; turn_id: string | null } | null = null;
  const boundaries = new TurnBoundaries();

  const open = (pos: number, segment: number) => {
    alive.push({
      start: pending?.pos ?? pos,
      turnId: pending?.turn_id ?? null,
      status: pending ? 'open' : 'unknown',
      model: context.model,
      cwd: context.cwd,
      inherited: segment < own,
    });
    pending = null;
  };

  for await (const batch of records(input.sources, true)) {
    updated = lastTimestamp(batch) ?? updated;
    tokens = lastTokens(batch) ?? tokens;
    const { segment, lines } = batch;
    for (let i = 0; i < lines.length; i++) {
      if (batch.bad?.has(i)) continue;
      const pos = batch.first + i;
      const { bytes } = lines[i]!;
      const info = peekType(bytes) ?? typeOf(bytes);
      const type = info.type;
      const pt = info.payloadType;
      if (!mayOpenTurn(bytes, info)) boundaries.see(info);
      else {
        const env = parseLean(bytes);
        if (!isEnvelope(env)) continue;
        if (boundaries.opens(env)) open(pos, segment);
        titles[segment < own ? 'inherited' : 'own'].add(env);
        continue;
      }
      const titling = titles[segment < own ? 'inherited' : 'own'];
      if (titling.open && type === 'event_msg' && (pt === 'user_message' || (pt === 'item_completed' && bytes.includes('"UserMessage"')))) {
        const env = parseLine(bytes);
        if (isEnvelope(env)) titling.add(env);
        continue;
      }
      if (type === 'turn_context') {
        const p = parseLine(bytes)?.payload;
        if (isObject(p)) {
          context = { model: typeof p.model === 'string' ? p.model : context.model, cwd: typeof p.cwd === 'string' ? p.cwd : context.cwd };
          latestModel = context.model ?? latestModel;
        }
      } else if (type === 'compacted') {
        compactions++;
      } else if (type === 'event_msg') {
        if (pt !== 'task_started' && pt !== 'task_complete' && pt !== 'turn_aborted' && pt !== 'thread_rolled_back' && pt !== 'thread_settings_applied')
          continue;
        // A task's end repeats the turn's last answer, which the second pass reads where it was said.
        const env = pt === 'task_complete' ? parseLean(bytes, ['last_agent_message']) : parseLine(bytes);
        const p = env?.payload;
        if (!isObject(p)) continue;
        if (pt === 'task_started') {
          pending = { pos, turn_id: typeof p.turn_id === 'string' ? p.turn_id : null };
        } else if (pt === 'task_complete' || pt === 'turn_aborted') {
          // A task that ends before any user message (a manual compaction, say) opened no turn.
          if (pending && (!pending.turn_id || pending.turn_id === p.turn_id)) {
            pending = null;
            continue;
          }
          const turn = alive.find(p.turn_id);
          if (turn === -1) continue;
          const failed = pt === 'task_complete' && isObject(p.error);
          const duration =
            typeof p.duration_ms === 'number'
              ? p.duration_ms
              : typeof p.started_at === 'number' && typeof p.completed_at === 'number'
                ? (p.completed_at - p.started_at) * 1000
                : null;
          const error = failed ? (typeof p.error.message === 'string' ? p.error.message : JSON.stringify(p.error)) : null;
          alive.end(turn, pt === 'turn_aborted' ? 'aborted' : failed ? 'failed' : 'completed', duration, error);
        } else if (pt === 'thread_rolled_back') {
          const n = Number(p.num_turns);
          if (!Number.isSafeInteger(n) || n <= 0) continue;
          const keep = Math.max(0, alive.length - n);
          if (keep < alive.length) {
            dropped.push([alive.startOf(keep), pos + 1]);
            rolledBack += alive.length - keep;
            alive.truncate(keep);
          }
          pending = null;
        } else if (pt === 'thread_settings_applied' && isObject(p.thread_settings)) {
          const s = p.thread_settings;
          context = { model: typeof s.model === 'string' ? s.model : context.model, cwd: typeof s.cwd === 'string' ? s.cwd : context.cwd };
          latestModel = context.model ?? latestModel;
        }
      }
    }
  }

  // A fork is titled by what it adds (as Codex titles it), else by what it inherits.
  const title = titles.own.title ?? titles.inherited.title;
  const git = isObject(meta?.git) ? meta.git : null;
  const facts: SessionFacts = {
    kind: 'session',
    session: typeof meta?.id === 'string' ? meta.id : 'unknown',
    title,
    name: input.name,
    file: input.label,
    generation: input.generation,
    history_mode: meta?.history_mode === 'paginated' ? 'paginated' : 'legacy',
    created: typeof meta?.timestamp === 'string' ? meta.timestamp : null,
    updated,
    cwd: typeof meta?.cwd === 'string' ? meta.cwd : context.cwd,
    git: git ? { branch: git.branch ?? null, commit: git.commit_hash ?? null, repository: git.repository_url ?? null } : null,
    model: latestModel,
    provider: typeof meta?.model_provider === 'string' ? meta.model_provider : null,
    cli_version: typeof meta?.cli_version === 'string' ? meta.cli_version : null,
    originator: typeof meta?.originator === 'string' ? meta.originator : null,
    source: meta?.source ?? null,
    forked_from: typeof meta?.forked_from_id === 'string' ? meta.forked_from_id : null,
    turns: alive.length,
    inherited_turns: alive.inheritedCount(),
    rolled_back_turns: rolledBack,
    compactions,
    tokens,
  };
  return { facts, turns: alive, dropped: merge(dropped) };
}

function merge(ranges: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

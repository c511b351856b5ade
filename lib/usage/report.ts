// What the chosen sessions' model responses used and cost, added up by day, week, month, session,
// model, folder or source (any of them together), from the usage the index gathered as it read
// each file (core/token-usage.ts). Nothing here reads a rollout.
import { UsageError } from '../cli/errors.js';
import { sourceKindOf } from '../core/record.js';
import { addTokens, decodeUsage, noTokens, SLOT_MS, TOKEN_FIELDS, type Bucket, type Tokens } from '../core/token-usage.js';
import type { UsageFile } from '../index/query.js';
import type { Pricing } from './prices.js';

const DAY = 86400_000;

export const GROUPINGS = ['day', 'week', 'month', 'session', 'model', 'cwd', 'source'] as const;
export type By = (typeof GROUPINGS)[number];

/** `--by day,model`: the groupings in the order given, each once. */
export function parseBy(value: string | undefined): By[] {
  const parts = (value ?? 'day').split(',').map((p) => p.trim());
  for (const p of parts)
    if (!(GROUPINGS as readonly string[]).includes(p)) throw new UsageError(`--by takes ${GROUPINGS.join(', ')} (several with commas), not '${p}'`);
  if (new Set(parts).size !== parts.length) throw new UsageError(`--by names '${parts.find((p, i) => parts.indexOf(p) !== i)}' twice`);
  const times = parts.filter((p) => p === 'day' || p === 'week' || p === 'month');
  if (times.length > 1) throw new UsageError(`--by takes one of day, week and month, not ${times.join(' and ')}`);
  return parts as By[];
}

/** The calendar of a time zone: a slot's day, week and month there. */
export class Calendar {
  private readonly format: Intl.DateTimeFormat;
  private readonly days = new Map<number, string>();

  constructor(readonly tz: string | undefined) {
    try {
      this.format = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
    } catch {
      throw new UsageError(`--tz takes a time zone name such as UTC or Europe/Berlin, not '${tz}'`);
    }
  }

  /** YYYY-MM-DD in the zone. */
  day(at: number): string {
    let d = this.days.get(at);
    if (d === undefined) {
      const parts = Object.fromEntries(this.format.formatToParts(at).map((p) => [p.type, p.value]));
      this.days.set(at, (d = `${parts.year}-${parts.month}-${parts.day}`));
    }
    return d;
  }

  month = (at: number): string => this.day(at).slice(0, 7);

  /** The ISO week (Monday first) of the zone's day: YYYY-Www. */
  week(at: number): string {
    const [y, m, d] = this.day(at).split('-').map(Number) as [number, number, number];
    // A week belongs to the year of its Thursday; week 1 is the one with that year's first Thursday.
    const thursday = Date.UTC(y, m - 1, d) + (3 - ((new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7)) * DAY;
    const year = new Date(thursday).getUTCFullYear();
    const week = 1 + Math.floor((thursday - Date.UTC(year, 0, 1)) / (7 * DAY));
    return `${year}-W${String(week).padStart(2, '0')}`;
  }
}

/** One model at one service tier, within a group. */
export interface ModelUsage extends Tokens {
  model: string | null;
  tier: string | null;
  responses: number;
  /** USD; null when the price table has no price for the model at this tier. */
  cost_usd: number | null;
}

export interface Group {
  /** The group's value under each grouping asked for. */
  key: Partial<Record<By, string | null>>;
  sessions: number;
  /** Sessions with turns whose files recorded no usage (a generation of Codex that wrote none). */
  unknown_sessions: number;
  responses: number;
  /** Null when the group is made only of sessions whose usage is unknown. */
  tokens: Tokens | null;
  /** USD; null when some of the group's tokens have no price, or none are known. */
  cost_usd: number | null;
  models: ModelUsage[];
  /** For --by session: the session's folder and what it is called. */
  label?: string | null;
  cwd?: string | null;
}

export interface Report {
  groups: Group[];
  total: Group & { groups: number };
  /** Models (with their tier) that the price table does not price, with their tokens. */
  unpriced: Array<{ model: string | null; tier: string | null; total: number }>;
}

export interface Window {
  since?: number;
  until?: number;
}

/**
 * A group as it is added up. Files come session by session, so a session is counted when its first
 * file reaches the group: no set of ids is kept, whatever the number of sessions.
 */
interface Acc {
  key: Partial<Record<By, string | null>>;
  order: string;
  sessions: number;
  lastId: string | null;
  unknown: number;
  lastUnknown: string | null;
  models: Map<string, ModelUsage>;
  label?: string | null;
  cwd?: string | null;
}

const newAcc = (key: Acc['key'], order: string): Acc => ({ key, order, sessions: 0, lastId: null, unknown: 0, lastUnknown: null, models: new Map() });

function sessionIn(a: Acc, id: string): void {
  if (a.lastId === id) return;
  a.lastId = id;
  a.sessions++;
}

function unknownIn(a: Acc, id: string): void {
  sessionIn(a, id);
  if (a.lastUnknown === id) return;
  a.lastUnknown = id;
  a.unknown++;
}

/** The files' usage (session by session, as usageFiles gives them) added up by `by`, inside `window` (to the 15 minutes), priced by `pricing`. */
export function report(files: Iterable<UsageFile>, by: By[], cal: Calendar, pricing: Pricing, window: Window = {}): Report {
  const groups = new Map<string, Acc>();
  const total = newAcc({}, '');
  const since = window.since === undefined ? -Infinity : Math.floor(window.since / SLOT_MS) * SLOT_MS;
  const until = window.until ?? Infinity;
  const inside = (at: number) => at >= since && at < until;
  const keyFor = (f: UsageFile, at: number, model: string | null): [Acc['key'], string] => {
    const key: Acc['key'] = {};
    const order: string[] = [];
    for (const b of by) {
      const v = valueOf(f, b, at, model, cal);
      key[b] = v;
      order.push(b === 'session' ? `${String(f.created_at).padStart(16, '0')}${f.id}` : (v ?? '\uffff'));
    }
    return [key, order.join('\0')];
  };
  const accFor = (f: UsageFile, at: number, model: string | null): Acc => {
    const [key, order] = keyFor(f, at, model);
    let g = groups.get(order);
    if (!g) {
      groups.set(order, (g = newAcc(key, order)));
      if (by.includes('session')) Object.assign(g, { label: f.name ?? f.title, cwd: f.cwd });
    }
    return g;
  };
  for (const f of files) {
    const usage = decodeUsage(f.usage);
    if (!usage) {
      // A file with turns and no response counted: its Codex recorded none. (One without turns asked
      // nothing of a model.) It is placed at the session's start, the time its name gives.
      const at = f.created_at || f.updated_at;
      if (f.own_turns > 0 && inside(at)) {
        const g = accFor(f, at, f.model);
        unknownIn(g, f.id);
        unknownIn(total, f.id);
      }
      continue;
    }
    for (const b of usage.buckets) {
      if (!inside(b.at)) continue;
      const g = accFor(f, b.at, b.model);
      const cost = costOf(b, pricing);
      for (const a of [g, total]) {
        sessionIn(a, f.id);
        addBucket(a, b, cost);
      }
    }
  }
  const finish = (a: Acc): Group => {
    const models = [...a.models.values()].sort((x, y) => y.total - x.total || String(x.model).localeCompare(String(y.model)));
    let cost: number | null = 0;
    const tokens = noTokens();
    let responses = 0;
    for (const m of models) {
      if (m.cost_usd === null) cost = null;
      else if (cost !== null) cost += m.cost_usd;
      addTokens(tokens, m);
      responses += m.responses;
    }
    // Unknown only when no response of it is known: nothing chosen at all is a plain zero.
    const known = a.models.size > 0 || a.sessions === 0;
    return {
      key: a.key,
      sessions: a.sessions,
      unknown_sessions: a.unknown,
      responses,
      tokens: known ? tokens : null,
      cost_usd: known ? cost : null,
      models,
      ...(a.label !== undefined ? { label: a.label, cwd: a.cwd } : {}),
    };
  };
  const rows = [...groups.values()].sort((x, y) => (x.order < y.order ? -1 : x.order > y.order ? 1 : 0)).map(finish);
  const t = finish(total);
  const unpriced = t.models.filter((m) => m.cost_usd === null).map(({ model, tier, total }) => ({ model, tier, total }));
  return { groups: rows, total: { ...t, groups: rows.length }, unpriced };
}

/** A bucket's USD, or null when its model, tier or context length has no price. */
function costOf(b: Bucket, pricing: Pricing): number | null {
  const rates = pricing.rates(b.model, b.tier, b.long);
  return rates ? pricing.cost(b, rates) : null;
}

function addBucket(a: Acc, b: Bucket, cost: number | null): void {
  const k = `${b.model ?? ''}\0${b.tier ?? ''}`;
  let m = a.models.get(k);
  if (!m) a.models.set(k, (m = { model: b.model, tier: b.tier, responses: 0, cost_usd: 0, ...noTokens() }));
  addTokens(m, b);
  m.responses += b.responses;
  m.cost_usd = m.cost_usd === null || cost === null ? null : m.cost_usd + cost;
}

function valueOf(f: UsageFile, by: By, at: number, model: string | null, cal: Calendar): string | null {
  switch (by) {
    case 'day':
      return cal.day(at);
    case 'week':
      return cal.week(at);
    case 'month':
      return cal.month(at);
    case 'session':
      return f.id;
    case 'model':
      return model;
    case 'cwd':
      return f.cwd;
    case 'source':
      return sourceKindOf(f.source, f.thread_source);
  }
}

const tokenRow = (t: Tokens | null): Record<string, number | null> => Object.fromEntries(TOKEN_FIELDS.map((k) => [`${k}_tokens`, t ? t[k] : null]));

const round = (usd: number | null): number | null => (usd === null ? null : Math.round(usd * 1e6) / 1e6);

/** A group as its NDJSON line. */
export function jsonRow(g: Group): Record<string, unknown> {
  return {
    ...g.key,
    ...(g.label !== undefined ? { label: g.label, ...('cwd' in g.key ? {} : { cwd: g.cwd }) } : {}),
    sessions: g.sessions,
    unknown_sessions: g.unknown_sessions,
    responses: g.responses,
    ...tokenRow(g.tokens),
    cost_usd: round(g.cost_usd),
    models: g.models.map((m) => ({ model: m.model, tier: m.tier, responses: m.responses, ...tokenRow(m), cost_usd: round(m.cost_usd) })),
  };
}

export const totalRow = (t: Report['total']): Record<string, unknown> => ({ total: true, groups: t.groups, ...jsonRow(t) });

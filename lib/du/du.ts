// Where a home's bytes are: the chosen sessions' files added up by session, folder, month, source
// or kind of content, from the index alone (the kinds are counted while files are indexed).
import { UsageError } from '../cli/errors.js';
import { KINDS, noBytes, type Kind, type KindBytes } from '../core/kinds.js';
import { sourceKindOf } from '../core/record.js';
import type { SizedFile } from '../index/query.js';

export const GROUPINGS = ['session', 'dir', 'month', 'source', 'kind'] as const;
export type By = (typeof GROUPINGS)[number];

/** One group's bytes (for `--by kind`, one kind's: see `KindUsage`). */
export interface Usage extends KindBytes {
  /** The group: a session id, a folder, a `YYYY-MM` month (UTC, of the session's start), a source. Null when unknown. */
  key: string | null;
  sessions: number;
  files: number;
  on_disk: number;
  uncompressed: number;
  /** For `--by session`: the current file, and what the session is called. */
  path?: string;
  cwd?: string | null;
  label?: string | null;
}

export interface KindUsage {
  key: Kind;
  bytes: number;
  /** Sessions and files with any bytes of the kind. */
  sessions: number;
  files: number;
}

export const SORT_KEYS = ['size', 'uncompressed', ...KINDS, 'sessions', 'files', 'key'] as const;
type SortKey = (typeof SORT_KEYS)[number];
export const DU_SORT_SPECS: readonly string[] = SORT_KEYS.flatMap((k) => [k, `-${k}`]);

export interface DuSort {
  key: SortKey;
  descending: boolean;
}

/** `size` (smallest first) or `-size` (largest first), and so on. */
export function parseDuSort(spec: string, by: By): DuSort {
  const descending = spec.startsWith('-');
  const key = (descending ? spec.slice(1) : spec) as SortKey;
  if (!(SORT_KEYS as readonly string[]).includes(key)) throw new UsageError(`--sort takes ${SORT_KEYS.join(', ')} (with - to reverse), not '${spec}'`);
  if (by === 'kind' && !['size', 'uncompressed', 'sessions', 'files', 'key'].includes(key))
    throw new UsageError(`--by kind sorts by size, sessions, files or key, not ${key}`);
  return { key, descending };
}

export function parseBy(value: string | undefined): By {
  if (value === undefined) return 'session';
  if (!(GROUPINGS as readonly string[]).includes(value)) throw new UsageError(`--by takes ${GROUPINGS.join(', ')}, not '${value}'`);
  return value as By;
}

/** The key of a file's session under a grouping (not `kind`). */
function keyOf(f: SizedFile, by: Exclude<By, 'kind'>): string | null {
  switch (by) {
    case 'session':
      return f.id;
    case 'dir':
      return f.cwd;
    case 'month':
      return f.created_at > 0 ? new Date(f.created_at).toISOString().slice(0, 7) : null;
    case 'source':
      return sourceKindOf(f.source, f.thread_source);
  }
}

const empty = (key: string | null): Usage => ({ key, sessions: 0, files: 0, on_disk: 0, uncompressed: 0, ...noBytes() });

function add(u: Usage, f: SizedFile): void {
  u.files++;
  u.on_disk += f.size;
  u.uncompressed += f.uncompressed;
  for (const k of KINDS) u[k] += f[k];
}

export interface Report<G> {
  groups: G[];
  /** Every chosen file, whatever `limit` left out. */
  total: Usage & { groups: number };
}

/** The files added up by group, sorted, the first `limit` of them; and the total of them all. */
export function usage(files: Iterable<SizedFile>, by: Exclude<By, 'kind'>, sort: DuSort, limit?: number): Report<Usage> {
  const groups = new Map<string | null, Usage>();
  const total = empty(null);
  // A session's files all go to its group (the key comes from its current row).
  const seen = new Set<string>();
  for (const f of files) {
    const key = keyOf(f, by);
    let g = groups.get(key);
    if (!g) {
      groups.set(key, (g = empty(key)));
      if (by === 'session') Object.assign(g, { path: f.path, cwd: f.cwd, label: f.name ?? f.title });
    }
    add(g, f);
    add(total, f);
    if (!seen.has(f.id)) {
      seen.add(f.id);
      g.sessions++;
      total.sessions++;
    }
  }
  const rows = [...groups.values()].sort(compare(sort, (u) => (sort.key === 'size' ? u.on_disk : u[sort.key as Exclude<SortKey, 'size' | 'key'>])));
  return { groups: limit === undefined ? rows : rows.slice(0, limit), total: { ...total, groups: rows.length } };
}

/** The bytes of each kind, over every chosen file. */
export function kindUsage(files: Iterable<SizedFile>, sort: DuSort, limit?: number): Report<KindUsage> {
  const rows: KindUsage[] = KINDS.map((key) => ({ key, bytes: 0, sessions: 0, files: 0 }));
  const total = empty(null);
  const sessions = KINDS.map(() => new Set<string>());
  const all = new Set<string>();
  for (const f of files) {
    add(total, f);
    all.add(f.id);
    KINDS.forEach((k, i) => {
      if (f[k] <= 0) return;
      rows[i]!.bytes += f[k];
      rows[i]!.files++;
      sessions[i]!.add(f.id);
    });
  }
  rows.forEach((r, i) => (r.sessions = sessions[i]!.size));
  total.sessions = all.size;
  rows.sort(compare(sort, (r) => (sort.key === 'sessions' || sort.key === 'files' ? r[sort.key] : r.bytes)));
  return { groups: limit === undefined ? rows : rows.slice(0, limit), total: { ...total, groups: rows.length } };
}

/** Order by the sort's number (or by key), ties by key; an unknown key (null) last. */
function compare<G extends { key: string | null }>(sort: DuSort, value: (g: G) => number): (a: G, b: G) => number {
  const byKey = (a: G, b: G) => (a.key === b.key ? 0 : a.key === null ? 1 : b.key === null ? -1 : a.key < b.key ? -1 : 1);
  const sign = sort.descending ? -1 : 1;
  if (sort.key === 'key') return (a, b) => sign * byKey(a, b);
  return (a, b) => sign * (value(a) - value(b)) || byKey(a, b);
}

/** A group as an NDJSON row: its key under the grouping's name, then its counts. (Object literals: rows are many.) */
export function jsonRow(by: By, g: Usage | KindUsage): Record<string, unknown> {
  if (by === 'kind') {
    const k = g as KindUsage;
    return { kind: k.key, bytes: k.bytes, sessions: k.sessions, files: k.files };
  }
  const u = g as Usage;
  switch (by) {
    case 'session':
      return { session: u.key, path: u.path, cwd: u.cwd ?? null, label: u.label ?? null, ...counts(u) };
    case 'dir':
      return { dir: u.key, ...counts(u) };
    case 'month':
      return { month: u.key, ...counts(u) };
    case 'source':
      return { source: u.key, ...counts(u) };
  }
}

export function totalRow(t: Report<unknown>['total']): Record<string, unknown> {
  return { total: true, groups: t.groups, ...counts(t) };
}

const counts = (u: Usage) => ({
  sessions: u.sessions,
  files: u.files,
  on_disk: u.on_disk,
  uncompressed: u.uncompressed,
  images: u.images,
  tool_output: u.tool_output,
  reasoning: u.reasoning,
  compaction: u.compaction,
  copied: u.copied,
  other: u.other,
});

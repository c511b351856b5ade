// Where a home's bytes are: the chosen sessions' files added up by session, folder, month, source
// or kind of content, from the index alone (the kinds are counted while files are indexed).
import { UsageError } from '../cli/errors.js';
import { KINDS, type Kind } from '../core/kinds.js';
import type { Database } from '../index/db.js';
import { kindSums, sizeGroups, sizeTotal, type Filters, type SizeSums } from '../index/query.js';

export const GROUPINGS = ['session', 'dir', 'month', 'source', 'kind'] as const;
export type By = (typeof GROUPINGS)[number];

/** One group's bytes (for `--by kind`, one kind's: see `KindUsage`); the key is null when unknown. */
export type Usage = SizeSums;

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

export interface Report<G> {
  groups: Iterable<G>;
  /** Every chosen file, whatever `limit` left out. */
  total: Usage & { groups: number };
}

/** The chosen files added up by group, sorted, the first `limit` of them (as the index streams them); and the total of them all. */
export function usage(db: Database, filters: Filters, by: Exclude<By, 'kind'>, sort: DuSort, limit?: number): Report<Usage> {
  const column = sort.key === 'size' ? 'on_disk' : sort.key;
  return { groups: sizeGroups(db, filters, by, { column, descending: sort.descending }, limit), total: sizeTotal(db, filters, by) };
}

/** The bytes of each kind, over every chosen file. */
export function kindUsage(db: Database, filters: Filters, sort: DuSort, limit?: number): Report<KindUsage> {
  const rows = kindSums(db, filters);
  rows.sort(compare(sort, (r) => (sort.key === 'sessions' || sort.key === 'files' ? r[sort.key] : r.bytes)));
  return { groups: limit === undefined ? rows : rows.slice(0, limit), total: sizeTotal(db, filters, 'kind') };
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

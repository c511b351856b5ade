// Lineage of listed sessions: forks under the session they were forked from, subagent threads under
// the thread that spawned them. Built over the rows a listing chose; a session whose parent was not
// chosen stands as a root, its parent still named.
import type { Listed } from './query.js';

export type Relation = 'fork' | 'subagent';

export interface Branch {
  row: Listed;
  depth: number;
  /** The session it descends from, listed or not. */
  parent: string | null;
  relation: Relation | null;
  /** Whether a later sibling follows it, for this node and each ancestor (the lines of a drawn tree). */
  more: boolean[];
}

/** The parent a session names, and how it came from it. */
export function parentOf(r: Listed): { parent: string | null; relation: Relation | null } {
  if (r.parent_thread_id) return { parent: r.parent_thread_id, relation: 'subagent' };
  if (r.forked_from_id) return { parent: r.forked_from_id, relation: 'fork' };
  return { parent: null, relation: null };
}

/** `rows` in tree order: each root where the listing put it, its descendants under it, oldest first. */
export function tree(rows: Listed[]): Branch[] {
  const listed = new Set(rows.map((r) => r.id));
  const children = new Map<string, Listed[]>();
  const roots: Listed[] = [];
  for (const r of rows) {
    const { parent } = parentOf(r);
    if (parent && parent !== r.id && listed.has(parent)) {
      const siblings = children.get(parent) ?? [];
      siblings.push(r);
      children.set(parent, siblings);
    } else roots.push(r);
  }
  for (const siblings of children.values()) siblings.sort((a, b) => (a.created_at ?? '').localeCompare(b.created_at ?? '') || a.id.localeCompare(b.id));

  const out: Branch[] = [];
  const placed = new Set<string>();
  const walk = (r: Listed, depth: number, more: boolean[]) => {
    placed.add(r.id);
    out.push({ row: r, depth, ...parentOf(r), more });
    const kids = (children.get(r.id) ?? []).filter((k) => !placed.has(k.id));
    kids.forEach((k, i) => walk(k, depth + 1, [...more, i < kids.length - 1]));
  };
  for (const r of roots) walk(r, 0, []);
  // A cycle of parents (only a damaged home has one) has no root: its members stand as roots.
  for (const r of rows) if (!placed.has(r.id)) walk(r, 0, []);
  return out;
}

/** The lines drawn before a node's label: `├─ `, `└─ `, with `│  ` for each ancestor that has more below. */
export function branchLines(b: Branch): string {
  if (b.depth === 0) return '';
  const above = b.more.slice(0, -1).map((m) => (m ? '│  ' : '   '));
  return above.join('') + (b.more[b.more.length - 1] ? '├─ ' : '└─ ');
}

/** A tree node as an NDJSON row: the session's row, with how deep it sits and what it came from. */
export const treeRow = (b: Branch): Listed & { depth: number; parent: string | null } => ({ ...b.row, depth: b.depth, parent: b.parent });

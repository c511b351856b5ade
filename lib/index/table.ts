// What rollout-ls shows a person at a terminal: sessions a person can act on (the id to pass on,
// where, when, what), fitted to the terminal, lineage drawn when asked; and search hits.
import { homedir } from 'node:os';
import { painter } from '../cli/color.js';
import { layout, terminalWidth, type Column } from '../cli/table.js';
import { visible } from '../cli/terminal.js';
import { relative } from './format.js';
import type { Database } from './db.js';
import { shortIds, SNIPPET_CLOSE, SNIPPET_OPEN, type Hit, type Listed } from './query.js';
import { branchLines, type Branch } from './tree.js';

/** A table cell: one line, and nothing in it that a terminal would act on. */
export const cell = (s: string | null | undefined): string => visible((s ?? '').replace(/[\r\n\t]+/g, ' '));

/** A folder as a person writes it: the home folder as `~`. */
export function tilde(dir: string | null, home = homedir()): string {
  if (!dir) return '';
  if (home.length > 1 && (dir === home || dir.startsWith(home + '/'))) return '~' + dir.slice(home.length);
  return dir;
}

/** The short id of each row's session, as `SessionTable.shortId` takes it. */
export function shortener(db: Database, rows: Array<{ id: string }>): (id: string) => string {
  const short = shortIds(db, new Set(rows.map((r) => r.id)));
  return (id) => short.get(id) ?? id;
}

export interface SessionTable {
  /** The shortest prefix of each id that tells it from every other session (as git abbreviates). */
  shortId: (id: string) => string;
  /** Default: the terminal's (see terminalWidth). */
  width?: number;
  color: boolean;
  now?: number;
}

/** The sessions table; rows as listed, or as a tree (`Branch`es) with the lineage drawn. */
export function sessionTable(rows: Array<Listed | Branch>, t: SessionTable): string[] {
  const now = t.now ?? Date.now();
  const row = (x: Listed | Branch): Listed => ('row' in x ? x.row : x);
  const columns: Column<Listed | Branch>[] = [
    { head: 'ID', cell: (x) => t.shortId(row(x).id), style: () => 'yellow' },
    { head: 'UPDATED', cell: (x) => relative(row(x).updated_at, now), style: () => 'green', drop: 3 },
    { head: 'TURNS', cell: (x) => String(row(x).turns), align: 'right', drop: 4 },
    { head: 'BRANCH', cell: (x) => cell(row(x).git_branch), style: () => 'magenta', min: 8, max: 24, drop: 5 },
    { head: 'DIRECTORY', cell: (x) => cell(tilde(row(x).cwd)), style: () => 'cyan', min: 16, max: 40, keepEnd: true, drop: 2 },
    {
      head: 'CONVERSATION',
      cell: (x) => ('row' in x ? branchLines(x) + (x.relation ? `[${x.relation}] ` : '') : '') + label(row(x)),
      style: (x) => (row(x).archived ? 'dim' : row(x).name ? 'bold' : undefined),
      min: 16,
      want: 36,
      fill: true,
    },
  ];
  return layout(columns, rows, t.width ?? terminalWidth(), painter(t.color));
}

/** The name when the session has one, else its title. */
function label(r: Listed): string {
  const text = r.name ? cell(r.name) : r.title ? cell(r.title) : '(no message)';
  return r.archived ? `(archived) ${text}` : text;
}

/** Search hits, one a line: the id to pass on, who said it, the words around the match. */
export function hitTable(hits: Hit[], t: SessionTable): string[] {
  const columns: Column<Hit>[] = [
    { head: 'ID', cell: (h) => t.shortId(h.id), style: () => 'yellow' },
    { head: 'LINE', cell: (h) => String(h.line), align: 'right', drop: 2 },
    { head: 'ROLE', cell: (h) => cell(h.role), style: () => 'cyan', drop: 1 },
    { head: 'MATCH', cell: (h) => cell(h.snippet), min: 16, want: 60, fill: true },
  ];
  const paint = painter(t.color);
  const lines = layout(columns, hits, t.width ?? terminalWidth(), paint);
  // The matched words in colour; without colour the markers stay, to show them.
  return t.color ? lines.map((line, i) => (i === 0 ? line : line.replace(MATCH, (_, words: string) => paint('red', words)))) : lines;
}

const MATCH = new RegExp(`${escapeRe(SNIPPET_OPEN)}(.+?)${escapeRe(SNIPPET_CLOSE)}`, 'g');

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

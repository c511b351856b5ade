// rollout-usage at a terminal: one line per group with its tokens and cost, the total last.
// Session text (folders, names) is made visible before it is shown.
import { painter, type Style } from '../cli/color.js';
import { layout, terminalWidth, type Column } from '../cli/table.js';
import { count } from '../cli/units.js';
import { cell, tilde } from '../index/table.js';
import type { By, Group, Report } from './report.js';

export interface UsageTable {
  shortId: (id: string) => string;
  color: boolean;
  width?: number;
}

const KEY_HEADS: Record<By, [string, Style]> = {
  day: ['DAY', 'green'],
  week: ['WEEK', 'green'],
  month: ['MONTH', 'green'],
  session: ['SESSION', 'yellow'],
  model: ['MODEL', 'magenta'],
  cwd: ['DIRECTORY', 'cyan'],
  source: ['SOURCE', 'magenta'],
};

type Line = { total: boolean; g: Group };

/** 1,234,567 */
const tokens = (n: number | undefined): string => (n === undefined ? '?' : n.toLocaleString('en-US'));

function usd(g: Group): string {
  if (g.cost_usd === null) return g.tokens ? '?' : '-';
  return `$${g.cost_usd.toFixed(2)}`;
}

export function usageTable(by: By[], report: Report, t: UsageTable): string[] {
  const bold = (l: Line) => (l.total ? 'bold' : undefined);
  const num = (f: (g: Group) => number | undefined, head: string, drop?: number): Column<Line> => ({
    head,
    cell: (l) => (l.g.tokens ? tokens(f(l.g)) : '?'),
    align: 'right',
    style: bold,
    ...(drop ? { drop } : {}),
  });
  const columns: Column<Line>[] = by.map((b, i): Column<Line> => {
    const [head, style] = KEY_HEADS[b];
    const key = (l: Line): string => {
      if (l.total) return i === 0 ? 'total' : '';
      const v = l.g.key[b];
      if (v === null || v === undefined) return '(unknown)';
      return b === 'session' ? t.shortId(v) : b === 'cwd' ? cell(tilde(v)) : cell(v);
    };
    return { head, cell: key, style: (l) => (l.total ? 'bold' : style), ...(b === 'cwd' ? { min: 16, max: 48, keepEnd: true } : {}) };
  });
  columns.push(
    num((g) => g.tokens?.input, 'INPUT'),
    num((g) => g.tokens?.cached_input, 'CACHED', 3),
    num((g) => g.tokens?.output, 'OUTPUT'),
    num((g) => g.tokens?.reasoning_output, 'REASONING', 2),
    num((g) => g.tokens?.total, 'TOTAL', 4),
    { head: 'COST', cell: (l) => usd(l.g), align: 'right', style: bold },
  );
  if (by.includes('session'))
    columns.push({
      head: 'CONVERSATION',
      cell: (l) => (l.total ? `(${count(l.g.sessions, 'session')})` : cell(l.g.label) || '(no message)'),
      min: 12,
      want: 30,
      fill: true,
      drop: 10,
    });
  else
    columns.push({
      head: 'SESSIONS',
      cell: (l) => String(l.g.sessions) + (l.g.unknown_sessions ? ` (${l.g.unknown_sessions} ?)` : ''),
      align: 'right',
      drop: 1,
    });
  const lines: Line[] = [...report.groups.map((g): Line => ({ total: false, g })), { total: true, g: report.total }];
  return layout(columns, lines, t.width ?? terminalWidth(), painter(t.color));
}

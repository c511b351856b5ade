// rollout-du at a terminal: one line per group, sizes a person reads at a glance, the kinds as
// columns, and the total last. Session text (folders, names) is made visible before it is shown.
import { painter, type Style } from '../cli/color.js';
import { layout, terminalWidth, type Column } from '../cli/table.js';
import { count, humanBytes } from '../cli/units.js';
import { KINDS, type Kind } from '../core/kinds.js';
import { cell, tilde } from '../index/table.js';
import type { By, KindUsage, Report, Usage } from './du.js';

export interface DuTable {
  shortId: (id: string) => string;
  color: boolean;
  width?: number;
}

const HEADS: Record<Kind, string> = {
  images: 'IMAGES',
  tool_output: 'TOOL OUT',
  reasoning: 'REASONING',
  compaction: 'COMPACTION',
  copied: 'COPIED',
  other: 'OTHER',
};

/** Which kinds give way first when the terminal is narrow. */
const KIND_DROP: Record<Kind, number> = { other: 9, compaction: 8, reasoning: 7, tool_output: 6, copied: 5, images: 4 };

const KEY_HEADS: Record<Exclude<By, 'kind'>, [string, Style]> = {
  session: ['SESSION', 'yellow'],
  dir: ['DIRECTORY', 'cyan'],
  month: ['MONTH', 'green'],
  source: ['SOURCE', 'magenta'],
};

type Line = { total: boolean; u: Usage };

const size = (n: number) => (n ? humanBytes(n) : '-');

export function usageTable(by: Exclude<By, 'kind'>, report: Report<Usage>, t: DuTable): string[] {
  const [head, style] = KEY_HEADS[by];
  const key = (l: Line): string => {
    if (l.total) return 'total';
    if (l.u.key === null) return '(unknown)';
    return by === 'session' ? t.shortId(l.u.key) : by === 'dir' ? cell(tilde(l.u.key)) : cell(l.u.key);
  };
  const bold = (l: Line) => (l.total ? 'bold' : undefined);
  const columns: Column<Line>[] = [
    { head, cell: key, style: (l) => (l.total ? 'bold' : style), ...(by === 'dir' ? { min: 16, max: 48, keepEnd: true } : {}) },
    { head: 'ON DISK', cell: (l) => size(l.u.on_disk), align: 'right', style: bold },
    { head: 'SIZE', cell: (l) => size(l.u.uncompressed), align: 'right', style: bold, drop: 3 },
    ...KINDS.map((k): Column<Line> => ({ head: HEADS[k], cell: (l) => size(l.u[k]), align: 'right', style: bold, drop: KIND_DROP[k] })),
  ];
  if (by === 'session') {
    columns.push({
      head: 'CONVERSATION',
      cell: (l) => (l.total ? `(${count(l.u.sessions, 'session')})` : cell(l.u.label) || '(no message)'),
      min: 12,
      want: 30,
      fill: true,
      drop: 10,
    });
  } else columns.push({ head: 'SESSIONS', cell: (l) => String(l.u.sessions), align: 'right', drop: 2 });
  const lines: Line[] = [...Array.from(report.groups, (u): Line => ({ total: false, u })), { total: true, u: report.total }];
  return layout(columns, lines, t.width ?? terminalWidth(), painter(t.color));
}

export function kindTable(report: Report<KindUsage>, t: DuTable): string[] {
  const whole = report.total.uncompressed;
  type KLine = { total: boolean; key: string; bytes: number; sessions: number; files: number };
  const bold = (l: KLine) => (l.total ? 'bold' : undefined);
  const columns: Column<KLine>[] = [
    { head: 'KIND', cell: (l) => l.key, style: (l) => (l.total ? 'bold' : 'cyan') },
    { head: 'SIZE', cell: (l) => size(l.bytes), align: 'right', style: bold },
    { head: 'SHARE', cell: (l) => (whole ? `${((100 * l.bytes) / whole).toFixed(1)}%` : '-'), align: 'right', style: bold },
    { head: 'SESSIONS', cell: (l) => String(l.sessions), align: 'right' },
    { head: 'FILES', cell: (l) => String(l.files), align: 'right', drop: 1 },
  ];
  const lines: KLine[] = [
    ...Array.from(report.groups, (k) => ({ total: false, key: k.key, bytes: k.bytes, sessions: k.sessions, files: k.files })),
    { total: true, key: 'total', bytes: whole, sessions: report.total.sessions, files: report.total.files },
  ];
  return layout(columns, lines, t.width ?? terminalWidth(), painter(t.color));
}

// Tables for a terminal: columns sized to their content, fitted to the terminal's width by clipping
// the columns that can give and dropping the ones that matter least, measured in terminal cells (a
// CJK character or an emoji takes two, a combining mark none).
import type { Paint, Style } from './color.js';

export interface Column<R> {
  head: string;
  /** The cell's text, already made safe for a terminal (`visible`) and on one line. */
  cell: (r: R) => string;
  style?: (r: R) => Style | undefined;
  align?: 'left' | 'right';
  /** The narrowest the column may be clipped to; without it the column is never clipped. */
  min?: number;
  /** The widest it grows, whatever its content. */
  max?: number;
  /** Clip from the start, keeping the end (paths, where the last folder names the project). */
  keepEnd?: boolean;
  /** When the line is too wide, columns are dropped highest first; 0 (the default) is never dropped. */
  drop?: number;
  /** The column that takes whatever width the others leave (the last one, usually). */
  fill?: boolean;
  /** For the filling column: the width worth dropping other columns for. */
  want?: number;
}

const GAP = 2;

/** Lines of a table of `rows` at most `width` cells wide (Infinity: as wide as the content). */
export function layout<R>(columns: Column<R>[], rows: R[], width: number, paint: Paint): string[] {
  const texts = rows.map((r) => columns.map((c) => c.cell(r)));
  const natural = columns.map((c, i) => Math.min(c.max ?? Infinity, Math.max(cells(c.head), ...texts.map((t) => cells(t[i]!)))));
  const least = columns.map((c, i) => Math.min(natural[i]!, c.min ?? natural[i]!));
  const wanted = columns.map((c, i) => (c.fill ? Math.min(natural[i]!, Math.max(least[i]!, c.want ?? 0)) : least[i]!));
  const shown = columns.map((_, i) => i);
  const span = (ws: number[], which: number[]) => which.reduce((n, i) => n + ws[i]!, 0) + GAP * (which.length - 1);
  while (span(wanted, shown) > width) {
    const victim = shown.filter((i) => columns[i]!.drop).sort((a, b) => columns[b]!.drop! - columns[a]!.drop!)[0];
    if (victim === undefined) break;
    shown.splice(shown.indexOf(victim), 1);
  }
  // Every column gets its least; what is left goes first to the filling column up to what it wants,
  // then to the others left to right, and what remains to the filling column again.
  const widths = [...least];
  let spare = width - span(least, shown);
  const grow = (i: number, to: number) => {
    const more = Math.max(0, Math.min(to - widths[i]!, spare));
    widths[i]! += more;
    spare -= more;
  };
  const fill = shown.filter((i) => columns[i]!.fill);
  for (const i of fill) grow(i, wanted[i]!);
  for (const i of shown) if (!columns[i]!.fill) grow(i, natural[i]!);
  for (const i of fill) grow(i, natural[i]!);
  const line = (values: string[], style: (i: number) => Style | undefined) =>
    shown
      .map((i, k) => {
        const c = columns[i]!;
        const text = clip(values[i]!, widths[i]!, c.keepEnd);
        const pad = ' '.repeat(widths[i]! - cells(text));
        const last = k === shown.length - 1;
        const painted = paint(style(i), text);
        return c.align === 'right' ? pad + painted : last ? painted : painted + pad;
      })
      .join(' '.repeat(GAP))
      .trimEnd();
  return [
    line(
      columns.map((c) => c.head),
      () => 'bold',
    ),
    ...rows.map((r, n) => line(texts[n]!, (i) => columns[i]!.style?.(r))),
  ];
}

/** The width tables fit: the terminal's; into a pipe, $COLUMNS when set, else no limit. */
export function terminalWidth(stream: NodeJS.WriteStream = process.stdout): number {
  if (stream.isTTY && stream.columns) return stream.columns;
  const columns = Number(process.env.COLUMNS);
  return columns > 0 ? columns : Infinity;
}

/** `text` in at most `width` cells, an ellipsis where it was cut. */
export function clip(text: string, width: number, keepEnd = false): string {
  if (cells(text) <= width) return text;
  if (width <= 0) return '';
  const chars = [...text];
  if (keepEnd) chars.reverse();
  let used = 1;
  let n = 0;
  while (n < chars.length && used + cellsOf(chars[n]!) <= width) used += cellsOf(chars[n++]!);
  const kept = chars.slice(0, n);
  return keepEnd ? '…' + kept.reverse().join('') : kept.join('') + '…';
}

/** How many terminal cells `text` takes. */
export function cells(text: string): number {
  // The common case: nothing but printable ASCII.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let n = 0;
  for (const ch of text) n += cellsOf(ch);
  return n;
}

const ZERO = /^[\p{Mn}\p{Me}\p{Cf}]$/u;
const WIDE =
  /^[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f680}-\u{1f6ff}\u{1f900}-\u{1f9ff}\u{1fa70}-\u{1faff}\u{20000}-\u{3fffd}]$/u;

function cellsOf(ch: string): number {
  if (ch.charCodeAt(0) < 0x300) return 1;
  if (ZERO.test(ch)) return 0;
  return WIDE.test(ch) ? 2 : 1;
}

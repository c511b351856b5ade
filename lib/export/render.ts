// What every renderer shares: its shape (facts and a stream of items in, text chunks out) and the
// small formatting helpers for people-facing formats.
import type { Item, SessionFacts, ToolCallItem, TurnItem } from '../items/model.js';

export interface RenderContext {
  /** 0 for the first session written to this output, 1 for the next, ... */
  index: number;
}

/**
 * A renderer turns each batch of items into the pieces of text that render it. Pieces stay apart
 * (joining them would build a string only to encode it once): the writer encodes each in place.
 */
export type Renderer = (facts: SessionFacts, items: AsyncIterable<Item[]>, ctx: RenderContext) => AsyncGenerator<string[]>;

/** The batches of `items`, each item rendered by `item`. */
export async function* each(items: AsyncIterable<Item[]>, item: (it: Item) => string): AsyncGenerator<string[]> {
  for await (const batch of items) if (batch.length) yield batch.map(item);
}

/** `2026-08-20T14:03:07.391Z` as `2026-08-20 14:03:07 UTC`. */
export function when(iso: string | null): string {
  if (!iso) return '';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
}

/** `12,345`: grouped by hand, since Intl would map megabytes of ICU data for the one format. */
export const count = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

export function duration(ms: number | null): string {
  if (ms === null) return '';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  return s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** A title on one line, at most 120 characters. */
export function oneLine(text: string, max = 120): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The facts worth a reader's eye, as label/value pairs. */
export function factRows(f: SessionFacts): Array<[string, string]> {
  const rows: Array<[string, string]> = [['Session', f.session]];
  if (f.cwd) rows.push(['Directory', f.cwd]);
  if (f.git?.branch || f.git?.commit) rows.push(['Branch', [f.git.branch, f.git.commit ? `(${f.git.commit.slice(0, 10)})` : ''].filter(Boolean).join(' ')]);
  if (f.model) rows.push(['Model', f.provider ? `${f.model} (${f.provider})` : f.model]);
  if (f.created) rows.push(['Created', when(f.created)]);
  let turns = count(f.turns);
  if (f.inherited_turns) turns += `, ${count(f.inherited_turns)} inherited${f.forked_from ? ` from ${f.forked_from}` : ''}`;
  if (f.rolled_back_turns) turns += `, ${count(f.rolled_back_turns)} rolled back`;
  rows.push(['Turns', turns]);
  if (f.tokens)
    rows.push([
      'Tokens',
      `${count(f.tokens.total)} (input ${count(f.tokens.input)}, cached ${count(f.tokens.cached_input)}, output ${count(f.tokens.output)})`,
    ]);
  if (f.compactions) rows.push(['Compactions', count(f.compactions)]);
  if (f.cli_version) rows.push(['Codex', f.cli_version]);
  return rows;
}

/** `exit 0 · 28 ms` and the like, for a tool call's heading. */
export function callStatus(c: ToolCallItem): string {
  const parts: string[] = [];
  if (c.exit_code !== null) parts.push(`exit ${c.exit_code}`);
  if (c.duration_ms !== null) parts.push(duration(c.duration_ms));
  return parts.join(' · ');
}

/** The body of a shell output below its `Output:` header (the header's facts are shown apart). */
export function outputBody(output: string): string {
  const m = /^(?:(?:Chunk ID|Wall time|Process exited with code|Original token count|Total output lines|Exit code)[^\n]*\n)+Output:\n/.exec(output);
  return m ? output.slice(m[0].length) : output;
}

export function roleLabel(item: Extract<Item, { kind: 'message' }>): string {
  const role = item.role === 'user' ? 'User' : item.role === 'assistant' ? 'Assistant' : item.role === 'developer' ? 'Developer' : 'System';
  const notes = [item.context && item.role === 'user' ? 'context' : '', item.phase === 'commentary' ? 'commentary' : ''].filter(Boolean);
  return notes.length ? `${role} (${notes.join(', ')})` : role;
}

/** What a turn's heading says beside its number: when, and whether it was interrupted, failed or inherited. */
export function turnNote(it: TurnItem): string {
  const notes = [when(it.time)];
  if (it.status === 'aborted') notes.push('interrupted');
  if (it.status === 'failed') notes.push(`failed${it.error ? `: ${oneLine(it.error, 200)}` : ''}`);
  if (it.inherited) notes.push('inherited');
  return notes.filter(Boolean).join(' · ');
}

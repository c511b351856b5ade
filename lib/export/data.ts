// The formats for tools: `json` (one document per session, written as it streams: the opening, the
// items one per line, the closing), `ndjson` (the session's facts, then one item per line) and
// `csv` (one row per tool call, RFC 4180).
import { FORMAT_NAME, MODEL_VERSION } from '../items/model.js';
import { each, type Renderer } from './render.js';

export const json: Renderer = async function* (facts, items) {
  yield [`{"format":"${FORMAT_NAME}","version":${MODEL_VERSION},"session":${JSON.stringify(facts)},"items":[`];
  let first = true;
  yield* each(items, (it) => {
    const line = `${first ? '\n' : ',\n'}${JSON.stringify(it)}`;
    first = false;
    return line;
  });
  yield [`${first ? '' : '\n'}]}\n`];
};

export const ndjson: Renderer = async function* (facts, items) {
  yield [JSON.stringify(facts) + '\n'];
  yield* each(items, (it) => JSON.stringify(it) + '\n');
};

export const CSV_COLUMNS = ['session', 'time', 'turn', 'tool', 'command', 'exit_code', 'duration_ms', 'cwd', 'call_id'] as const;

/** One RFC 4180 field: quoted when it holds a comma, a quote or a line break; quotes doubled. */
export function csvField(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const row = (fields: unknown[]) => fields.map(csvField).join(',') + '\r\n';

export const csv: Renderer = async function* (_facts, items, ctx) {
  if (ctx.index === 0) yield [row([...CSV_COLUMNS])];
  yield* each(items, (it) =>
    it.kind === 'tool_call' ? row([it.session, it.time, it.turn, it.tool, it.command ?? it.input, it.exit_code, it.duration_ms, it.cwd, it.call_id]) : '',
  );
};

// `--format md`: a transcript to read. Session text is Markdown already (people and models write
// it), so messages go in as they are; commands and outputs go in fences longer than any run of
// backticks inside them, so nothing they contain can close the fence.
import type { Item, SessionFacts } from '../items/model.js';
import { callStatus, count, each, factRows, oneLine, outputBody, roleLabel, turnNote, type Renderer } from './render.js';

/** A fence that `text` cannot close. */
export function fence(text: string, info = ''): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const f = '`'.repeat(Math.max(3, longest + 1));
  return `${f}${info}\n${text}${text.endsWith('\n') ? '' : '\n'}${f}\n`;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A value shown as inline code. */
function code(s: string): string {
  const longest = Math.max(0, ...(s.match(/`+/g) ?? []).map((r) => r.length));
  const tick = '`'.repeat(longest + 1);
  return s.includes('`') ? `${tick} ${s} ${tick}` : `${tick}${s}${tick}`;
}

function header(f: SessionFacts): string {
  const out = [`# ${escapeHtml(oneLine(f.name ?? f.title ?? 'Codex session'))}`, ''];
  for (const [label, value] of factRows(f)) {
    out.push(`- **${label}:** ${label === 'Session' || label === 'Directory' ? code(value) : value}`);
  }
  return out.join('\n') + '\n';
}

function item(it: Item): string {
  switch (it.kind) {
    case 'turn': {
      const note = turnNote(it);
      return `\n## Turn ${it.turn}${note ? ` · ${note}` : ''}\n`;
    }
    case 'message':
      return `\n**${roleLabel(it)}**\n\n${it.text.trim() || '*(empty)*'}\n`;
    case 'reasoning':
      return `\n> *Reasoning:* ${it.text.trim().split('\n').join('\n> ')}\n`;
    case 'compaction':
      return `\n*Context compacted${it.replaced_by !== null ? ` (the model now sees ${it.replaced_by} item${it.replaced_by === 1 ? '' : 's'})` : ''}.*\n${it.summary.trim() ? `\n${fence(it.summary.trim(), 'text')}` : ''}`;
    case 'tool_call': {
      const status = callStatus(it);
      let out = `\n**Tool** ${code(it.tool)}${status ? ` · ${status}` : ''}${it.cwd ? ` · in ${code(it.cwd)}` : ''}\n`;
      const input = it.command ?? it.input;
      if (input) out += `\n${fence(input, it.command !== null ? 'sh' : '')}`;
      if (it.output !== null) {
        const body = outputBody(it.output);
        const lines = body ? body.split('\n').length - (body.endsWith('\n') ? 1 : 0) : 0;
        const cut = it.omitted_chars ? `, ${count(it.omitted_chars)} more characters left out` : '';
        out += `\n<details><summary>Output (${lines} line${lines === 1 ? '' : 's'}${cut})</summary>\n\n${fence(body, 'text')}\n</details>\n`;
      }
      return out;
    }
  }
}

export const markdown: Renderer = async function* (facts, items, ctx) {
  if (ctx.index > 0) yield ['\n---\n\n'];
  yield [header(facts)];
  yield* each(items, item);
};

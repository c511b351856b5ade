// `--format html`: one self-contained page (inline CSS, no script, no network), light or dark as the
// reader's system prefers, tool outputs folded in <details>. Transcripts carry hostile markup (a
// model reads web pages; people paste anything), so every piece of session text passes through
// `escapeHtml`, and a Content-Security-Policy forbids scripts and remote loads should one slip by.
import type { Item, SessionFacts } from '../items/model.js';
import { callStatus, count, each, factRows, oneLine, outputBody, roleLabel, turnNote, type Renderer } from './render.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--user:#eef6ff;--asst:#f6f8fa;--code:#f6f8fa;--ok:#1a7f37;--bad:#cf222e;--ctx:#fff8c5}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--user:#112240;--asst:#161b22;--code:#151b23;--ok:#3fb950;--bad:#f85149;--ctx:#2e2a12}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif}
main{max-width:56rem;margin:0 auto;padding:2rem 1rem 4rem}
h1{font-size:1.5rem;margin:0 0 1rem;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:2.2rem 0 .8rem;padding-bottom:.3rem;border-bottom:1px solid var(--line)}
h2 .note{font-weight:normal;color:var(--muted);font-size:.9rem;margin-left:.5rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0;color:var(--muted);font-size:.9rem}
dl.facts dt{font-weight:600}dl.facts dd{margin:0;overflow-wrap:anywhere}
.msg{margin:.8rem 0;padding:.6rem .9rem;border-radius:8px;border:1px solid var(--line)}
.msg.user{background:var(--user)}.msg.assistant{background:var(--asst)}.msg.context{background:var(--ctx)}
.who{font-size:.8rem;font-weight:600;color:var(--muted);margin-bottom:.2rem}
.text{white-space:pre-wrap;overflow-wrap:anywhere}
.reasoning{margin:.6rem 0;padding-left:.8rem;border-left:3px solid var(--line);color:var(--muted);font-style:italic;white-space:pre-wrap}
details.tool{margin:.6rem 0;border:1px solid var(--line);border-radius:8px;background:var(--code)}
details.tool summary{cursor:pointer;padding:.4rem .7rem;font-size:.9rem;overflow-wrap:anywhere}
details.tool summary code{font-weight:600}
.cmd{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
.ok{color:var(--ok)}.bad{color:var(--bad)}.muted{color:var(--muted)}
pre{margin:0;padding:.6rem .8rem;border-top:1px solid var(--line);overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere;font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace}
.compaction{margin:1rem 0;color:var(--muted);font-size:.9rem}
.compaction pre{border:1px solid var(--line);border-radius:6px}
`;

function head(f: SessionFacts): string {
  const title = escapeHtml(oneLine(f.name ?? f.title ?? 'Codex session'));
  const facts = factRows(f)
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`)
    .join('');
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta name="generator" content="rollout-export"><title>${title}</title><style>${CSS}</style></head>\n` +
    `<body><main>\n<header><h1>${title}</h1><dl class="facts">${facts}</dl></header>\n`
  );
}

function firstLine(s: string): string {
  return oneLine(s.split('\n', 1)[0]!, 160);
}

function item(it: Item): string {
  switch (it.kind) {
    case 'turn': {
      const note = turnNote(it);
      return `<h2 id="turn-${it.turn}">Turn ${it.turn}${note ? `<span class="note">${escapeHtml(note)}</span>` : ''}</h2>\n`;
    }
    case 'message': {
      const cls = it.context ? 'context' : it.role;
      return `<div class="msg ${cls}"><div class="who">${escapeHtml(roleLabel(it))}</div><div class="text">${escapeHtml(it.text.trim())}</div></div>\n`;
    }
    case 'reasoning':
      // Summaries title themselves `**Like this**`; bold is the one piece of Markdown worth showing.
      return `<div class="reasoning">${escapeHtml(it.text.trim()).replace(/\*\*([^*\n]+)\*\*/g, '<strong>$1</strong>')}</div>\n`;
    case 'compaction':
      return (
        `<div class="compaction">Context compacted${it.replaced_by !== null ? ` (the model now sees ${it.replaced_by} item${it.replaced_by === 1 ? '' : 's'})` : ''}.` +
        (it.summary.trim() ? `<pre>${escapeHtml(it.summary.trim())}</pre>` : '') +
        `</div>\n`
      );
    case 'tool_call': {
      const input = it.command ?? it.input ?? '';
      const status = callStatus(it);
      const cls = it.exit_code === null ? 'muted' : it.exit_code === 0 ? 'ok' : 'bad';
      const summary =
        `<code>${escapeHtml(it.tool)}</code>` +
        (input ? ` <span class="cmd">${escapeHtml(firstLine(input))}</span>` : '') +
        (status ? ` <span class="${cls}">${escapeHtml(status)}</span>` : '');
      const cwd = it.cwd ? `<pre class="muted">in ${escapeHtml(it.cwd)}</pre>` : '';
      const full = input && (input.includes('\n') || input.length > 160) ? `<pre class="cmd">${escapeHtml(input)}</pre>` : '';
      let output = '';
      if (it.output !== null) {
        const cut = it.omitted_chars ? `\n… ${count(it.omitted_chars)} more characters left out` : '';
        output = `<pre>${escapeHtml(outputBody(it.output))}${escapeHtml(cut)}</pre>`;
      }
      return `<details class="tool"><summary>${summary}</summary>${cwd}${full}${output}</details>\n`;
    }
  }
}

export const html: Renderer = async function* (facts, items) {
  yield [head(facts)];
  yield* each(items, item);
  yield [`</main></body></html>\n`];
};

// What people type into --search, as an FTS5 query. A word is searched as typed, punctuation
// included: `gpt-5`, `src/main.rs`, `can't`, `foo.bar` become quoted phrases (FTS5 would read `-`,
// `.`, `:` and `'` as syntax, or fail on them). What FTS5 offers on purpose still works when it is
// used: AND, OR and NOT in capitals, "quoted phrases", NEAR(a b, N), prefix*, parentheses.
import { UsageError } from '../cli/errors.js';

const OPERATORS = new Set(['AND', 'OR', 'NOT']);

/** A word FTS5 takes bare: letters and digits of any script, underscore (anything else is quoted). */
const BAREWORD = /^[\p{L}\p{N}_]+$/u;

const HINT = `words are searched as typed; AND, OR, NOT (in capitals), "phrases", NEAR(a b) and prefix* combine them`;

const phrase = (word: string) => `"${word.replace(/"/g, '""')}"`;

/** The FTS5 query for `text`; a usage error (with the grammar) when it cannot be one. */
export function ftsMatch(text: string): string {
  const out: string[] = [];
  let depth = 0;
  let near = -1; // the depth a NEAR( group opened at, while inside one
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      // A phrase as FTS5 writes one: "" inside is a quote.
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q === -1) throw new UsageError(`--search ${JSON.stringify(text)}: a " is not closed (${HINT})`);
        if (text[q + 1] === '"') j = q + 2;
        else {
          j = q + 1;
          break;
        }
      }
      out.push(text.slice(i, j) + (text[j] === '*' ? '*' : ''));
      i = text[j] === '*' ? j + 1 : j;
    } else if (c === '(') {
      depth++;
      out.push('(');
      i++;
    } else if (c === ')') {
      if (depth === 0) throw new UsageError(`--search ${JSON.stringify(text)}: a ) without its ( (${HINT})`);
      if (near === depth) near = -1;
      depth--;
      out.push(')');
      i++;
    } else {
      let j = i;
      while (j < text.length && !/[\s"()]/.test(text[j]!)) j++;
      const word = text.slice(i, j);
      i = j;
      if (word === 'NEAR' && text[j] === '(') {
        out.push('NEAR');
        near = depth + 1;
      } else if (near !== -1 && /^.+,\d+$/.test(word)) {
        const at = word.lastIndexOf(',');
        out.push(term(word.slice(0, at)), ',', word.slice(at + 1));
      } else if (near !== -1 && /^,\d*$/.test(word)) out.push(word);
      else if (near !== -1 && /^\d+$/.test(word) && out[out.length - 1] === ',') out.push(word);
      else if (near !== -1 && word.endsWith(',')) out.push(term(word.slice(0, -1)), ',');
      else out.push(OPERATORS.has(word) ? word : term(word));
    }
  }
  if (depth > 0) throw new UsageError(`--search ${JSON.stringify(text)}: a ( is not closed (${HINT})`);
  if (!out.length) throw new UsageError(`--search needs something to look for (${HINT})`);
  return out.join(' ');
}

/** One typed word: a bareword (or prefix*) as it is, anything else as a phrase. */
function term(word: string): string {
  const prefix = word.endsWith('*') && word.length > 1;
  const base = prefix ? word.slice(0, -1) : word;
  const quoted = BAREWORD.test(base) ? base : phrase(base);
  return prefix ? `${quoted}*` : quoted;
}

/** The usage error for a query FTS5 still refused (a dangling operator, say): never SQLite's words. */
export function badQuery(text: string): UsageError {
  return new UsageError(`--search ${JSON.stringify(text)} cannot run as a search (an AND, OR, NOT or NEAR without its terms?); ${HINT}`);
}

// What reaches a terminal. Session text is data from anywhere: a name, a first message or a branch
// may hold ESC sequences (`\e[2J` clears the screen, `\e]0;...\a` retitles the window) or
// bidirectional overrides that make text read other than it is. Everything written for a person
// shows them as visible escapes; machine output (NDJSON) stays exact, its risky characters written
// as JSON escapes that parse to the same value.

/** C0 controls, DEL, C1 controls, and the bidirectional formatting characters. */
// eslint-disable-next-line no-control-regex -- control characters are what it is for
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x1b': '\\e' };

function escape(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}

/** `text` with every control and bidirectional formatting character shown as an escape (`\e`, `\x07`, `\u202e`). */
export function visible(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escape) : text;
}

/** Text for a terminal that keeps its lines and tabs (a transcript): every other control character escaped. */
export function printable(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, (c) => (c === '\n' || c === '\t' ? c : escape(c))) : text;
}

/** Whether `text` holds a character `visible` would escape. */
export const hasControl = (text: string): boolean => UNSAFE.test(text);

/** JSON text whose characters a terminal could act on are JSON escapes (JSON.stringify leaves DEL, C1 and bidi ones raw). */
const RAW_IN_JSON = /[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;
const RAW_IN_JSON_ALL = new RegExp(RAW_IN_JSON.source, 'g');

export function safeJson(json: string): string {
  return RAW_IN_JSON.test(json) ? json.replace(RAW_IN_JSON_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

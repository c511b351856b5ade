// Nothing a session holds can act on a terminal: names, first messages and branches carrying ESC
// sequences or direction overrides are shown as escapes in tables, in --format lines and in every
// diagnostic, while NDJSON stays exact JSON. Run on a real pseudo-terminal.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ndjson, run, tmpDir, writeSession } from './helpers/fixtures.js';
import { onTerminal } from './helpers/tty.js';

const CLEAR = '\x1b[2J';
const TITLE = '\x1b]0;pwned\x07';
const RLO = '\u202e';
const C1 = '\u009b31m';

function home(t: Parameters<typeof tmpDir>[0]) {
  const dir = tmpDir(t);
  const s = writeSession(dir, { git: { branch: `main${RLO}txt.exe`, commit_hash: 'abc' }, turns: [{ user: `hello ${TITLE} there ${C1}` }] });
  writeFileSync(join(dir, 'session_index.jsonl'), JSON.stringify({ id: s.id, thread_name: `evil ${CLEAR} name`, updated_at: '2026-08-20T15:00:00Z' }) + '\n');
  return { dir, s };
}

/** No byte a terminal would act on: C0 but line feeds and tabs, DEL, C1, direction overrides. */
// eslint-disable-next-line no-control-regex -- these are exactly what must not appear
const raw = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

t.test('rollout-ls on a terminal: the table shows escapes, not the sequences', async (t) => {
  const h = home(t);
  const r = onTerminal('rollout-ls', [], { env: { CODEX_HOME: h.dir, ROLLOUT_INDEX: '', NO_COLOR: '1' } });
  t.equal(r.code, 0, r.screen);
  t.notMatch(r.screen, raw, 'nothing raw reached the terminal');
  const colored = onTerminal('rollout-ls', [], { env: { CODEX_HOME: h.dir, ROLLOUT_INDEX: '' } }).screen;
  // eslint-disable-next-line no-control-regex -- the table's own colours are the only sequences
  t.notMatch(colored.replace(/\x1b\[[0-9;]*m/g, ''), raw, 'in colour, nothing but the colours');
  t.match(r.screen, 'evil \\e[2J name', 'the name, its escape visible');
  t.match(r.screen, 'main\\u202etxt.exe', 'the branch, its override visible');
});

t.test('--format lines: escaped on a terminal, exact into a pipe', async (t) => {
  const h = home(t);
  const env = { CODEX_HOME: h.dir, ROLLOUT_INDEX: '' };
  const tty = onTerminal('rollout-ls', ['--format', '%(name)|%(title)|%(branch)'], { env });
  t.notMatch(tty.screen, raw);
  t.match(tty.screen, 'evil \\e[2J name|hello \\e]0;pwned\\x07 there \\x9b31m|main\\u202etxt.exe');
  const piped = run('rollout-ls', ['--format', '%(name)|%(title)|%(branch)'], { env });
  t.equal(piped.out, `evil ${CLEAR} name|hello ${TITLE} there ${C1}|main${RLO}txt.exe\n`, 'a pipe gets the text as it is');
});

t.test('NDJSON stays exact JSON, with nothing raw a terminal would act on', async (t) => {
  const h = home(t);
  const r = run('rollout-ls', ['--json'], { env: { CODEX_HOME: h.dir, ROLLOUT_INDEX: '' } });
  t.notMatch(r.out, raw, 'C1 and overrides written as JSON escapes');
  const [row] = ndjson(r.out);
  t.equal(row.name, `evil ${CLEAR} name`, 'the same value once parsed');
  t.equal(row.title, `hello ${TITLE} there ${C1}`);
  t.equal(row.git_branch, `main${RLO}txt.exe`);
});

t.test('every diagnostic on stderr shows escapes', async (t) => {
  const h = home(t);
  const out = join(tmpDir(t), 'out');
  for (const [bin, args] of [
    ['rollout-cat', [`no${CLEAR}such`]],
    ['rollout-export', [`no${TITLE}such`]],
    ['rollout-ls', ['--format', `%(nope${CLEAR})`, '--bogus']],
    ['rollout-fork', [`x${RLO}y`]],
  ] as const) {
    const r = onTerminal(bin, [...args], { env: { CODEX_HOME: h.dir, ROLLOUT_INDEX: '' }, stdoutTo: out });
    t.not(r.code, 0, `${bin} fails`);
    t.match(r.screen, new RegExp(`^${bin}: error: `), `${bin}: an error line`);
    t.notMatch(r.screen, raw, `${bin}: nothing raw on stderr (${JSON.stringify(r.screen)})`);
  }
});

t.test('rollout-export to a terminal shows escapes; to a file the text is exact', async (t) => {
  const h = home(t);
  const env = { CODEX_HOME: h.dir, ROLLOUT_INDEX: '' };
  for (const f of ['md', 'json']) {
    const r = onTerminal('rollout-export', ['-f', f, h.s.id], { env });
    t.equal(r.code, 0);
    t.notMatch(r.screen, raw, `${f}: nothing raw on the terminal`);
  }
  const file = join(tmpDir(t), 'x.md');
  t.equal(run('rollout-export', ['-o', file, h.s.id], { env }).code, 0);
  t.ok(readFileSync(file, 'utf8').includes(TITLE), 'a file gets the transcript as it is');
});

t.test('rollout-name refuses names with control characters, line breaks or direction overrides', async (t) => {
  const h = home(t);
  for (const name of [`two\nlines`, `bell\x07`, `esc${CLEAR}`, `rlo${RLO}`, `tab\there`]) {
    const r = run('rollout-name', [h.s.id, name], { env: { CODEX_HOME: h.dir } });
    t.equal(r.code, 2, JSON.stringify(name));
    t.match(r.err, /^rollout-name: error: a name cannot hold control characters/);
    t.notMatch(r.err, raw);
  }
});

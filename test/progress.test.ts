// The progress bar of every binary that does long work, on a real pseudo-terminal: with --progress
// its final frame shows the whole count, the bytes, a rate and an ETA, and the line is cleared;
// with --no-progress, with -q, or into a pipe nothing of it shows; and stdout is the same byte for
// byte whichever is asked. (Whether a bar shows on its own depends on how long the work takes: the
// unit tests of lib/cli/progress.ts check that part on a clock of their own.)
/* eslint-disable no-control-regex -- a bar on a terminal is made of control characters */
import { appendFileSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { humanBytes } from '../lib/cli/units.js';
import { run, tmpDir, writeSession } from './helpers/fixtures.js';
import { onTerminal } from './helpers/tty.js';

const SESSIONS = 6;
const OLD = new Date('2026-01-15T10:00:00Z');

function home(t: Parameters<typeof tmpDir>[0]) {
  const dir = tmpDir(t);
  const ids: string[] = [];
  const paths: string[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const s = writeSession(
      dir,
      { start: new Date(OLD.getTime() + i * 60_000), turns: [{ user: `question ${i}`, tool: { cmd: 'ls', output: 'x'.repeat(500 * i) } }] },
      { mtime: OLD },
    );
    paths.push(s.path);
    ids.push(s.id);
  }
  const index = join(tmpDir(t), 'index.sqlite');
  const refs = join(tmpDir(t), 'refs');
  writeFileSync(refs, ids.join('\n') + '\n');
  const bytes = () => paths.reduce((n, p) => n + statSync(p).size, 0);
  return { dir, index, refs, paths, bytes, env: { CODEX_HOME: dir, ROLLOUT_INDEX: index } };
}

type Home = ReturnType<typeof home>;

interface Case {
  bin: string;
  args: string[];
  /** What the bar says it does. */
  label: string;
  noun: string;
  stdin?: (h: Home) => string;
  /** The exit status it ends with (default 0). */
  code?: number;
  /** Makes the home what the case needs. */
  init?: (h: Home) => void;
  /** Before each run: an index to build anew, for the binaries whose long work is building it. */
  noIndex?: boolean;
  /** Stdout made comparable between runs (rollout-index says how long it took). */
  same?: (out: string) => string;
}

const CASES: Case[] = [
  { bin: 'rollout-index', args: [], label: 'rollout-index: indexing', noun: 'file', noIndex: true, same: (o) => o.replace(/"ms":\d+/, '"ms":0') },
  { bin: 'rollout-index', args: ['--rebuild'], label: 'rollout-index: indexing', noun: 'file', same: (o) => o.replace(/"ms":\d+/, '"ms":0') },
  { bin: 'rollout-ls', args: [], label: 'rollout-ls: indexing', noun: 'file', noIndex: true },
  { bin: 'rollout-prune', args: ['--older-than', '30d', '--grace', '0', '-n'], label: 'rollout-prune: deleting (dry run)', noun: 'session' },
  { bin: 'rollout-export', args: ['--batch', '-f', 'ndjson'], label: 'rollout-export: exporting', noun: 'session', stdin: (h) => h.refs },
  { bin: 'rollout-bundle', args: ['--include-archived'], label: 'rollout-bundle: bundling', noun: 'file' },
  // A torn last line, so that there is a problem to print.
  {
    bin: 'rollout-fsck',
    args: [],
    label: 'rollout-fsck: checking',
    noun: 'file',
    code: 1,
    init: (h) => appendFileSync(h.paths[2], '{"timestamp":"2026-01-15'),
  },
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The final frame of a bar that did all its work: count, bytes, rate and ETA. */
const finalFrame = (c: Pick<Case, 'label' | 'noun'>, h: Home, bytes = h.bytes()) =>
  `${escape(c.label)} (?:\\[#+\\] )?100% ${SESSIONS}/${SESSIONS} ${c.noun}s, ${escape(humanBytes(bytes))}/${escape(humanBytes(bytes))}, ` +
  `\\d+(?:\\.\\d)? [KMGT]?B/s, ETA 0:00`;

const BAR_TRACE = /\r|\x1b\[K|ETA /;

function onTty(t: Parameters<typeof tmpDir>[0], c: Case, h: Home, extra: string[]) {
  if (c.noIndex) rmSync(h.index, { force: true });
  const out = join(tmpDir(t), 'stdout');
  const r = onTerminal(c.bin, [...c.args, ...extra], { env: h.env, stdoutTo: out, stdinFrom: c.stdin?.(h), columns: 160 });
  return { ...r, stdout: readFileSync(out) };
}

function piped(c: Case, h: Home, extra: string[]) {
  if (c.noIndex) rmSync(h.index, { force: true });
  return run(c.bin, [...c.args, ...extra], { env: h.env, input: c.stdin ? readFileSync(c.stdin(h)) : '' });
}

for (const c of CASES) {
  t.test(`${c.bin} ${c.args.join(' ')}`, async (t) => {
    const h = home(t);
    c.init?.(h);
    // The index exists for the binaries whose long work is not building it.
    if (!c.noIndex) t.equal(run('rollout-index', [], { env: h.env }).code, 0);

    const forced = onTty(t, c, h, ['--progress']);
    t.equal(forced.code, c.code ?? 0, forced.screen);
    t.match(forced.screen, new RegExp(`\\r${finalFrame(c, h)}\\x1b\\[K\\r\\x1b\\[K`), '--progress: the final frame, then the line cleared');

    const quiet = onTty(t, c, h, ['-q', '--progress']);
    t.match(quiet.screen, new RegExp(finalFrame(c, h)), '-q --progress: still drawn');

    const off = onTty(t, c, h, ['--no-progress']);
    t.equal(off.code, c.code ?? 0);
    t.notMatch(off.screen, BAR_TRACE, '--no-progress: nothing of a bar');
    t.notMatch(off.screen, c.label);

    const q = onTty(t, c, h, ['-q']);
    t.notMatch(q.screen, BAR_TRACE, '-q: nothing of a bar');

    const pipe = piped(c, h, []);
    t.equal(pipe.code, c.code ?? 0, pipe.err);
    t.notMatch(pipe.err, BAR_TRACE, 'into a pipe: nothing of a bar');

    const pipeForced = piped(c, h, ['--progress']);
    t.match(pipeForced.err, new RegExp(`^${finalFrame(c, h)}$`, 'm'), 'into a pipe with --progress: the final frame as a line');
    t.notMatch(pipeForced.err, /[\r\x1b]/, 'and no terminal controls');

    const same = c.same ?? ((o: string) => o);
    const expected = same(pipe.out);
    t.ok(expected.length > 0, 'the command printed something');
    for (const [what, bytes] of [
      ['--progress on a terminal', forced.stdout],
      ['--no-progress on a terminal', off.stdout],
      ['--progress into a pipe', pipeForced.stdout],
    ] as const) {
      t.equal(same(bytes.toString('utf8')), expected, `stdout with ${what} is stdout without a bar`);
    }
  });
}

t.test('rollout-prune --archive, never indexed: a bar over the index built to choose, then one over the sessions archived', async (t) => {
  const h = home(t);
  const bytes = h.bytes();
  const out = join(tmpDir(t), 'stdout');
  const r = onTerminal('rollout-prune', ['--older-than', '30d', '--grace', '0', '--archive', '--progress'], { env: h.env, stdoutTo: out });
  t.equal(r.code, 0, r.screen);
  const indexing = r.screen.search(new RegExp(`\\r${finalFrame({ label: 'rollout-prune: indexing', noun: 'file' }, h, bytes)}\\x1b\\[K\\r\\x1b\\[K`));
  const archiving = r.screen.search(new RegExp(`\\r${finalFrame({ label: 'rollout-prune: archiving', noun: 'session' }, h, bytes)}\\x1b\\[K\\r\\x1b\\[K`));
  t.ok(indexing !== -1 && archiving > indexing, 'indexing, then archiving, each cleared');
  t.match(r.screen, /\x1b\[Krollout-prune: archived 6 sessions/, 'the summary after the bar');
  t.equal(readFileSync(out, 'utf8').trim().split('\n').length, SESSIONS, 'a line per session archived');
});

// The progress bar on a clock and a terminal of the test's own: when it draws, what a frame says, and
// how it gives way to other writers.
/* eslint-disable no-control-regex -- a bar on a terminal is made of control characters */
import t from 'tap';
import { frame, Progress, progressMode, type ProgressMode } from '../../lib/cli/progress.js';
import { clearProgress, stdoutLineOpen } from '../../lib/cli/screen.js';

/** A bar writing into an array, on a clock the test moves. */
function bar(mode: ProgressMode, terminal: boolean, total = 10, totalBytes = 1000, columns = 120) {
  const out: string[] = [];
  const clock = { now: 0 };
  const p = new Progress('indexing', total, totalBytes, 'file', {
    mode,
    terminal,
    name: 'rollout-test',
    columns: () => columns,
    now: () => clock.now,
    write: (s) => out.push(s),
  });
  return { p, out, clock };
}

t.test('--progress and --no-progress: the last one given wins; -q alone turns the bar off', async (t) => {
  t.equal(progressMode([], false), 'auto');
  t.equal(progressMode(['-q'], true), 'off');
  t.equal(progressMode(['--progress', '-q'], true), 'on');
  t.equal(progressMode(['--progress', '--no-progress'], false), 'off');
  t.equal(progressMode(['--no-progress', '--progress'], false), 'on');
});

t.test('a frame: label, bar, count, bytes, rate and ETA', async (t) => {
  const f = { label: 'rollout-x: indexing', noun: 'file', done: 3, total: 12, bytes: 512 * 1024, totalBytes: 2048 * 1024, elapsedMs: 2000 };
  t.equal(frame(f), `rollout-x: indexing [########${' '.repeat(22)}] 25% 3/12 files, 512.0 KB/2.0 MB, 256.0 KB/s, ETA 0:06`);
  t.equal(frame({ ...f, done: 12, bytes: f.totalBytes }).endsWith('100% 12/12 files, 2.0 MB/2.0 MB, 1.0 MB/s, ETA 0:00'), true);
  t.match(frame({ ...f, done: 0, bytes: 0 }), /0% 0\/12 files, 0 B\/2\.0 MB, 0 B\/s, ETA --:--$/, 'nothing done yet: no ETA to give');
  t.match(frame({ ...f, total: 1, done: 0, totalBytes: 0, bytes: 0 }), / 0\/1 file, /, 'one file, and no bytes to count by');
  t.match(frame({ ...f, elapsedMs: 930_750 }), /ETA 46:32$/, 'minutes and seconds');
  t.match(frame({ ...f, elapsedMs: 1_241_000 }), /ETA 1:02:03$/, 'hours, minutes and seconds');
});

t.test('a frame fits the terminal: the bar narrows, then goes, then the text is cut', async (t) => {
  const f = { label: 'rollout-x: indexing', noun: 'file', done: 3, total: 12, bytes: 512, totalBytes: 2048, elapsedMs: 2000 };
  for (const columns of [200, 90, 70, 40, 10, 1]) {
    const line = frame(f, columns);
    t.ok(line.length <= Math.max(0, columns - 1), `${columns} columns: ${JSON.stringify(line)}`);
  }
  t.match(frame(f, 90), /\[#+ *\]/, 'a narrower bar');
  t.notMatch(frame(f, 70), /\[/, 'no room for a bar');
});

t.test('the label is made safe for a terminal', async (t) => {
  const line = frame({ label: 'x\x1b[2J', noun: 'file', done: 0, total: 1, bytes: 0, totalBytes: 0, elapsedMs: 0 });
  t.notMatch(line, /\x1b/);
  t.match(line, 'x\\e[2J');
});

t.test('left to itself on a terminal: nothing until the work has taken a moment, then at most every 100 ms', async (t) => {
  const { p, out, clock } = bar('auto', true);
  for (; clock.now < 700; clock.now += 50) p.add(0, 10);
  t.same(out, [], 'a quick start draws nothing');
  p.add(1, 10);
  t.equal(out.length, 1);
  t.match(out[0], /^\rrollout-test: indexing \[#* *\] \d+% 1\/10 files, .* ETA \d+:\d\d\x1b\[K$/);
  clock.now += 50;
  p.add(1, 10);
  t.equal(out.length, 1, 'not redrawn within 100 ms');
  clock.now += 50;
  p.add(1, 10);
  t.equal(out.length, 2, 'redrawn after 100 ms');
  p.finish();
  t.equal(out.at(-1), '\r\x1b[K', 'cleared at the end');
});

t.test('left to itself, a quick run never draws, and a run not on a terminal never draws', async (t) => {
  const quick = bar('auto', true);
  for (let i = 0; i < 10; i++) quick.p.add(1, 100);
  quick.p.finish();
  t.same(quick.out, []);
  const piped = bar('auto', false);
  piped.clock.now = 60_000;
  for (let i = 0; i < 10; i++) piped.p.add(1, 100);
  piped.p.finish();
  t.same(piped.out, []);
});

t.test('--no-progress: never, however long', async (t) => {
  const { p, out, clock } = bar('off', true);
  clock.now = 60_000;
  p.add(10, 1000);
  p.finish();
  t.same(out, []);
});

t.test('--progress: drawn at once, and a final frame with the full count even when quick', async (t) => {
  const term = bar('on', true);
  term.p.add(1, 100);
  for (let i = 0; i < 9; i++) term.p.add(1, 100);
  term.p.finish();
  t.equal(term.out.length, 3, 'first frame, final frame, clear');
  t.match(term.out[0], / 1\/10 files/);
  t.match(term.out[1], /^\rrollout-test: indexing \[#+\] 100% 10\/10 files, 1000 B\/1000 B, .*ETA 0:00\x1b\[K$/);
  t.equal(term.out[2], '\r\x1b[K');

  const piped = bar('on', false);
  for (let i = 0; i < 10; i++) {
    piped.p.add(1, 100);
    piped.clock.now += 400;
  }
  piped.p.finish();
  t.ok(
    piped.out.every((l) => l.endsWith('\n') && !/[\r\x1b]/.test(l)),
    'into a pipe: whole lines, no terminal controls',
  );
  t.same(
    piped.out.map((l) => /(\d+)\/10/.exec(l)![1]),
    ['1', '4', '7', '10'],
    'a line a second, and the last',
  );
});

t.test('--progress with nothing to do draws nothing', async (t) => {
  const { p, out } = bar('on', false, 0, 0);
  p.finish();
  t.same(out, []);
});

t.test('other writers to the terminal: the bar steps aside, and keeps off a line stdout left open', async (t) => {
  const { p, out, clock } = bar('on', true);
  p.add(1, 100);
  clearProgress();
  t.equal(out.at(-1), '\r\x1b[K', 'taken off before someone else writes');
  stdoutLineOpen(true);
  clock.now += 1000;
  p.add(1, 100);
  t.equal(out.length, 2, 'not drawn over a line stdout left open');
  stdoutLineOpen(false);
  clock.now += 1000;
  p.add(1, 100);
  t.equal(out.length, 3, 'drawn again once the line is ended');
  p.finish();
});

// Running a binary on a real pseudo-terminal (util-linux `script`), as a person at a terminal runs
// it: isTTY is true, the width is the terminal's. What the terminal was sent comes back as bytes.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { QUICK_START, REPO } from './fixtures.js';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface OnTerminal {
  /** What the terminal received (stdout, and stderr unless `stderrTo` took it), line ends as `\n`. */
  screen: string;
  code: number | null;
}

/**
 * Runs `bin args...` with stdout (and stderr) on a pseudo-terminal of `columns` columns.
 * `stdoutTo`/`stderrTo`: a file to send that stream to instead, so that only the other is a terminal;
 * `stdinFrom`: a file to read stdin from instead of the terminal.
 */
export function onTerminal(
  bin: string,
  args: string[],
  opts: { env?: Record<string, string | undefined>; columns?: number; stdoutTo?: string; stderrTo?: string; stdinFrom?: string; cwd?: string } = {},
): OnTerminal {
  const command = [process.execPath, join(REPO, 'dist/cmd', `${bin}.js`), ...args].map(quote).join(' ');
  const redirect =
    `${opts.stdinFrom ? ` <${quote(opts.stdinFrom)}` : ''}` +
    `${opts.stdoutTo ? ` >${quote(opts.stdoutTo)}` : ''}${opts.stderrTo ? ` 2>${quote(opts.stderrTo)}` : ''}`;
  const r = spawnSync('script', ['-q', '-e', '-c', `stty cols ${opts.columns ?? 100} rows 50; ${command}${redirect}`, '/dev/null'], {
    cwd: opts.cwd,
    // A person's terminal: the test runner's own NO_COLOR and FORCE_COLOR are not theirs.
    env: { ...process.env, ...QUICK_START, TERM: 'xterm-256color', NO_COLOR: undefined, FORCE_COLOR: undefined, ...opts.env },
    input: '',
    maxBuffer: 1 << 26,
  });
  return { screen: r.stdout.toString('utf8').replace(/\r\n/g, '\n'), code: r.status };
}

// Docs that run: every example in README.md, in each man page's EXAMPLES and in each --help runs
// here, against a home that holds what the examples name (test/helpers/docs-home.ts). An example
// passes when it exits 0, prints no error, and prints something (unless it writes to a file).
// Examples in one block share a home, in order, as a reader would type them. Examples that load a
// database (`psql "$DB"`) load a real PostgreSQL started for them; one that follows (`--follow`)
// runs for a few seconds and is stopped as a reader would stop it (SIGTERM to its process group).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { QUICK_START, REPO, run, tmpDir } from './helpers/fixtures.js';
import { writeDocsHome } from './helpers/docs-home.js';
import { startPostgres, type Postgres } from './helpers/postgres.js';

t.setTimeout(900_000);

const bin = tmpDir(t, 'rollout-bin-');
for (const name of readdirSync(join(REPO, 'dist/cmd')).filter((f) => f.endsWith('.js')))
  symlinkSync(join(REPO, 'dist/cmd', name), join(bin, name.slice(0, -3)));

/** A crontab line's command; other lines as they are. */
const command = (line: string) => line.replace(/^(?:[\d*/,-]+\s+){4}[\d*/,-]+\s+/, '');

/**
 * What an example needs that this suite cannot give it: `make` (it is the suite), and `codex` itself
 * (the interop suite runs the real one); of a `codex` line, the rollout command it is given runs.
 */
function runnable(line: string): string | null {
  if (/^make\b/.test(line)) return null;
  if (/^codex\b/.test(line)) return /\$\((rollout-[^)]*)\)/.exec(line)?.[1] ?? null;
  return command(line);
}

/** The indented example lines of a Markdown text, by block (a blank or prose line ends one). */
function blocks(md: string): string[][] {
  const out: string[][] = [];
  let block: string[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (!line.startsWith('    ')) {
      if (block.length) out.push(block);
      block = [];
      continue;
    }
    // A continued line (`\` at its end) goes with the next.
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i].trim();
    block.push(line.trim());
  }
  if (block.length) out.push(block);
  return out;
}

/** How each shell runs an example: without the reader's own startup files, a pipeline failing as a whole. */
const SHELLS: Record<string, string[]> = { bash: ['bash', '-o', 'pipefail'], zsh: ['zsh', '-f', '-o', 'pipefail'], fish: ['fish', '--no-config'] };

/** An example without the comment after it, and its shell: bash, unless the comment begins with fish or zsh. */
function example(text: string): { line: string; shell: string } {
  return { line: text.replace(/\s{2,}#\s.*$/, ''), shell: /\s{2,}#\s(fish|zsh)\b/.exec(text)?.[1] ?? 'bash' };
}

const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const section = (md: string, name: string) => md.split(new RegExp(`^## ${name}$`, 'm'))[1]?.split(/^## /m)[0] ?? '';
const sources: Array<[string, string[][]]> = [
  ['README.md', blocks(readme.split(/^## /m).slice(1).join('## '))],
  ...readdirSync(join(REPO, 'man'))
    .filter((f) => f.endsWith('.md'))
    .map((f): [string, string[][]] => [`man/${f} EXAMPLES`, blocks(section(readFileSync(join(REPO, 'man', f), 'utf8'), 'EXAMPLES'))]),
  ...readdirSync(join(REPO, 'cmd')).map((f): [string, string[][]] => {
    const help = run(f.replace(/\.ts$/, ''), ['--help']).out;
    return [
      `${f.replace(/\.ts$/, '')} --help`,
      [
        help
          .split(/^Examples:$/m)[1]
          .split(/^\S/m)[0]
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => l.trim()),
      ],
    ];
  }),
];

/** The server `$DB` names, started when an example first needs it. */
let pg: Postgres | null = null;
t.teardown(() => pg?.stop());
async function database(script: string): Promise<Record<string, string>> {
  if (!script.includes('$DB')) return {};
  pg ??= await startPostgres();
  return { DB: pg.url };
}

/** How long an example that follows runs before it is stopped. */
const FOLLOW_SECONDS = 3;
/** GNU timeout's status when it stopped the command. */
const TIMED_OUT = 124;

for (const [where, list] of sources) {
  t.test(where, async (t) => {
    let count = 0;
    for (const block of list) {
      const dir = tmpDir(t);
      const home = join(dir, 'codex-home');
      const user = join(dir, 'user');
      const work = join(user, 'work');
      mkdirSync(work, { recursive: true });
      writeDocsHome(home, work, user);
      for (const text of block) {
        const { line, shell } = example(text);
        const script = runnable(line);
        if (script === null) continue;
        count++;
        const follows = /--follow\b/.test(script);
        const [command, ...flags] = [...(follows ? ['timeout', '-s', 'TERM', String(FOLLOW_SECONDS)] : []), ...SHELLS[shell]];
        const db = await database(script);
        const r = spawnSync(command, [...flags, '-c', script], {
          cwd: work,
          env: {
            ...process.env,
            ...QUICK_START,
            PATH: `${bin}:${process.env.PATH}`,
            HOME: user,
            CODEX_HOME: home,
            ROLLOUT_INDEX: '',
            NO_COLOR: '1',
            TZ: 'UTC',
            ...db,
          },
          encoding: 'utf8',
          maxBuffer: 1 << 26,
        });
        const says = `${line}\n  stdout: ${r.stdout.slice(0, 300)}\n  stderr: ${r.stderr.slice(0, 600)}`;
        // rollout-fsck's status 1 is its answer (it found damage, and the docs home has some).
        const ok = r.status === 0 || (follows && r.status === TIMED_OUT) || (r.status === 1 && /^rollout-fsck\b/.test(script) && r.stdout.length > 0);
        t.ok(ok, `exits 0: ${says}`);
        t.notMatch(r.stderr, /error:/, `no error: ${line}`);
        // Silence is the answer of a check that finds nothing; output to a file is not on stdout.
        const toFile = /(?:>|>>)\s*\S+\s*$|\s-o\s/.test(script);
        // So is loading a script into the shell.
        const quietWhenWell = /rollout-fsck|--check|\bsource\b/.test(script);
        if (!toFile && !quietWhenWell) t.ok(r.stdout.trim().length > 0, `prints something: ${says}`);
      }
    }
    t.ok(count > 0, `${count} examples ran`);
  });
}

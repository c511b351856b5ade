// Shell completion in the real shells: each binary's script is loaded into bash, fish and zsh, which
// complete its flags, the values of its flags, and sessions from a real index through the installed
// rollout-ls; and every script offers exactly the flags its --help lists.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { QUICK_START, REPO, run, tmpDir, writeSession } from './helpers/fixtures.js';

t.setTimeout(300_000);

const binaries = readdirSync(join(REPO, 'cmd'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));

// The binaries on PATH, as `npm install -g` puts them: the scripts call rollout-ls by name.
const dir = tmpDir(t, 'rollout-completion-');
const bin = join(dir, 'bin');
mkdirSync(bin);
for (const b of binaries) symlinkSync(join(REPO, 'dist/cmd', `${b}.js`), join(bin, b));

// A home of two sessions, one named with a space in the name, and its index.
const home = join(dir, 'codex-home');
const named = writeSession(home, { start: new Date('2026-08-20T14:03:07.391Z'), turns: [{ user: 'fix the basket', assistant: 'done' }] });
const other = writeSession(home, { start: new Date('2026-08-21T09:00:00.000Z'), turns: [{ user: 'second thing', assistant: 'done' }] });
writeFileSync(join(home, 'session_index.jsonl'), JSON.stringify({ id: named.id, thread_name: 'release notes', updated_at: '2026-08-21T10:00:00Z' }) + '\n');
const work = join(dir, 'work');
mkdirSync(join(work, 'd one'), { recursive: true });
writeFileSync(join(work, 'saved.jsonl'), '');

const env = { ...process.env, ...QUICK_START, PATH: `${bin}:${process.env.PATH}`, HOME: dir, CODEX_HOME: home, ROLLOUT_INDEX: '', NO_COLOR: '1' };
t.equal(run('rollout-index', [], { env }).code, 0, 'the index is built');

const scripts = new Map<string, string>();
function script(b: string, shell: string): string {
  const key = `${b}.${shell}`;
  if (!scripts.has(key)) {
    const r = run(b, ['--completion', shell]);
    if (r.code !== 0 || r.err) throw new Error(`${b} --completion ${shell}: ${r.err}`);
    scripts.set(key, r.out);
    writeFileSync(join(dir, key), r.out);
  }
  return scripts.get(key)!;
}
/** The script, written to a file. */
const scriptFile = (b: string, shell: string) => (script(b, shell), join(dir, `${b}.${shell}`));

function shell(cmd: string, args: string[]): { out: string; err: string; code: number | null } {
  const r = spawnSync(cmd, args, { cwd: work, env, encoding: 'utf8', timeout: 60_000 });
  return { out: r.stdout, err: r.stderr, code: r.status };
}

/** What bash's completion function of `b` offers for `words` (the last one is being completed). */
function bash(b: string, ...words: string[]): string[] {
  const fn = `_${b.replace(/\W/g, '_')}`;
  const r = shell('bash', [
    '--norc',
    '--noprofile',
    '-c',
    `source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); ${fn}; printf '%s\\n' "\${COMPREPLY[@]}"`,
    scriptFile(b, 'bash'),
    b,
    ...words,
  ]);
  if (r.code !== 0 || r.err) throw new Error(`bash: ${r.code} ${r.err}`);
  return r.out.split('\n').filter(Boolean).sort();
}

/** What fish offers for the command line `line` (candidates without their descriptions). */
function fish(b: string, line: string): string[] {
  const r = shell('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', scriptFile(b, 'fish'), line]);
  if (r.code !== 0 || r.err) throw new Error(`fish: ${r.code} ${r.err}`);
  return r.out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t')[0])
    .sort();
}

/** The flags --help lists. */
function helpFlags(b: string): string[] {
  const section = run(b, ['--help'])
    .out.split(/^Options:$/m)[1]
    .split(/^\S/m)[0];
  return section
    .split('\n')
    .filter((l) => /^ {2}-/.test(l))
    .flatMap((l) =>
      [
        ...l
          .trim()
          .split(/ {2,}/)[0]
          .matchAll(/(?:^|[\s,])(--?[a-zA-Z][\w-]*)/g),
      ].map((m) => m[1]),
    )
    .sort();
}

const ids = [named.id, other.id].sort();

t.test('bash', async (t) => {
  t.same(bash('rollout-ls', '--so'), ['--sort', '--source'], 'flags');
  t.same(bash('rollout-cat', '-'), helpFlags('rollout-cat'), "'-' offers every flag");
  t.same(bash('rollout-export', '-f', ''), ['csv', 'html', 'json', 'md', 'ndjson'], 'a fixed set of values');
  t.same(bash('rollout-export', '--format', '=', 'n'), ['ndjson'], '--flag=value');
  t.same(bash('rollout-ls', '--sort', '-t'), ['-tokens', '-turns'], 'a descending --sort key');
  t.same(bash('rollout-fsck', '--completion', ''), ['bash', 'fish', 'zsh'], '<shell>');
  t.same(bash('rollout-fork', '--cwd', 'd'), ['d one'], '<dir>: directories');
  t.same(bash('rollout-fork', '--index', 'sav'), ['saved.jsonl'], '<file>: files');
  t.same(bash('rollout-ls', '--since', ''), [], 'a value typed by hand: nothing');

  t.same(bash('rollout-cat', ''), [...ids, 'release notes'].sort(), 'sessions: ids and names from the index');
  t.same(bash('rollout-cat', 'rel'), ['release notes'], 'a name with a space is one word');
  t.same(bash('rollout-export', named.id.slice(0, 6)), [named.id], 'an id prefix');
  t.same(bash('rollout-cat', '--type', 'event_msg', '-q', other.id, ''), [...ids, 'release notes'].sort(), 'every word of <session>...');
  t.same(bash('rollout-fork', '--cwd', 'd one', '--keep-turns', '2', ''), [...ids, 'release notes'].sort(), 'values are not sessions');
  t.same(bash('rollout-fork', other.id, ''), bash('rollout-fork', '-'), 'one <session>: then flags');
  t.same(bash('rollout-name', 'release notes', ''), bash('rollout-name', '-'), 'rollout-name <session> [<name>]: a name is typed');
  t.same(bash('rollout-cat', './sa'), ['./saved.jsonl'], 'a path completes as a path');
  for (const b of ['rollout-ls', 'rollout-index', 'rollout-prune']) t.same(bash(b, ''), bash(b, '-'), `${b} takes no session: flags`);

  t.same(bash('rollout-cat', '--codex-home', join(dir, 'nowhere'), ''), [], 'another home, without an index: nothing, and quiet');
  const elsewhere = join(dir, 'elsewhere');
  const third = writeSession(elsewhere, { turns: [{ user: 'elsewhere' }] });
  t.equal(run('rollout-index', ['--codex-home', elsewhere], { env }).code, 0);
  t.same(bash('rollout-cat', '--codex-home', elsewhere, ''), [third.id], '--codex-home on the line chooses the home');
  t.same(bash('rollout-cat', '--codex-home', '=', elsewhere, ''), [third.id], '--codex-home=DIR');
});

t.test('completing never updates the index', async (t) => {
  const stale = join(dir, 'stale');
  const first = writeSession(stale, { turns: [{ user: 'first' }] });
  t.equal(run('rollout-index', ['--codex-home', stale], { env }).code, 0);
  const index = join(stale, 'rollout-index.sqlite');
  const before = statSync(index);
  writeSession(stale, { start: new Date('2026-08-22T09:00:00.000Z'), turns: [{ user: 'late' }] });
  t.same(bash('rollout-cat', '--codex-home', stale, ''), [first.id], 'a session the index has not seen is not offered');
  t.same(statSync(index).mtimeMs, before.mtimeMs, 'the index is as it was');
  t.same(statSync(index).size, before.size);
});

t.test('fish', async (t) => {
  t.same(fish('rollout-ls', 'rollout-ls --so'), ['--sort', '--source'], 'flags');
  t.same(fish('rollout-export', 'rollout-export -f '), ['csv', 'html', 'json', 'md', 'ndjson'], 'a fixed set of values');
  t.same(fish('rollout-export', 'rollout-export --schema='), ['--schema=json', '--schema=ndjson'], 'an optional value');
  t.same(fish('rollout-fork', 'rollout-fork --cwd d'), ['d one/'], '<dir>: directories');
  t.same(fish('rollout-cat', 'rollout-cat '), [...ids, 'release notes'].sort(), 'sessions: ids and names');
  t.same(fish('rollout-cat', 'rollout-cat rel'), ['release notes'], 'a name with a space');
  t.same(fish('rollout-fork', `rollout-fork ${other.id} `), [], 'one <session> only');
  t.same(fish('rollout-fork', "rollout-fork --name 'x y' "), [...ids, 'release notes'].sort(), 'values are not sessions');
  t.same(fish('rollout-cat', 'rollout-cat ./sa'), ['./saved.jsonl'], 'a path completes as a path');
  t.same(fish('rollout-ls', 'rollout-ls '), [], 'rollout-ls takes no session');
});

// zsh completes only in its line editor: a real interactive zsh on a pseudo-terminal (zsh's own
// zpty), the scripts autoloaded from $fpath as `npm install -g` leaves them, and keys typed into it.
t.test('zsh', async (t) => {
  const functions = join(dir, 'site-functions');
  mkdirSync(functions);
  for (const b of binaries) writeFileSync(join(functions, `_${b}`), script(b, 'zsh'));
  for (const b of binaries) t.equal(shell('zsh', ['-n', join(functions, `_${b}`)]).code, 0, `${b}: zsh -n`);
  const zdotdir = join(dir, 'zdotdir');
  mkdirSync(zdotdir);
  writeFileSync(join(zdotdir, '.zshrc'), `fpath=(${functions} $fpath)\nautoload -U compinit && compinit -u -d ${dir}/zcompdump\nPS1='READY> '\n`);
  // Types `line` and a tab, and returns what the terminal shows once it has shown the pattern `expect`.
  const driver = [
    'zmodload zsh/zpty',
    'zpty z "ZDOTDIR=$1 TERM=dumb zsh -i"',
    "zpty -r z out '*READY> '",
    'zpty -w -n z "$2"$\'\\t\'',
    'zpty -r z out "*${~3}*"',
    'print -r -- "$out"',
  ].join('\n');
  const zsh = (line: string, expect: string) => shell('zsh', ['-f', '-c', driver, 'zsh', zdotdir, line, expect]).out;
  t.match(zsh('rollout-ls --so', '--source'), /--sort +-- created, updated/, 'flags, with descriptions');
  t.match(zsh('rollout-export -f ', 'ndjson'), /csv +html +json +md +ndjson/, 'a fixed set of values');
  t.match(zsh('rollout-fork --cwd d', 'one'), /--cwd d\\ one/, '<dir>: directories');
  t.match(
    zsh('rollout-cat ', 'second thing*release notes'),
    new RegExp(`${named.id} +-- release notes[^]*${other.id} +-- second thing[^]*release notes`),
    'sessions: ids described by their names or titles, and names',
  );
  t.match(zsh('rollout-cat rel', 'notes'), /rollout-cat release\\ notes/, 'a name with a space, quoted');
});

t.test('every script offers exactly the flags of its --help', async (t) => {
  for (const b of binaries) {
    const flags = helpFlags(b);
    t.same(bash(b, '-'), flags, `${b}: bash`);
    // fish offers a flag whose value is optional twice: `--schema` and `--schema=`.
    t.same([...new Set(fish(b, `${b} -`).map((f) => f.replace(/=$/, '')))], flags, `${b}: fish`);
    const zsh = script(b, 'zsh');
    const specs = zsh.split('_arguments')[1].split('\n}')[0];
    const zshFlags = [...specs.matchAll(/(?:[{,']|'\*)(--?[a-zA-Z][\w-]*)/g)].map((m) => m[1]);
    t.same([...new Set(zshFlags)].sort(), flags, `${b}: zsh`);
  }
});

t.test('--completion takes bash, zsh or fish', async (t) => {
  for (const args of [['--completion', 'tcsh'], ['--completion']]) {
    const r = run('rollout-ls', args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.err, /^rollout-ls: error: --completion takes bash, zsh or fish/);
    t.equal(r.out, '');
  }
  t.equal(run('rollout-ls', ['--completion=fish']).out, script('rollout-ls', 'fish'));
});

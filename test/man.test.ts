// Every binary documents itself twice, in --help and in its man page; the two must list the same
// options, and package.json must ship both.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { REPO, run } from './helpers/fixtures.js';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
const binaries = readdirSync(join(REPO, 'cmd'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));

/** `-q, --quiet` and `--type <type>` → the flags they name. */
const flagsIn = (text: string) => [...text.matchAll(/(?:^|[\s,`])(--?[a-zA-Z][\w-]*)/g)].map((m) => m[1]);

function helpFlags(help: string): string[] {
  const section = help.split(/^Options:$/m)[1]?.split(/^\S/m)[0] ?? '';
  return section
    .split('\n')
    .filter((l) => /^ {2}-/.test(l))
    .flatMap((l) => flagsIn(l.trim().split(/ {2,}/)[0]));
}

function manFlags(md: string): string[] {
  const section = md.split(/^## OPTIONS$/m)[1]?.split(/^## /m)[0] ?? '';
  return section
    .split('\n')
    .filter((l) => l.startsWith('* `-'))
    .flatMap((l) => [...l.matchAll(/`(--?[a-zA-Z][\w-]*)`/g)].map((m) => m[1]));
}

for (const bin of binaries) {
  t.test(bin, async (t) => {
    t.equal(pkg.bin[bin], `dist/cmd/${bin}.js`, 'package.json bin entry');
    t.ok(pkg.man.includes(`man/${bin}.1`), 'package.json man entry');
    const source = join(REPO, 'man', `${bin}.md`);
    t.ok(existsSync(source), 'man page source');
    t.ok(existsSync(join(REPO, 'man', `${bin}.1`)), 'generated man page');
    if (!existsSync(source)) return;
    const help = run(bin, ['--help']);
    t.equal(help.code, 0);
    t.match(help.out, new RegExp(`^Usage: ${bin} `));
    const fromHelp = helpFlags(help.out).sort();
    t.ok(fromHelp.length > 2, 'help lists options');
    t.same(manFlags(readFileSync(source, 'utf8')).sort(), fromHelp, 'the man page lists the options --help lists');
    const roff = readFileSync(join(REPO, 'man', `${bin}.1`), 'utf8').replace(/\\-/g, '-');
    for (const flag of fromHelp) t.ok(roff.includes(flag), `${flag} in the generated page`);
    t.match(readFileSync(source, 'utf8'), `\`${bin}\` ${help.out.split('\n')[0].replace(`Usage: ${bin} `, '')}`, 'synopsis as in --help');
  });
}

// The selection language is one concept: its rows read the same in every page that takes it.
t.test('every selecting binary documents the filters in the same words', async (t) => {
  const block = (bin: string) =>
    readFileSync(join(REPO, 'man', `${bin}.md`), 'utf8')
      .split('<!-- selection -->')[1]
      ?.split('<!-- /selection -->')[0];
  const ls = block('rollout-ls');
  t.ok(ls && ls.includes('`--keep-last`'), 'rollout-ls has the block');
  for (const bin of binaries.filter((b) => readFileSync(join(REPO, 'cmd', `${b}.ts`), 'utf8').includes('SELECTION_OPTIONS'))) {
    t.equal(block(bin), ls, `${bin} says what rollout-ls says`);
  }
});

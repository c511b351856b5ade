// The model the completion scripts are written from: flags read off option rows, positional words off
// the synopsis, the shell asked for. The scripts themselves run in real shells (test/completion.test.ts).
import t from 'tap';
import { completionScript, completionShell, flagsOf, namesOf, positionalsOf, sessionSlots, SHELLS } from '../../lib/cli/completion.js';
import { UsageError } from '../../lib/cli/errors.js';

t.test('flagsOf: names, the value and what completes it', async (t) => {
  const flags = flagsOf([
    ['-q, --quiet', 'Quiet'],
    ['--codex-home <dir>', 'Home'],
    ['--index <file>', 'Index'],
    ['-o, --output <path>', 'Out'],
    ['-f, --format <format>', 'Format', undefined, ['md', 'html']],
    ['--schema [kind]', 'Schema', undefined, ['json', 'ndjson']],
    ['--since <when>', 'Since'],
    ['--no-update', 'No update'],
  ]);
  t.same(flags, [
    { short: 'q', long: 'quiet', description: 'Quiet' },
    { long: 'codex-home', description: 'Home', value: { placeholder: 'dir', optional: false, completion: 'directories' } },
    { long: 'index', description: 'Index', value: { placeholder: 'file', optional: false, completion: 'files' } },
    { short: 'o', long: 'output', description: 'Out', value: { placeholder: 'path', optional: false, completion: 'files' } },
    { short: 'f', long: 'format', description: 'Format', value: { placeholder: 'format', optional: false, completion: ['md', 'html'] } },
    { long: 'schema', description: 'Schema', value: { placeholder: 'kind', optional: true, completion: ['json', 'ndjson'] } },
    { long: 'since', description: 'Since', value: { placeholder: 'when', optional: false, completion: 'text' } },
    { long: 'no-update', description: 'No update' },
  ]);
  t.same(flags.flatMap(namesOf).slice(0, 3), ['-q', '--quiet', '--codex-home']);
  t.throws(() => flagsOf([['--type=<t>', 'x']]), /not of the form/);
});

t.test('positional words: what the synopsis names, and where sessions go', async (t) => {
  t.same(positionalsOf('[options] <session>...'), { words: ['session'], repeats: true });
  t.same(positionalsOf('[options] <session> [<name>]'), { words: ['session', 'name'], repeats: false });
  t.same(positionalsOf('[options]'), { words: [], repeats: false });
  t.same(sessionSlots('[options] <session>...'), [{ at: 0, onwards: true }]);
  t.same(sessionSlots('[options] [<session>...]'), [{ at: 0, onwards: true }]);
  t.same(sessionSlots('[options] <session>'), [{ at: 0, onwards: false }]);
  t.same(sessionSlots('[options] <session> [<name>]'), [{ at: 0, onwards: false }]);
  t.same(sessionSlots('[options] (<filter>... | --stdin)'), []);
  t.same(sessionSlots('[options]'), []);
});

t.test('completionShell: the shell asked for, in either spelling; anything else is a usage error', async (t) => {
  t.equal(completionShell(['--json']), undefined);
  t.equal(completionShell(['--completion', 'bash']), 'bash');
  t.equal(completionShell(['-q', '--completion=fish']), 'fish');
  t.throws(() => completionShell(['--completion', 'tcsh']), new UsageError("--completion takes bash, zsh or fish, not 'tcsh'"));
  t.throws(() => completionShell(['--completion']), new UsageError('--completion takes bash, zsh or fish'));
});

t.test('a script names its binary and no session lister where the synopsis takes no session', async (t) => {
  const program = { name: 'rollout-x', usage: '[options]', options: [['--all', 'All'] as [string, string]] };
  for (const shell of SHELLS) {
    const script = completionScript(program, shell);
    t.match(script, 'rollout-x', shell);
    t.notMatch(script, 'rollout-ls', `${shell}: no sessions`);
    t.match(completionScript({ ...program, usage: '[options] <session>' }, shell), 'rollout-ls', `${shell}: sessions`);
  }
});

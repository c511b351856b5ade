// What people type into --search, as FTS5 reads it: words as typed, operators when used.
import t from 'tap';
import { ftsMatch } from '../../lib/index/fts.js';
import { UsageError } from '../../lib/cli/errors.js';

t.test('a word with punctuation is a phrase; a plain word stays a word', async (t) => {
  t.equal(ftsMatch('gpt-5'), '"gpt-5"');
  t.equal(ftsMatch('src/main.rs'), '"src/main.rs"');
  t.equal(ftsMatch("can't"), `"can't"`);
  t.equal(ftsMatch('foo.bar file-name'), '"foo.bar" "file-name"');
  t.equal(ftsMatch('key:value'), '"key:value"', 'not a column filter');
  t.equal(ftsMatch('flaky test'), 'flaky test');
  t.equal(ftsMatch('café naïve'), 'café naïve', 'letters beyond ASCII are word letters');
});

t.test('operators, phrases, NEAR, prefixes and groups work when used', async (t) => {
  t.equal(ftsMatch('flaky AND test'), 'flaky AND test');
  t.equal(ftsMatch('a OR b NOT c'), 'a OR b NOT c');
  t.equal(ftsMatch('and or not'), 'and or not', 'in lower case they are words');
  t.equal(ftsMatch('"a phrase" gpt-5'), '"a phrase" "gpt-5"');
  t.equal(ftsMatch('"say ""hi"""'), '"say ""hi"""', 'a quote inside a phrase, as FTS5 writes it');
  t.equal(ftsMatch('migr*'), 'migr*');
  t.equal(ftsMatch('src/ma*'), '"src/ma"*', 'a prefix of a phrase');
  t.equal(ftsMatch('NEAR(postgres migration)'), 'NEAR ( postgres migration )');
  t.equal(ftsMatch('NEAR(gpt-5 flaky, 3)'), 'NEAR ( "gpt-5" flaky , 3 )');
  t.equal(ftsMatch('NEAR(a b,3)'), 'NEAR ( a b , 3 )');
  t.equal(ftsMatch('(a OR b) AND c'), '( a OR b ) AND c');
});

t.test('what cannot be a query is a usage error that says how to write one', async (t) => {
  for (const bad of ['"unclosed', '(a OR b', 'a)', '', '   ']) {
    let caught: unknown = null;
    try {
      ftsMatch(bad);
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof UsageError, `${JSON.stringify(bad)} is a usage error`);
    t.match((caught as Error).message, /AND, OR, NOT \(in capitals\), "phrases", NEAR\(a b\) and prefix\*/);
  }
});

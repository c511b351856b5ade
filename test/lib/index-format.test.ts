// Printing listed sessions for people, and reading the ages, dates and sizes they type.
import t from 'tap';
import { UsageError } from '../../lib/cli/errors.js';
import { compileFormat, relative } from '../../lib/index/format.js';
import { parseSize, parseSort, parseWhen } from '../../lib/index/query.js';

const now = Date.parse('2026-11-22T12:00:00Z');
const row: any = {
  id: '0199a213-aaaa-7bbb-8ccc-dddddddddddd',
  created_at: '2026-11-20T12:00:00.000Z',
  updated_at: '2026-11-22T11:55:00.000Z',
  title: 'Fix\nthe cart',
  name: null,
  turns: 3,
  git_branch: 'main',
  source: { subagent: 'review' },
};

t.test('relative times read like git', (t) => {
  t.equal(relative('2026-11-22T11:59:30Z', now), '30 seconds ago');
  t.equal(relative('2026-11-22T11:55:00Z', now), '5 minutes ago');
  t.equal(relative('2026-11-22T09:00:00Z', now), '3 hours ago');
  t.equal(relative('2026-11-19T12:00:00Z', now), '3 days ago');
  t.equal(relative('2026-10-01T12:00:00Z', now), '7 weeks ago');
  t.equal(relative('2024-11-01T12:00:00Z', now), '2 years ago');
  t.equal(relative(null, now), '');
  t.end();
});

t.test('--format atoms and modifiers', (t) => {
  t.equal(compileFormat('%(id:short) %(updated:relative) %(created:date) %(turns) %(title)', now)(row), '0199a213 5 minutes ago 2026-11-20 3 Fix the cart');
  t.equal(compileFormat('%(label)|%(name)|%(source)|%%|%(created:unix)', now)(row), 'Fix the cart||{"subagent":"review"}|%|1795176000');
  t.throws(() => compileFormat('%(nope)'), /unknown atom %\(nope\)/);
  t.throws(() => compileFormat('%(title:short)'), /takes no :short/);
  t.equal(compileFormat('plain text')(row), 'plain text');
  t.equal(compileFormat('100% %(turns)%')(row), '100% 3%', 'a % before anything else is itself');
  t.end();
});

t.test('--format: what would print something else than asked is a usage error that says where', (t) => {
  const refused = (format: string) => {
    try {
      compileFormat(format);
      return null;
    } catch (err) {
      t.ok(err instanceof UsageError, format);
      return (err as Error).message;
    }
  };
  t.equal(refused(''), '--format is empty: it would print an empty line for each session');
  t.equal(refused('%(id'), "--format: '%(' at column 1 has no ')'");
  t.equal(refused('%(id) %(title'), "--format: '%(' at column 7 has no ')'");
  t.equal(refused('é %(id %(title)'), "--format: '%(' at column 3 has no ')'", 'columns count characters; the open one is named');
  t.match(refused('%(id) %(nope)'), /^--format: unknown atom %\(nope\) at column 7 \(known: id, /);
  t.match(refused('%(ID)'), /unknown atom %\(ID\) at column 1/);
  t.match(refused('%()'), /unknown atom %\(\) at column 1/);
  t.match(refused('%(constructor)'), /unknown atom %\(constructor\)/, 'only atoms, not what every object has');
  t.equal(refused('%(title:short)'), '--format: %(title) at column 1 takes no :short');
  t.equal(refused('%(id:short:x)'), '--format: %(id) at column 1 takes no :short:x');
  t.equal(refused('%(created:)'), '--format: %(created) at column 1 takes no :');
  t.equal(refused('%%(id'), null, '%% is a %, and what follows is text');
  t.end();
});

t.test('ages, dates, sizes and sort keys', (t) => {
  t.equal(parseWhen('30d', '--since', now), now - 30 * 86400e3);
  t.equal(parseWhen('12h', '--since', now), now - 12 * 3600e3);
  t.equal(parseWhen('2w', '--since', now), now - 14 * 86400e3);
  t.equal(parseWhen('2026-08-01', '--since', now), Date.parse('2026-08-01'));
  t.throws(() => parseWhen('yesterday', '--since'), /--since takes an age/);
  t.equal(parseSize('10k', '--min-size'), 10240);
  t.equal(parseSize('2M', '--min-size'), 2 * 1024 * 1024);
  t.equal(parseSize('512', '--min-size'), 512);
  t.throws(() => parseSize('big', '--min-size'));
  t.same(parseSort('-tokens'), { key: 'tokens', descending: true });
  t.same(parseSort('created'), { key: 'created', descending: false });
  t.throws(() => parseSort('-colour'));
  t.end();
});

t.test('%(id:short) is the prefix the listing says names the session alone', (t) => {
  const line = compileFormat('%(id:short)|%(id)', now);
  t.equal(line(row), '0199a213|0199a213-aaaa-7bbb-8ccc-dddddddddddd', 'without an index to ask: 8 characters');
  t.equal(
    line(row, (id) => id.slice(0, 11)),
    '0199a213-aa|0199a213-aaaa-7bbb-8ccc-dddddddddddd',
  );
  t.end();
});

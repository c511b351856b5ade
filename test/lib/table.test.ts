// Tables for people: fitted to the terminal in cells, columns clipped or dropped by how much they
// matter; lineage as a tree; ids as short as they can be and still name one session.
import Database from 'better-sqlite3';
import t from 'tap';
import { painter, parseColorWhen, useColor } from '../../lib/cli/color.js';
import { cells, clip, layout, type Column } from '../../lib/cli/table.js';
import { shortIds, type Listed } from '../../lib/index/query.js';
import { sessionTable, tilde } from '../../lib/index/table.js';
import { branchLines, tree, treeRow } from '../../lib/index/tree.js';

const plain = painter(false);

t.test('cells: wide characters take two, combining marks none', async (t) => {
  t.equal(cells('abc'), 3);
  t.equal(cells('日本語'), 6);
  t.equal(cells('e\u0301'), 1);
  t.equal(cells('🚀 go'), 5);
  t.equal(clip('日本語です', 7), '日本語…', 'never half a wide character');
  t.equal(clip('/home/ana/src/shop', 10, true), '…/src/shop', 'paths keep their end');
  t.equal(clip('short', 10), 'short');
});

t.test('layout: the filling column gets its share, other columns are dropped highest first', async (t) => {
  type R = { a: string; b: string; c: string; d: string };
  const columns: Column<R>[] = [
    { head: 'A', cell: (r) => r.a },
    { head: 'B', cell: (r) => r.b, drop: 1 },
    { head: 'C', cell: (r) => r.c, drop: 2 },
    { head: 'D', cell: (r) => r.d, min: 5, want: 15, fill: true },
  ];
  const rows = [{ a: 'x'.repeat(8), b: 'b'.repeat(10), c: 'c'.repeat(10), d: 'd'.repeat(40) }];
  const wide = layout(columns, rows, Infinity, plain);
  t.equal(wide[1], `${'x'.repeat(8)}  ${'b'.repeat(10)}  ${'c'.repeat(10)}  ${'d'.repeat(40)}`, 'unclipped without a width');
  const at40 = layout(columns, rows, 40, plain);
  t.match(at40[0], /^A\s+B\s+D$/, 'C goes first');
  t.equal(at40[1], `${'x'.repeat(8)}  ${'b'.repeat(10)}  ${'d'.repeat(17)}…`);
  const at30 = layout(columns, rows, 30, plain);
  t.match(at30[0], /^A\s+D$/, 'then B');
  for (const l of [...at40, ...at30]) t.ok(cells(l) <= 40, 'fits');
  t.equal(layout(columns, rows, 30, painter(true))[0], '\x1b[1mA\x1b[0m         \x1b[1mD\x1b[0m', 'heads in bold when colour is on');
});

t.test('colour: auto on a terminal unless NO_COLOR or a dumb terminal; a flag wins', async (t) => {
  t.equal(useColor('auto', true, {}), true);
  t.equal(useColor('auto', false, {}), false);
  t.equal(useColor('auto', true, { NO_COLOR: '1' }), false);
  t.equal(useColor('auto', true, { NO_COLOR: '' }), true, 'an empty NO_COLOR is unset, as no-color.org says');
  t.equal(useColor('auto', true, { TERM: 'dumb' }), false);
  t.equal(useColor('always', false, { NO_COLOR: '1' }), true);
  t.equal(useColor('never', true, {}), false);
  t.throws(() => parseColorWhen('yes'), /--color takes auto, always or never, not 'yes'/);
});

t.test('tilde: the home folder, and only it', async (t) => {
  t.equal(tilde('/home/ana/src/shop', '/home/ana'), '~/src/shop');
  t.equal(tilde('/home/ana', '/home/ana'), '~');
  t.equal(tilde('/home/anabel/x', '/home/ana'), '/home/anabel/x');
  t.equal(tilde('/srv', '/'), '/srv');
  t.equal(tilde(null, '/home/ana'), '');
});

t.test('shortIds: the shortest prefix that names one session, at least 8, never ending at a hyphen', async (t) => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE sessions (id TEXT NOT NULL)');
  const ids = [
    '0199a213-aaaa-7000-8000-000000000001',
    '0199a213-aaab-7000-8000-000000000002',
    '0199a214-0000-7000-8000-000000000003',
    '019b0000-0000-7000-8000-000000000004',
    '019b0000-0000-7000-8000-000000000004', // a second file of one thread (a revert) is not another session
  ];
  const insert = db.prepare('INSERT INTO sessions VALUES (?)');
  for (const id of ids) insert.run(id);
  const short = shortIds(db, new Set(ids));
  t.equal(short.get(ids[0]), '0199a213-aaaa');
  t.equal(short.get(ids[1]), '0199a213-aaab');
  t.equal(short.get(ids[2]), '0199a214');
  t.equal(short.get(ids[3]), '019b0000');
  for (const [id, s] of short) t.equal(ids.filter((x, i) => x.startsWith(s) && ids.indexOf(x) === i).length, 1, `${s} names ${id} alone`);
  db.close();
});

const listed = (id: string, more: Partial<Listed> = {}): Listed =>
  ({
    id,
    created_at: '2026-08-20T10:00:00.000Z',
    updated_at: '2026-08-20T10:00:00.000Z',
    title: `title of ${id}`,
    name: null,
    turns: 1,
    git_branch: null,
    cwd: '/w',
    archived: false,
    forked_from_id: null,
    parent_thread_id: null,
    ...more,
  }) as Listed;

t.test('tree: descendants under their parents, oldest first; orphans and cycles stand as roots', async (t) => {
  const rows = [
    listed('a'),
    listed('f2', { forked_from_id: 'a', created_at: '2026-08-21T00:00:00.000Z' }),
    listed('s1', { parent_thread_id: 'a', created_at: '2026-08-20T12:00:00.000Z' }),
    listed('g', { forked_from_id: 's1' }),
    listed('orphan', { forked_from_id: 'gone' }),
    listed('c1', { forked_from_id: 'c2' }),
    listed('c2', { forked_from_id: 'c1' }),
  ];
  const b = tree(rows);
  t.same(
    b.map((x) => [x.row.id, x.depth, x.parent, x.relation]),
    [
      ['a', 0, null, null],
      ['s1', 1, 'a', 'subagent'],
      ['g', 2, 's1', 'fork'],
      ['f2', 1, 'a', 'fork'],
      ['orphan', 0, 'gone', 'fork'],
      ['c1', 0, 'c2', 'fork'],
      ['c2', 1, 'c1', 'fork'],
    ],
  );
  t.same(b.map(branchLines), ['', '├─ ', '│  └─ ', '└─ ', '', '', '└─ ']);
  t.same(treeRow(b[2]), { ...rows[3], depth: 2, parent: 's1' }, 'NDJSON: the row with depth and parent');
  const lines = sessionTable(b, { shortId: (id) => id, width: 120, color: false, now: Date.parse('2026-08-22T10:00:00Z') });
  t.match(lines[3], /│ {2}└─ \[fork\] title of g$/);
});

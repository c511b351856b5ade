// rollout-ls as a subprocess: filters, order, paging, search, formats.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ndjson, REPO, run, tmpDir, writeSession } from './helpers/fixtures.js';

t.setTimeout(600_000);

const day = (d: number, h = 10) => new Date(Date.UTC(2026, 7, d, h));

/** Six sessions over six days, of two directories, models, sources and sizes. */
function home(t: any) {
  const dir = tmpDir(t);
  const made = [1, 2, 3, 4, 5, 6].map((d) =>
    writeSession(
      dir,
      {
        start: day(d),
        cwd: d % 2 ? '/src/odd' : '/src/even',
        model: d <= 3 ? 'gpt-5.5' : 'gpt-5.5-codex',
        source: d === 6 ? 'exec' : 'cli',
        provider: d === 5 ? 'ollama' : 'openai',
        turns: Array.from({ length: d }, (_, i) => ({ user: `day ${d} request ${i} ${d === 4 ? 'kangaroo migration' : ''}`.trim() })),
      },
      { mtime: day(d, 18) },
    ),
  );
  return { dir, made };
}

const ls = (dir: string, ...args: string[]) => {
  const r = run('rollout-ls', args, { env: { CODEX_HOME: dir, ROLLOUT_INDEX: '' } });
  if (r.code !== 0) throw new Error(`rollout-ls ${args.join(' ')}: ${r.err}`);
  return ndjson(r.out);
};

t.test('lists every session, newest activity first, updating the index first', (t) => {
  const { dir, made } = home(t);
  const rows = ls(dir);
  t.same(
    rows.map((r) => r.id),
    made.map((m) => m.id).reverse(),
  );
  t.match(rows[0], { created_at: '2026-08-06T10:00:00.000Z', cwd: '/src/even', title: 'day 6 request 0', turns: 6, archived: false, name: null });
  // A new session shows up on the next call without running rollout-index.
  const added = writeSession(dir, { start: day(7), turns: [{ user: 'brand new' }] }, { mtime: day(7, 18) });
  t.equal(ls(dir)[0].id, added.id);
  t.equal(ls(dir, '--no-update').length, 7);
  t.end();
});

t.test('filters', (t) => {
  const { dir, made } = home(t);
  const ids = (...args: string[]) =>
    ls(dir, ...args)
      .map((r) => made.findIndex((m) => m.id === r.id) + 1)
      .sort();
  t.same(ids('--cwd', '/src/odd'), [1, 3, 5]);
  t.same(ids('--model', 'gpt-5.5'), [1, 2, 3]);
  t.same(ids('--provider', 'ollama'), [5]);
  t.same(ids('--source', 'exec'), [6]);
  t.same(ids('--source', 'exec', '--source', 'cli', '--cwd', '/src/even'), [2, 4, 6]);
  t.same(ids('--since', '2026-08-04T12:00:00Z'), [4, 5, 6]);
  t.same(ids('--until', '2026-08-03T00:00:00Z'), [1, 2]);
  t.same(ids('--older-than', '1d'), [1, 2, 3, 4, 5, 6]);
  t.same(ids('--since', '1d'), []);
  const big = ls(dir, '--sort', '-size')[0].size;
  t.same(ids('--min-size', String(big)), [6]);
  const cwdHere = (cwd: string) => ndjson(run('rollout-ls', ['--cwd', '.', '--json'], { env: { CODEX_HOME: dir }, cwd }).out).length;
  t.equal(cwdHere('/'), 6, "'.' is the current directory, and every session's directory lies below /");
  t.equal(cwdHere('/tmp'), 0, 'no session ran in /tmp or below it');
  t.end();
});

t.test('archived sessions only when asked', (t) => {
  const { dir, made } = home(t);
  mkdirSync(join(dir, 'archived_sessions'));
  renameSync(made[0].path, join(dir, 'archived_sessions', made[0].path.split('/').pop()!));
  t.equal(ls(dir).length, 5);
  t.same(
    ls(dir, '--archived').map((r) => [r.id, r.archived]),
    [[made[0].id, true]],
  );
  t.equal(ls(dir, '--include-archived').length, 6);
  t.equal(run('rollout-ls', ['--archived', '--include-archived'], { env: { CODEX_HOME: dir } }).code, 2);
  t.end();
});

t.test('sort keys, and paging that neither skips nor repeats', (t) => {
  const { dir, made } = home(t);
  t.same(
    ls(dir, '--sort', 'created').map((r) => r.id),
    made.map((m) => m.id),
  );
  t.same(
    ls(dir, '--sort', '-turns').map((r) => r.turns),
    [6, 5, 4, 3, 2, 1],
  );
  t.same(
    ls(dir, '--sort', 'turns').map((r) => r.turns),
    [1, 2, 3, 4, 5, 6],
  );
  // Sessions of one turn count tie on tokens; the id breaks the tie, so pages are exact.
  writeSession(dir, { start: day(9), turns: [{ user: 'tie a' }] }, { mtime: day(9, 18) });
  writeSession(dir, { start: day(9, 11), turns: [{ user: 'tie b' }] }, { mtime: day(9, 18) });
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10; page++) {
    const rows = ls(dir, '--sort', '-tokens', '--limit', '4', ...(cursor ? ['--cursor', cursor] : []));
    const last = rows[rows.length - 1];
    cursor = last?.next_cursor;
    seen.push(...rows.filter((r) => r.id).map((r) => r.id));
    if (!cursor) break;
  }
  t.equal(seen.length, 8);
  t.equal(new Set(seen).size, 8, 'every session exactly once');
  const r = run('rollout-ls', ['--sort', 'created', '--cursor', 'bogus'], { env: { CODEX_HOME: dir } });
  t.equal(r.code, 2);
  const page1 = ls(dir, '--limit', '2');
  const other = run('rollout-ls', ['--sort', 'created', '--cursor', page1[2].next_cursor], { env: { CODEX_HOME: dir } });
  t.equal(other.code, 2, 'a cursor from another sort');
  t.match(other.err, /made for --sort -updated/);
  t.equal(run('rollout-ls', ['--sort', 'colour'], { env: { CODEX_HOME: dir } }).code, 2);

  // Plain text keeps stdout to the rows; the cursor to go on with is told on stderr (not with -q).
  const text = (...args: string[]) => run('rollout-ls', ['--format', '%(id)', '--limit', '5', ...args], { env: { CODEX_HOME: dir } });
  const first = text();
  t.equal(first.out.trim().split('\n').length, 5);
  const more = /^rollout-ls: more rows: --cursor (\S+)$/m.exec(first.err);
  t.ok(more, first.err);
  const second = text('--cursor', more![1]);
  t.same(
    [...first.out.trim().split('\n'), ...second.out.trim().split('\n')],
    ls(dir).map((r) => r.id),
  );
  t.equal(second.err, '', 'the last page says nothing more');
  t.equal(text('-q').err, '');
  t.end();
});

t.test('search: sessions best first with a snippet, or hits', (t) => {
  const { dir, made } = home(t);
  const found = ls(dir, '--search', 'kangaroo');
  t.same(
    found.map((r) => r.id),
    [made[3].id],
  );
  t.match(found[0].snippet, /\*\*kangaroo\*\*/);
  const hits = ls(dir, '--search', 'kangaroo', '--hits');
  t.equal(hits.length, 8, 'four user messages and their four answers');
  t.match(hits[0], { id: made[3].id, path: made[3].path, role: String, line: Number, ordinal: null });
  t.ok(hits.some((h) => h.role === 'user') && hits.some((h) => h.role === 'assistant'));
  t.same(ls(dir, '--search', 'kangaroo', '--cwd', '/src/odd'), [], 'filters apply to search');
  t.same(
    ls(dir, '--search', '"day 2 request"').map((r) => r.id),
    [made[1].id],
    'phrase query',
  );
  const paged = ls(dir, '--search', 'request', '--limit', '4');
  t.equal(paged.length, 5);
  const rest = ls(dir, '--search', 'request', '--cursor', paged[4].next_cursor);
  t.same([...paged.slice(0, 4), ...rest].map((r) => r.id).sort(), made.map((m) => m.id).sort());
  const bad = run('rollout-ls', ['--search', 'kangaroo"'], { env: { CODEX_HOME: dir } });
  t.equal(bad.code, 2);
  t.match(bad.err, /^rollout-ls: error: --search/);
  t.equal(run('rollout-ls', ['--hits'], { env: { CODEX_HOME: dir } }).code, 2);
  t.end();
});

t.test('search takes what people type: words with punctuation, operators when used', (t) => {
  const dir = tmpDir(t);
  const said = ['switch to gpt-5 now', 'open src/main.rs please', "it can't start", 'call foo.bar twice', 'rename file-name.txt', 'gpt 4 and 5 are fine'];
  const ids = said.map((user, i) => writeSession(dir, { start: day(i + 1), turns: [{ user }] }).id);
  const found = (q: string) =>
    ls(dir, '--search', q)
      .map((r) => ids.indexOf(r.id))
      .sort();
  t.same(found('gpt-5'), [0], 'gpt-5, not gpt and 5 anywhere');
  t.same(found('src/main.rs'), [1]);
  t.same(found("can't"), [2]);
  t.same(found('foo.bar'), [3]);
  t.same(found('file-name'), [4]);
  t.same(found('gpt AND fine'), [5], 'AND still works');
  t.same(found('"can\'t start" OR twice'), [2, 3], 'a phrase OR a word');
  t.same(found('NEAR(gpt fine, 5)'), [5]);
  t.same(found('NEAR(gpt fine, 2)'), [], 'and the distance counts');
  t.same(found('ren*'), [4], 'a prefix');
  for (const bad of ['AND OR', '"unclosed', 'NEAR(']) {
    const r = run('rollout-ls', ['--search', bad], { env: { CODEX_HOME: dir, ROLLOUT_INDEX: '' } });
    t.equal(r.code, 2, `${bad}: a usage error`);
    t.match(r.err, /AND, OR, NOT \(in capitals\), "phrases", NEAR\(a b\) and prefix\*/, `${bad}: with how to write a query`);
    t.notMatch(r.err, /fts5|sqlite/i, `${bad}: never SQLite's words`);
  }
  t.end();
});

t.test('--format atoms, modifiers and errors', (t) => {
  const { dir, made } = home(t);
  writeFileSync(join(dir, 'session_index.jsonl'), JSON.stringify({ id: made[0].id, thread_name: 'the first', updated_at: '2026-09-01T00:00:00Z' }) + '\n');
  const r = run('rollout-ls', ['--sort', 'created', '--limit', '2', '--format', '%(id:short)|%(created:date)|%(turns)|%(label)|%(cwd)|%(model)|100%%'], {
    env: { CODEX_HOME: dir },
  });
  t.equal(r.code, 0, r.err);
  t.equal(
    r.out,
    `${made[0].id.slice(0, 8)}|2026-08-01|1|the first|/src/odd|gpt-5.5|100%\n${made[1].id.slice(0, 8)}|2026-08-02|2|day 2 request 0|/src/even|gpt-5.5|100%\n`,
  );
  const rel = run('rollout-ls', ['--limit', '1', '--format', '%(updated:relative)'], { env: { CODEX_HOME: dir } });
  t.match(rel.out, /^\d+ (days|weeks|months) ago\n$/);
  const unknown = run('rollout-ls', ['--format', '%(colour)'], { env: { CODEX_HOME: dir } });
  t.equal(unknown.code, 2);
  t.match(unknown.err, /unknown atom %\(colour\)/);
  t.equal(run('rollout-ls', ['--format', '%(title:relative)'], { env: { CODEX_HOME: dir } }).code, 2);
  t.end();
});

t.test('a multi-line title stays on one line; | head exits quietly', (t) => {
  const dir = tmpDir(t);
  for (let i = 0; i < 50; i++) writeSession(dir, { start: day(1 + (i % 20), i % 24), turns: [{ user: `line one ${i}\nline two` }] });
  const r = run('rollout-ls', ['--format', '%(title)'], { env: { CODEX_HOME: dir } });
  t.equal(r.out.split('\n').filter(Boolean).length, 50);
  t.match(r.out, /line one \d+ line two/);
  const piped = spawnSync('bash', ['-c', `node ${join(REPO, 'dist/cmd/rollout-ls.js')} --json | head -n 1 >/dev/null; echo \${PIPESTATUS[0]}`], {
    env: { ...process.env, CODEX_HOME: dir },
  });
  t.equal(piped.stdout.toString().trim(), '0', 'a reader that goes away is no error');
  t.equal(piped.stderr.toString(), '');
  t.end();
});

t.test('names from Codex and the state DB', (t) => {
  const dir = tmpDir(t);
  const a = writeSession(dir, { turns: [{ user: 'x' }] });
  writeFileSync(
    join(dir, 'session_index.jsonl'),
    [
      JSON.stringify({ id: a.id, thread_name: 'old', updated_at: '2026-09-01T00:00:00Z' }),
      JSON.stringify({ id: a.id, thread_name: 'new', updated_at: '2026-09-02T00:00:00Z' }),
    ].join('\n') + '\n',
  );
  t.match(ls(dir), [{ id: a.id, name: 'new' }]);
  t.same(ls(dir, '--name', 'old'), []);
  t.end();
});

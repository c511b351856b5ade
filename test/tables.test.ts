// What a person at a terminal sees from rollout-ls, on a real pseudo-terminal: an id to act on,
// where and what each session is, fitted to the width, colour only where colour belongs, lineage
// as a tree when asked.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { cells } from '../lib/cli/table.js';
import { ndjson, run, tmpDir, writeSession } from './helpers/fixtures.js';
import { onTerminal } from './helpers/tty.js';

// eslint-disable-next-line no-control-regex -- what colour is made of
const SGR = /\x1b\[[0-9;]*m/;
// eslint-disable-next-line no-control-regex
const uncolored = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

/** A home with a named session, two whose ids share 10 characters, a fork and a subagent thread. */
function home(t: Parameters<typeof tmpDir>[0]) {
  const dir = tmpDir(t);
  const user = join(dir, 'user');
  const named = writeSession(dir, { cwd: join(user, 'src/shop'), turns: [{ user: 'Fix the cart total' }] });
  writeFileSync(join(dir, 'session_index.jsonl'), JSON.stringify({ id: named.id, thread_name: 'cart work', updated_at: '2026-08-20T15:00:00Z' }) + '\n');
  const twin1 = writeSession(dir, {
    id: '0199a213-aa00-7000-8000-000000000001',
    cwd: '/srv/api',
    git: { branch: 'feature/long-branch-name' },
    turns: [{ user: 'First twin, whose first message goes on for long enough to need more than a narrow terminal has' }],
  });
  const twin2 = writeSession(dir, { id: '0199a213-aa11-7000-8000-000000000002', cwd: '/srv/api', turns: [{ user: 'Second twin' }] });
  const fork = writeSession(dir, {
    start: new Date('2026-08-21T10:00:00Z'),
    cwd: join(user, 'src/shop'),
    meta: { forked_from_id: named.id },
    turns: [{ user: 'Fix the cart total' }, { user: 'And the tax' }],
  });
  const sub = writeSession(dir, {
    start: new Date('2026-08-21T11:00:00Z'),
    cwd: join(user, 'src/shop'),
    source: { subagent: { thread_spawn: { parent_thread_id: named.id, depth: 1 } } },
    turns: [{ user: 'Review the cart change' }],
  });
  return { dir, user, env: { CODEX_HOME: dir, ROLLOUT_INDEX: '', HOME: user }, named, twin1, twin2, fork, sub };
}

const bodyOf = (screen: string) => screen.split('\n').filter((l) => l.trim());

t.test('the table starts with an id rollout-cat takes, shows where and what, and fits the width', async (t) => {
  const h = home(t);
  for (const columns of [80, 120]) {
    const r = onTerminal('rollout-ls', [], { env: h.env, columns });
    t.equal(r.code, 0, r.screen);
    const lines = bodyOf(uncolored(r.screen));
    t.match(lines[0], /^ID\s+UPDATED\s+.*DIRECTORY\s+CONVERSATION$/, `${columns}: the heads`);
    for (const l of lines) t.ok(cells(l) <= columns, `${columns}: fits: ${l}`);
    const twin = lines.find((l) => l.includes('First twin'))!;
    t.match(twin, /^0199a213-aa0\s/, 'ids that share a prefix are shown long enough to tell apart');
    t.match(
      lines.find((l) => l.includes('cart work'))!,
      /~\/src\/shop/,
      'the directory, the home folder as ~',
    );
    t.notMatch(r.screen, 'Fix the cart total  ', 'a named session shows its name, not its title');
    for (const l of lines.slice(1)) {
      const prefix = l.split(/\s+/)[0];
      t.ok(prefix.length >= 8, `at least 8 characters: ${prefix}`);
      const cat = run('rollout-cat', [prefix], { env: h.env });
      t.equal(cat.code, 0, `rollout-cat ${prefix}: ${cat.err}`);
    }
  }
  const narrow = bodyOf(uncolored(onTerminal('rollout-ls', [], { env: h.env, columns: 80 }).screen));
  const wide = bodyOf(uncolored(onTerminal('rollout-ls', [], { env: h.env, columns: 120 }).screen));
  t.notMatch(narrow[0], /BRANCH/, '80 columns leave out the branch, for the conversation');
  t.match(
    narrow.find((l) => l.includes('First twin')),
    /First twin, whose first.*…$/,
    'and clip what is left',
  );
  t.match(wide[0], /TURNS\s+BRANCH/, '120 columns have room for it');
  t.match(
    wide.find((l) => l.includes('First twin')),
    'feature/long-branch-name',
  );
});

t.test('colour: on a terminal; never with NO_COLOR or --color=never; --color=always wins; never in NDJSON', async (t) => {
  const h = home(t);
  t.match(onTerminal('rollout-ls', [], { env: h.env }).screen, SGR, 'a terminal gets colour');
  t.notMatch(onTerminal('rollout-ls', [], { env: { ...h.env, NO_COLOR: '1' } }).screen, SGR, 'NO_COLOR is honoured');
  t.notMatch(onTerminal('rollout-ls', ['--color=never'], { env: h.env }).screen, SGR, '--color=never');
  t.match(onTerminal('rollout-ls', ['--color', 'always'], { env: { ...h.env, NO_COLOR: '1' } }).screen, SGR, 'a flag wins over NO_COLOR');
  t.notMatch(onTerminal('rollout-ls', ['--json'], { env: h.env }).screen, SGR, 'NDJSON on a terminal has none');
  const piped = run('rollout-ls', ['--table'], { env: h.env });
  t.notMatch(piped.out, SGR, '--table into a pipe: no colour unless asked');
  t.match(piped.out, /^ID\s+UPDATED/, '--table into a pipe: the table');
  t.match(run('rollout-ls', ['--table', '--color=always'], { env: h.env }).out, SGR, '--color=always into a pipe');
  const bad = run('rollout-ls', ['--color=sometimes'], { env: h.env });
  t.equal(bad.code, 2);
  t.match(bad.err, "rollout-ls: error: --color takes auto, always or never, not 'sometimes'");
});

t.test('--tree: forks and subagent threads under their parent; NDJSON rows gain depth and parent', async (t) => {
  const h = home(t);
  const lines = bodyOf(uncolored(onTerminal('rollout-ls', ['--tree'], { env: h.env, columns: 120 }).screen));
  const at = (text: string) => lines.findIndex((l) => l.includes(text));
  const parent = at('cart work');
  t.ok(parent > 0, 'the parent is listed');
  t.match(lines[parent + 1], /├─ \[fork\] And the tax|├─ \[fork\] Fix the cart total/, 'the fork first (made first)');
  t.match(lines[parent + 2], /└─ \[subagent\] Review the cart change/, 'then the subagent thread');
  const rows = ndjson(run('rollout-ls', ['--tree'], { env: h.env }).out);
  const byId = new Map(rows.map((r) => [r.id, r]));
  t.same([byId.get(h.fork.id).depth, byId.get(h.fork.id).parent], [1, h.named.id]);
  t.same([byId.get(h.sub.id).depth, byId.get(h.sub.id).parent], [1, h.named.id]);
  t.same([byId.get(h.named.id).depth, byId.get(h.named.id).parent], [0, null]);
  t.ok(rows.findIndex((r) => r.id === h.named.id) < rows.findIndex((r) => r.id === h.sub.id), 'a parent comes before its children');
  t.notOk('depth' in ndjson(run('rollout-ls', [], { env: h.env }).out)[0], 'without --tree the rows are as they were');
  const withFormat = run('rollout-ls', ['--tree', '--format', '%(id)'], { env: h.env });
  t.equal(withFormat.code, 2, '--tree does not go with --format');
});

t.test('--no-subagents leaves subagent threads out, here and in every selecting binary', async (t) => {
  const h = home(t);
  const ids = (args: string[]) => ndjson(run('rollout-ls', args, { env: h.env }).out).map((r) => r.id);
  t.ok(ids([]).includes(h.sub.id));
  t.notOk(ids(['--no-subagents']).includes(h.sub.id), 'the subagent thread is gone');
  t.equal(ids(['--no-subagents']).length, ids([]).length - 1, 'and nothing else');
  const prune = run('rollout-prune', ['--older-than', '1d', '--grace', '0s', '-n', '--no-subagents'], { env: h.env });
  t.equal(prune.code, 0, prune.err);
  t.notMatch(prune.out, h.sub.id, 'prune takes it too');
  const both = run('rollout-ls', ['--no-subagents', '--source', 'subagent'], { env: h.env });
  t.equal(both.code, 2);
  t.match(both.err, '--no-subagents and --source subagent choose nothing together');
});

t.test('--hits on a terminal: a table of matches, the id first, the words in colour', async (t) => {
  const h = home(t);
  const r = onTerminal('rollout-ls', ['--search', 'twin', '--hits'], { env: h.env, columns: 100 });
  const lines = bodyOf(uncolored(r.screen));
  t.match(lines[0], /^ID\s+LINE\s+ROLE\s+MATCH$/);
  t.match(lines[1], /^0199a213-aa[01]\s+\d+\s+user\s+(First|Second) twin/);
  t.match(r.screen, '\x1b[31mtwin\x1b[0m', 'the matched word in colour');
  t.match(run('rollout-ls', ['--search', 'twin', '--hits'], { env: h.env }).out, /^\{"id":/, 'NDJSON into a pipe');
});

t.test('%(id:short) in --format: as long as the table makes it, and rollout-cat takes it', async (t) => {
  const h = home(t);
  const shorts = run('rollout-ls', ['--format', '%(id:short)'], { env: h.env }).out.trim().split('\n');
  t.ok(shorts.includes('0199a213-aa0') && shorts.includes('0199a213-aa1'), shorts.join(' '));
  for (const s of shorts) t.equal(run('rollout-cat', [s], { env: h.env }).code, 0, `rollout-cat ${s}`);
});

// Every binary tells the same story about a session: rollout-ls, rollout-export, rollout-fork and
// rollout-index --codex give it the same turn count and the same title, for every generation we
// have fixtures of (the shared home of every generation, real Codex files, real sessions with
// images), and for the shapes that once split them: an image-only message, JSON written with
// spaces, a rollback.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ndjson, REPO, run, sessionLines, tmpDir, writeRaw } from './helpers/fixtures.js';
import { query, stateDb } from './helpers/prune.js';

t.setTimeout(900_000);

const home = tmpDir(t);
for (const fixture of ['homes/basic', 'real', 'images']) cpSync(join(REPO, 'test/fixtures', fixture), home, { recursive: true });

// JSON as Python writes it, spaces after every colon and comma: the same records, spelled otherwise.
const spaced = (line: string) => JSON.stringify(JSON.parse(line), null, 1).replace(/\n\s*/g, ' ');
const wide = sessionLines({ start: new Date('2026-09-01T10:00:00Z'), turns: [{ user: 'spaced out' }, { user: 'still spaced' }] });
writeRaw(home, `sessions/2026/09/01/rollout-2026-09-01T10-00-00-${wide.id}.jsonl`, wide.lines.map(spaced).join('\n') + '\n');
// Three turns, the last two rolled back: one turn left, and the title is still the first.
const back = sessionLines({ start: new Date('2026-09-02T10:00:00Z'), turns: [{ user: 'keep me' }, { user: 'drop me' }, { user: 'drop me too' }] });
const rollback = JSON.stringify({ timestamp: '2026-09-02T10:05:00.000Z', type: 'event_msg', payload: { type: 'thread_rolled_back', num_turns: 2 } });
writeRaw(home, `sessions/2026/09/02/rollout-2026-09-02T10-00-00-${back.id}.jsonl`, [...back.lines, rollback].join('\n') + '\n');
stateDb(home, []);

const env = { CODEX_HOME: home, ROLLOUT_INDEX: '' };
const list = () => ndjson(run('rollout-ls', ['--include-archived', '--json'], { env }).out);
const listed = list();

t.test('the home holds what this test is about', async (t) => {
  t.ok(listed.length >= 15, `${listed.length} sessions`);
  t.same([...new Set(listed.map((s) => s.generation))].sort(), ['0', 'A', 'B', 'C', 'D', 'E'], 'every generation');
  const byTitle = new Map(listed.map((s) => [s.title, s]));
  t.equal(byTitle.get('what is this')?.turns, 1, 'an image with words: one turn, titled by the words');
  t.equal(byTitle.get('[Image]')?.turns, 1, 'an image alone: one turn, [Image]');
  t.equal(byTitle.get('spaced out')?.turns, 2, 'spaced JSON: every turn');
  t.equal(byTitle.get('keep me')?.turns, 1, 'a rollback: turns dropped, title kept');
});

t.test('rollout-fork: a full fork has the turns of its source, and a title of its history', async (t) => {
  const byId = new Map(listed.map((s) => [s.id, s]));
  // A fork's file holds the history it was made from, so its first user message is its source's,
  // or, when the source is itself a fork that holds only its own turns, an ancestor's.
  const titlesOfHistory = (s: any): unknown[] => [
    s.title,
    ...(s.forked_from_id && byId.get(s.forked_from_id) ? titlesOfHistory(byId.get(s.forked_from_id)) : []),
  ];
  const forks = new Map<string, string>();
  for (const s of listed) {
    const r = run('rollout-fork', [s.id], { env });
    // Bare-line generations are not forked (Codex no longer reads them): said so, not guessed at.
    if (r.code !== 0) {
      t.match(r.err, /no session_meta: an old bare-line session/, `${s.id} (gen ${s.generation}) is refused with the reason`);
      continue;
    }
    const fork = ndjson(r.out)[0];
    t.equal(fork.turns, s.turns, `${s.id} (gen ${s.generation}): the fork says it has the turns ls counts`);
    forks.set(fork.id, s.id);
  }
  t.ok(forks.size >= 10, `${forks.size} forks made`);
  for (const f of list().filter((f) => forks.has(f.id))) {
    const s = byId.get(forks.get(f.id)!);
    t.equal(f.turns, s.turns, `${s.id}: ls counts the fork's turns as its source's`);
    t.ok(titlesOfHistory(s).includes(f.title), `${s.id}: the fork is titled ${JSON.stringify(f.title)}, by its history`);
  }
});

t.test('rollout-export: the same turns, title and name as ls, forks included', async (t) => {
  for (const s of list()) {
    const r = run('rollout-export', ['-f', 'json', s.id], { env });
    if (!t.equal(r.code, 0, `${s.id} exports (${r.err})`)) continue;
    const facts = JSON.parse(r.out).session;
    t.same([facts.turns, facts.title, facts.name], [s.turns, s.title, s.name], `${s.id} (gen ${s.generation}): turns, title, name`);
  }
});

t.test("rollout-index --codex: Codex's first user message is ls's title, forks included", async (t) => {
  const r = run('rollout-index', ['--codex'], { env });
  t.equal(r.code, 0, r.err);
  const rows = new Map(query(join(home, 'state_5.sqlite'), 'SELECT id, first_user_message FROM threads').map((row) => [row.id, row]));
  let compared = 0;
  for (const s of list()) {
    const row = rows.get(s.id);
    if (!row) continue;
    compared++;
    t.equal(row.first_user_message, s.title ?? '', `${s.id} (gen ${s.generation})`);
  }
  t.ok(compared >= 20, `${compared} sessions compared`);
});

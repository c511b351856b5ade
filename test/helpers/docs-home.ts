// The home the documentation's examples run against: the ids, names, words and ages that README.md
// and the man pages' EXAMPLES use, beside every generation of the shared fixture home and real Codex
// files. Written fresh for each block of examples, so examples that change it start from the same.
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bareLines, REPO, sessionLines, writeRaw, writeSession, zstd } from './fixtures.js';
import { attach, noise, screenshot } from './images.js';
import { stateDb } from './prune.js';

const DAY = 86_400_000;

/** Every file below `dir`, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

/**
 * Writes the docs home at `home`, for examples run in `work` by a user whose home folder is `user`
 * (so `.` and `~/src/old-project` mean something). Returns nothing: the examples name what they use.
 */
export function writeDocsHome(home: string, work: string, user: string): void {
  for (const fixture of ['homes/basic', 'real']) cpSync(join(REPO, 'test/fixtures', fixture), home, { recursive: true });
  // Checked-out files are as new as the checkout: make the fixtures four months old, as their dates say.
  const old = new Date(Date.now() - 120 * DAY);
  for (const f of files(home)) utimesSync(f, old, old);
  // The fixture's stale .zst twin is damage for fsck's tests; a reader's cron job would rightly stop at it.
  rmSync(join(home, 'sessions/2026/08/11/rollout-2026-08-11T10-00-00-0198b7a1-1111-7222-8333-444455556666.jsonl.zst'));

  const now = Date.now();
  // The session most examples use: four turns in the examples' folder, a failing test among its tool
  // calls, named 'release notes', active today.
  const main = sessionLines({
    id: '0199a213-5b0c-7d4e-8f21-6a3c9e0d1b47',
    start: new Date(now - 3 * 3_600_000),
    cwd: work,
    turns: [
      { user: 'Why is the widget test flaky?', tool: { cmd: 'npm test -- widget', output: 'FAIL src/widget.test.ts' } },
      { user: 'Write the postgres migration for it', tool: { cmd: 'ls migrations', output: '001_init.sql' } },
      { user: 'Run the tests again', turnId: '0199a2f0-7c1e-7a3b-9d10-2b4c6d8e0f12' },
      { user: 'Ship it' },
    ],
  });
  const failing = main.lines.map((l) => l.replace('Process exited with code 0\\nOutput:\\nFAIL', 'Process exited with code 1\\nOutput:\\nFAIL'));
  writeSession(home, { id: main.id, start: new Date(now - 3 * 3_600_000) }, { raw: Buffer.from(failing.join('\n') + '\n'), mtime: new Date(now - 3_600_000) });

  // A paginated session and a fork of it that references its history (rollout-cat --full).
  const parent = writeSession(
    home,
    {
      id: '0199c0a0-1111-7222-8333-444455556666',
      history: 'paginated',
      start: new Date(now - 2 * DAY),
      cwd: work,
      turns: [{ user: 'Plan the widget rewrite' }],
    },
    { mtime: new Date(now - 2 * DAY) },
  );
  const cut = Buffer.from(parent.lines.join('\n') + '\n');
  writeSession(
    home,
    {
      id: '0199c0de-2222-7333-8444-555566667777',
      history: 'paginated',
      start: new Date(now - DAY),
      cwd: work,
      firstOrdinal: parent.lines.length,
      noContext: true,
      meta: { forked_from_id: parent.id, history_base: { thread_id: parent.id, end_ordinal_exclusive: parent.lines.length, end_byte_offset: cut.length } },
      turns: [{ user: 'Rewrite it with postgres migration checks' }],
    },
    { mtime: new Date(now - DAY) },
  );

  // Old work: exec runs and a subagent, unnamed, and a project that moved away.
  for (const [i, source] of (['exec', 'exec', { subagent: 'review' }] as const).entries())
    writeSession(
      home,
      { start: new Date(now - (95 + i) * DAY), cwd: '/srv/api', source, turns: [{ user: `Nightly check ${i}` }] },
      { mtime: new Date(now - (95 + i) * DAY) },
    );
  for (const days of [65, 66])
    writeSession(
      home,
      { start: new Date(now - days * DAY), cwd: '/srv/api', source: 'exec', turns: [{ user: `Weekly report ${days}` }] },
      { mtime: new Date(now - days * DAY) },
    );
  writeSession(
    home,
    { start: new Date(now - 70 * DAY), cwd: join(user, 'src/old-project'), turns: [{ user: 'Port the old project' }] },
    { mtime: new Date(now - 70 * DAY) },
  );

  // A screenshot, named 'checkout screenshot', and the review subagent that got a copy (rollout-slim).
  const shot = screenshot(48_000, 'checkout page');
  const said = 'Why does the checkout page look broken?';
  for (const [id, source] of [
    ['0199b7d2-3e4f-7a5b-8c6d-7e8f9a0b1c2d', 'cli'],
    ['0199b7d9-4f50-7b6c-9d7e-8f9a0b1c2d3e', { subagent: 'review' }],
  ] as const) {
    const s = sessionLines({ id, start: new Date(now - 9 * DAY), cwd: work, source, turns: [{ user: said }] });
    writeSession(
      home,
      { id, start: new Date(now - 9 * DAY) },
      { raw: Buffer.from(attach(s.lines, said, shot).join('\n') + '\n'), mtime: new Date(now - 9 * DAY) },
    );
  }
  // An object a pruned session left in rollout-slim's store: nothing refers to it any more.
  const left = noise(20_000, 'a deleted session');
  const sha = createHash('sha256').update(left).digest('hex');
  const object = writeRaw(home, `rollout-objects/${sha.slice(0, 2)}/${sha}`, left);
  utimesSync(object, old, old);

  writeFileSync(
    join(home, 'session_index.jsonl'),
    [
      { id: main.id, thread_name: 'release notes', updated_at: new Date(now - 3_600_000).toISOString() },
      { id: '0199b7d2-3e4f-7a5b-8c6d-7e8f9a0b1c2d', thread_name: 'checkout screenshot', updated_at: new Date(now - 9 * DAY).toISOString() },
    ]
      .map((e) => JSON.stringify(e) + '\n')
      .join(''),
    { flag: 'a' },
  );

  // Codex's state DB, as a Codex that has not yet seen most of these files would have it.
  stateDb(home, []);

  // Files the examples name in their folder.
  writeFileSync(
    join(work, 'old-2025-session.jsonl'),
    bareLines('A', '0196b1c2-0000-4000-8000-0000000000aa', ['an old question', 'an old answer']).join('\n') + '\n',
  );
  writeFileSync(join(work, 'old.jsonl'), bareLines('C', '0197f5a6-0000-4000-8000-0000000000cc', ['older still', 'indeed']).join('\n') + '\n');
  writeFileSync(join(work, 'backup.jsonl.zst'), zstd(Buffer.from(failing.join('\n') + '\n')));
  writeRaw(user, 'src/other/.keep', '');
  // A price file in LiteLLM's shape, for a model of the team's own.
  writeFileSync(
    join(work, 'prices.json'),
    JSON.stringify({ 'team-model': { input_cost_per_token: 1e-6, output_cost_per_token: 4e-6, litellm_provider: 'custom' } }),
  );
}

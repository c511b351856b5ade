// The index against files the real Codex CLI (the pinned release, or CODEX_VERSION) wrote: every session Codex knows is listed with
// the fields Codex's own state DB has for it, found by search, and a copy of the home (the real
// files untouched) follows an archive move and an append without re-reading what it knows.
import { appendFileSync, cpSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { ndjson, run, tmpDir } from '../helpers/fixtures.js';
import { interop } from './codex.js';
import { buildRealHome, defaultRealHomeRoot } from './real-home.js';

await interop(t, main);

async function main() {
  const m = await buildRealHome(defaultRealHomeRoot());
  const sessions = Object.values(m.sessions);
  // Work on a copy: the shared real home stays exactly as Codex left it.
  const home = join(tmpDir(t), 'home');
  cpSync(m.home, home, { recursive: true });
  const index = join(tmpDir(t), 'index.sqlite');
  const ls = (...args: string[]) => ndjson(run('rollout-ls', ['--index', index, '--codex-home', home, '--include-archived', ...args]).out);

  t.test('every session is listed, with the fields Codex records', async (t) => {
    const r = run('rollout-index', ['--index', index, '--codex-home', home]);
    t.equal(r.code, 0, r.err);
    const rows = new Map(ls().map((x) => [x.id, x]));
    const state = new Database(join(home, 'state_5.sqlite'), { readonly: true });
    for (const s of sessions) {
      const row = rows.get(s.id);
      t.ok(row, `${s.key} listed`);
      if (!row) continue;
      t.equal(row.cwd, s.cwd, `${s.key} cwd`);
      t.equal(row.archived, s.archived, `${s.key} archived`);
      t.equal(row.compressed, s.compressed, `${s.key} compressed`);
      t.equal(row.source, s.source, `${s.key} source`);
      t.equal(row.forked_from_id, s.forkedFromId, `${s.key} forked_from_id`);
      t.equal(row.name, s.name, `${s.key} name`);
      t.equal(row.title, s.firstUserMessage, `${s.key} title`);
      if (!s.forkedFromId) t.equal(row.turns, s.turns, `${s.key} turns`);
      else t.ok(row.turns >= s.userMessages.length, `${s.key} counts inherited turns too`);
      const codex = state.prepare('SELECT cwd, tokens_used, created_at_ms, model, archived FROM threads WHERE id = ?').get(s.id) as any;
      if (codex) {
        t.equal(row.tokens, codex.tokens_used, `${s.key} tokens as Codex counts them`);
        t.equal(row.model, codex.model, `${s.key} model`);
        t.equal(Math.abs(Date.parse(row.created_at) - codex.created_at_ms) < 1000, true, `${s.key} created_at`);
      }
    }
    state.close();
    t.equal(rows.size, sessions.length, 'no extra rows');
  });

  t.test('every session is found by its own first message', async (t) => {
    for (const s of sessions) {
      const words = s.firstUserMessage.match(/[A-Za-z]{4,}/g)?.slice(0, 3);
      if (!words?.length) continue;
      const found = ls('--search', words.map((w) => `"${w}"`).join(' AND ')).map((x) => x.id);
      t.ok(found.includes(s.id), `${s.key}: ${words.join(' ')}`);
    }
  });

  t.test('an archive move and an append are picked up incrementally', async (t) => {
    const s = sessions.find((x) => !x.archived && !x.compressed && !x.forkedFromId)!;
    const moved = join(home, 'archived_sessions', s.path.split('/').pop()!);
    mkdirSync(join(home, 'archived_sessions'), { recursive: true });
    renameSync(join(home, s.relPath), moved);
    let r = run('rollout-index', ['--index', index, '--codex-home', home]);
    t.match(JSON.parse(r.out), { moved: 1, bytes_read: 0 });
    const line = JSON.stringify({
      timestamp: new Date().toISOString(),
      type: 'response_item',
      payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'appended platypus question' }] },
    });
    appendFileSync(moved, line + '\n');
    r = run('rollout-index', ['--index', index, '--codex-home', home]);
    t.match(JSON.parse(r.out), { updated: 1, bytes_read: Buffer.byteLength(line) + 1 });
    t.match(ls('--search', 'platypus'), [{ id: s.id, archived: true, turns: s.turns + 1 }]);
  });
}

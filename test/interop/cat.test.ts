// The reading core against files the real Codex CLI (the pinned release, or CODEX_VERSION) wrote: rollout-cat reproduces every
// file exactly, --full rebuilds a fork's history, and the sessions we discover are the sessions
// Codex's own state DB knows, with the same cwd, creation time and first user message.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { codexHome, discover } from '../../lib/home/paths.js';
import { isEnvelope, parseLine } from '../../lib/core/record.js';
import { metaOf, openSession } from '../../lib/core/session.js';
import { TurnTally } from '../../lib/core/turns.js';
import { run } from '../helpers/fixtures.js';
import { interop } from './codex.js';
import { buildRealHome, defaultRealHomeRoot } from './real-home.js';

await interop(t, main);

async function main() {
  const m = await buildRealHome(defaultRealHomeRoot());
  const sessions = Object.values(m.sessions);
  const cat = (args: string[]) => run('rollout-cat', ['--codex-home', m.home, ...args]);
  /** What the file holds once decompressed, by the reference decoder. */
  const contents = (path: string) => (path.endsWith('.zst') ? spawnSync('zstd', ['-dc', path], { maxBuffer: 1 << 30 }).stdout : readFileSync(path));

  t.test('rollout-cat writes every file Codex wrote, byte for byte', async (t) => {
    for (const s of sessions) {
      const r = cat([s.id]);
      t.equal(r.code, 0, `${s.key}: ${r.err}`);
      t.ok(r.stdout.equals(contents(s.path)), `${s.key}${s.compressed ? ' (equal to zstd -dc)' : ''}`);
    }
  });

  t.test('--full on a fork is the parent prefix followed by the fork file', async (t) => {
    const forks = sessions.filter((s) => s.forkedFromId);
    t.ok(forks.length >= 1, 'the real home has forks');
    for (const fork of forks) {
      const meta = ndjsonFirst(cat(['--meta', fork.id]).out);
      const base = meta.payload.history_base;
      const parent = sessions.find((s) => s.id === base.thread_id)!;
      const expected = Buffer.concat([contents(parent.path).subarray(0, base.end_byte_offset), contents(fork.path)]);
      const r = cat(['--full', fork.id]);
      t.equal(r.code, 0, r.err);
      t.ok(r.stdout.equals(expected), `${fork.key}: ${base.end_byte_offset} bytes of ${parent.key}, then its own`);
    }
  });

  t.test('names Codex set resolve', async (t) => {
    for (const s of sessions.filter((s) => s.name)) {
      t.equal(ndjsonFirst(cat(['--meta', s.name!]).out).payload.id, s.id, s.name!);
    }
  });

  t.test('the sessions we find are the threads Codex knows', async (t) => {
    const db = new Database(join(m.home, 'state_5.sqlite'), { readonly: true, fileMustExist: true });
    t.teardown(() => db.close());
    const rows = new Map((db.prepare('SELECT id, cwd, created_at, first_user_message, archived FROM threads').all() as any[]).map((r) => [r.id, r]));
    const files = await discover(codexHome(m.home));
    t.same(files.map((f) => f.name.threadId).sort(), [...rows.keys()].sort(), 'same set of ids, archived ones included');
    for (const f of files) {
      const row = rows.get(f.name.threadId);
      if (!row) continue;
      const s = await openSession(f.path, { form: f.form });
      const meta = metaOf(s.first)!;
      const tally = new TurnTally();
      for await (const batch of s.batches) {
        for (const line of batch) {
          const record = parseLine(line.bytes);
          if (isEnvelope(record)) tally.add(record);
        }
      }
      t.equal(meta.cwd, row.cwd, `${f.name.threadId} cwd`);
      // A live Codex stamps the row from a clock read near the session_meta line: the thread's
      // creation (its UUIDv7 time, seen in CI a few ms before a second boundary the meta line
      // crossed), the meta line's second, or (seen once in CI) the next one.
      const metaSecond = Math.floor(Date.parse(meta.timestamp!) / 1000);
      const idSecond = Math.floor(parseInt(f.name.threadId.replace(/-/g, '').slice(0, 12), 16) / 1000);
      t.ok(
        [idSecond, metaSecond, metaSecond + 1].includes(row.created_at),
        `${f.name.threadId} created (row ${row.created_at}, session_meta ${meta.timestamp})`,
      );
      t.equal(tally.title, row.first_user_message, `${f.name.threadId} first user message`);
      t.equal(f.root === 'archived_sessions' ? 1 : 0, row.archived, `${f.name.threadId} archived`);
    }
  });
}

function ndjsonFirst(text: string): any {
  return JSON.parse(text.split('\n')[0]);
}

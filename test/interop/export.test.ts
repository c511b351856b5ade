// rollout-export against a home the real Codex CLI (the pinned release, or CODEX_VERSION) wrote: every session exports in every
// format and validates against the schemas; what the user said is what the harness sent; forks show
// what they inherit; interrupted turns say so; and the facts agree with Codex's own state DB.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { ndjson, run } from '../helpers/fixtures.js';
import { validators } from '../helpers/export.js';
import { interop } from './codex.js';
import { buildRealHome, defaultRealHomeRoot } from './real-home.js';

await interop(t, main);

async function main() {
  const m = await buildRealHome(defaultRealHomeRoot());
  const sessions = Object.values(m.sessions);
  const exp = (args: string[]) => run('rollout-export', ['--codex-home', m.home, ...args]);
  const v = validators(JSON.parse(exp(['--schema']).out), JSON.parse(exp(['--schema', 'ndjson']).out));
  const docs = new Map<string, any>();

  t.test('every session Codex wrote exports in every format, and the data validates', async (t) => {
    for (const s of sessions) {
      for (const f of ['md', 'html', 'csv', 'ndjson']) {
        const r = exp(['-f', f, s.id]);
        t.equal(r.code, 0, `${s.key} ${f}: ${r.err}`);
        t.equal(r.err, '', `${s.key} ${f}: no warnings`);
        if (f === 'ndjson') for (const line of ndjson(r.out)) if (!v.line(line)) t.fail(`${s.key}: ${v.errors(v.line)}`);
      }
      const r = exp(['-f', 'json', '--all', '--reasoning', s.id]);
      const doc = JSON.parse(r.out);
      t.ok(v.document(doc), `${s.key}: json document valid ${v.errors(v.document)}`);
      docs.set(s.key, doc);
    }
  });

  t.test('what the user said, turn by turn, is what the harness sent', async (t) => {
    for (const s of sessions) {
      const doc = docs.get(s.key);
      const said = doc.items.filter((i: any) => i.kind === 'message' && i.role === 'user' && !i.context).map((i: any) => i.text);
      t.same(said.slice(said.length - s.userMessages.length), s.userMessages, `${s.key}: its own turns`);
      t.equal(doc.session.turns - doc.session.inherited_turns, s.turns, `${s.key}: turns of its own`);
      t.notOk(
        doc.items.some((i: any) => i.kind === 'message' && /base64,/.test(i.text)),
        `${s.key}: no base64`,
      );
    }
  });

  t.test('forks show the history they reference, and only that', async (t) => {
    const forks = sessions.filter((s) => s.forkedFromId);
    t.ok(forks.length >= 1);
    for (const fork of forks) {
      const doc = docs.get(fork.key);
      const parent = sessions.find((s) => s.id === fork.forkedFromId)!;
      t.ok(doc.session.inherited_turns >= 1, `${fork.key}: inherits turns`);
      const inherited = doc.items.filter(
        (i: any) => i.kind === 'message' && i.role === 'user' && !i.context && doc.items.find((x: any) => x.kind === 'turn' && x.turn === i.turn).inherited,
      );
      t.same(
        inherited.map((i: any) => i.text),
        parent.userMessages.slice(0, doc.session.inherited_turns),
        `${fork.key}: the first turns of ${parent.key}`,
      );
    }
  });

  t.test('tool calls carry exit codes, durations and directories; long output is cut and counted', async (t) => {
    for (const s of sessions.filter((s) => s.toolCall)) {
      const calls = docs.get(s.key).items.filter((i: any) => i.kind === 'tool_call');
      t.ok(calls.length >= 1, `${s.key}: a tool call`);
      for (const c of calls) t.match(c, { tool: 'exec_command', exit_code: 0, cwd: s.cwd, duration_ms: Number }, `${s.key}: ${c.command}`);
      const csv = exp(['-f', 'csv', s.id]).out.split('\r\n');
      t.equal(csv.length, calls.length + 2, `${s.key}: one CSV row per call`);
    }
    const long = m.sessions.longOutput;
    const call = ndjson(exp(['-f', 'ndjson', '--max-output', '100', long.id]).out).find((i) => i.kind === 'tool_call');
    t.equal(call.output.length, 100);
    t.ok(call.omitted_chars > 1000, `${call.omitted_chars} characters left out`);
    t.match(exp([long.id]).out, /more characters left out/);
  });

  t.test('an interrupted turn says so', async (t) => {
    const turns = docs.get('interrupted').items.filter((i: any) => i.kind === 'turn');
    t.ok(
      turns.some((x: any) => x.status === 'aborted'),
      'an aborted turn',
    );
    t.match(exp([m.sessions.interrupted.id]).out, /## Turn \d+ · [^\n]*interrupted/, 'the transcript says so');
  });

  t.test("the facts agree with Codex's own state DB", async (t) => {
    const db = new Database(join(m.home, 'state_5.sqlite'), { readonly: true, fileMustExist: true });
    t.teardown(() => db.close());
    for (const s of sessions) {
      const row = db.prepare('SELECT title, name, first_user_message, model, tokens_used, cwd, git_branch FROM threads WHERE id = ?').get(s.id) as any;
      if (!row) continue;
      const f = docs.get(s.key).session;
      t.equal(f.title, row.first_user_message, `${s.key}: title, Codex's first user message`);
      t.equal(f.name ?? f.title, row.name ?? row.title, `${s.key}: what Codex shows (the name, else the title)`);
      t.equal(f.model, row.model, `${s.key}: model`);
      t.equal(f.cwd, row.cwd, `${s.key}: cwd`);
      t.equal(f.git?.branch ?? null, row.git_branch, `${s.key}: branch`);
      if (row.tokens_used) t.equal(f.tokens?.total, row.tokens_used, `${s.key}: tokens`);
    }
  });
}

// rollout-usage as a subprocess over homes written line by line: each model response counted once
// (repeated events and records once, a parent's copied history only in the parent, rolled-back
// turns still), archived, compressed and grown files, generations that recorded nothing as
// unknown, and costs from the bundled table, a LiteLLM-shaped --pricing file, tiers and long
// context, grouped by day in a time zone and clipped to --since/--until.
import { appendFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import t from 'tap';
import { ndjson, run, tmpDir, uuidv7, writeSession } from './helpers/fixtures.js';
import { bareSession, envelope, iso } from './helpers/generations.js';

interface Use {
  input: number;
  cached?: number;
  output: number;
  reasoning?: number;
}

const usageJson = (u: Use) =>
  `{"input_tokens":${u.input},"cached_input_tokens":${u.cached ?? 0},"cache_write_input_tokens":0,"output_tokens":${u.output},"reasoning_output_tokens":${u.reasoning ?? 0},"total_tokens":${u.input + u.output}}`;

/** A session's lines, one at a time: a clock that moves a second a line, ordinals when paginated. */
class Session {
  readonly lines: string[] = [];
  private ordinal = 0;
  private total: Use = { input: 0, cached: 0, output: 0, reasoning: 0 };
  constructor(
    readonly id: string,
    readonly start: number,
    readonly paginated: boolean,
    meta: Record<string, unknown> = {},
    private clock = start,
  ) {
    this.push(
      'session_meta',
      JSON.stringify({
        id,
        timestamp: iso(start),
        cwd: '/w',
        originator: 'codex_exec',
        cli_version: '0.169.0',
        source: 'exec',
        model_provider: 'openai',
        history_mode: paginated ? 'paginated' : 'legacy',
        ...meta,
      }),
    );
  }
  push(type: string, payload: string, at?: number): this {
    this.clock = at ?? this.clock + 1000;
    this.lines.push(envelope(this.clock, this.paginated ? this.ordinal++ : null, type, payload));
    return this;
  }
  settings(model: string, tier?: string): this {
    return this.push(
      'event_msg',
      JSON.stringify({ type: 'thread_settings_applied', thread_settings: { model, model_provider_id: 'openai', ...(tier ? { service_tier: tier } : {}) } }),
    );
  }
  turn(model = 'gpt-5.5'): this {
    this.push('event_msg', `{"type":"task_started","turn_id":"${uuidv7(this.clock)}"}`);
    this.push('turn_context', JSON.stringify({ cwd: '/w', approval_policy: 'never', sandbox_policy: { type: 'read-only' }, model, summary: 'auto' }));
    return this.push('response_item', '{"type":"message","role":"user","content":[{"type":"input_text","text":"go"}]}');
  }
  /** One model response: a token_usage_record (paginated) and a token_count with the running total. */
  response(u: Use, responseId = `resp_${this.lines.length}`): this {
    if (this.paginated) this.push('token_usage_record', `{"thread_id":"${this.id}","response_id":"${responseId}","usage":${usageJson(u)}}`);
    this.total = {
      input: this.total.input + u.input,
      cached: this.total.cached! + (u.cached ?? 0),
      output: this.total.output + u.output,
      reasoning: this.total.reasoning! + (u.reasoning ?? 0),
    };
    return this.tokenCount(u);
  }
  /** A token_count event repeating the last one, as Codex writes at a turn's end or on resume. */
  tokenCount(last: Use): this {
    return this.push(
      'event_msg',
      `{"type":"token_count","info":{"total_token_usage":${usageJson(this.total)},"last_token_usage":${usageJson(last)},"model_context_window":258400},"rate_limits":null}`,
    );
  }
  write(home: string, opts: Parameters<typeof writeSession>[2] = {}): string {
    const raw = Buffer.from(this.lines.map((l) => l + '\n').join(''));
    return writeSession(home, { id: this.id, start: new Date(this.start), history: this.paginated ? 'paginated' : 'legacy' }, { ...opts, raw }).path;
  }
}

const T0 = Date.parse('2026-11-30T22:30:00Z');

const usage = (home: string, args: string[] = []) => {
  const r = run('rollout-usage', ['--codex-home', home, '--index', join(home, 'idx.sqlite'), '--json', ...args]);
  return { ...r, rows: r.code === 0 ? ndjson(r.out) : [] };
};

const bySession = (rows: Record<string, unknown>[]) => new Map(rows.filter((r) => !r.total).map((r) => [r.session as string, r]));

t.test('each response once: repeated token_count events, interrupted turns, rolled-back turns', async (t) => {
  const home = tmpDir(t);
  const s = new Session(uuidv7(T0), T0, false).turn().response({ input: 1000, cached: 200, output: 50, reasoning: 20 });
  s.tokenCount({ input: 1000, cached: 200, output: 50, reasoning: 20 }); // repeated at the turn's end
  s.push('event_msg', '{"type":"token_count","info":null,"rate_limits":null}'); // an interrupted turn
  s.turn().response({ input: 2000, output: 70 });
  s.push('event_msg', '{"type":"thread_rolled_back","num_turns":1}');
  s.tokenCount({ input: 2000, output: 70 }); // repeated on resume
  s.write(home);
  const r = usage(home, ['--by', 'session']);
  t.equal(r.code, 0, r.err);
  const row = bySession(r.rows).get(s.id)!;
  t.match(row, { responses: 2, input_tokens: 3000, cached_input_tokens: 200, output_tokens: 120, reasoning_output_tokens: 20, total_tokens: 3120 });
  // gpt-5.5: input 5e-6, cached 5e-7, output 3e-5 per token.
  t.equal(row.cost_usd, Math.round((2800 * 5e-6 + 200 * 5e-7 + 120 * 3e-5) * 1e6) / 1e6);
});

t.test('a paginated file counts its token_usage_record lines, each response id once, and not its token_count events', async (t) => {
  const home = tmpDir(t);
  const s = new Session(uuidv7(T0), T0, true).settings('gpt-5.5').turn().response({ input: 100, output: 10 }, 'r1');
  s.push('token_usage_record', `{"thread_id":"${s.id}","response_id":"r1","usage":${usageJson({ input: 100, output: 10 })}}`);
  s.response({ input: 300, output: 30 }, 'r2');
  s.write(home);
  const row = bySession(usage(home, ['--by', 'session']).rows).get(s.id)!;
  t.match(row, { responses: 2, input_tokens: 400, output_tokens: 40 });
});

t.test("history copied from a parent is the parent's: a legacy fork's copy, a sub-agent's inherited lines", async (t) => {
  const home = tmpDir(t);
  const parent = new Session(uuidv7(T0), T0, false).turn().response({ input: 1000, output: 100 }).turn().response({ input: 2000, output: 200 });
  parent.write(home);
  // A legacy fork: its own meta, then the parent's lines as they were, then its own turn.
  const forkAt = T0 + 3600_000;
  const fork = new Session(uuidv7(forkAt), forkAt, false, { forked_from_id: parent.id });
  for (const l of parent.lines) fork.lines.push(l);
  fork.settings('gpt-5.5').turn().response({ input: 500, output: 5 });
  fork.write(home);
  // A sub-agent whose lines below ordinal 4 are its parent's.
  const subAt = T0 + 7200_000;
  const sub = new Session(uuidv7(subAt), subAt, true, {
    subagent_history_start_ordinal: 4,
    source: { subagent: { thread_spawn: { parent_thread_id: parent.id } } },
  });
  sub.settings('gpt-5.5').response({ input: 9000, output: 900 }, 'inherited');
  sub.turn().response({ input: 70, output: 7 }, 'own');
  sub.write(home);
  const rows = bySession(usage(home, ['--by', 'session']).rows);
  t.match(rows.get(parent.id), { responses: 2, input_tokens: 3000, output_tokens: 300 });
  t.match(rows.get(fork.id), { responses: 1, input_tokens: 500, output_tokens: 5 }, 'the fork: only its own turn');
  t.match(rows.get(sub.id), { responses: 1, input_tokens: 70, output_tokens: 7 }, 'the sub-agent: only its own response');
});

t.test('archived, compressed, a copy in both roots once; a file that grew adds only its new responses', async (t) => {
  const home = tmpDir(t);
  const a = new Session(uuidv7(T0), T0, true).settings('gpt-5.5').turn().response({ input: 10, output: 1 });
  a.write(home, { root: 'archived_sessions', zst: 'only' });
  const b = new Session(uuidv7(T0 + 60_000), T0 + 60_000, true).settings('gpt-5.5').turn().response({ input: 20, output: 2 });
  b.write(home);
  b.write(home, { root: 'archived_sessions' });
  const first = usage(home);
  t.match(first.rows.at(-1), { total: true, sessions: 2, responses: 2, input_tokens: 30 });
  const path = new Session(uuidv7(T0 + 120_000), T0 + 120_000, true).settings('gpt-5.5').turn().response({ input: 40, output: 4 }).write(home);
  appendFileSync(path, envelope(T0 + 600_000, 99, 'token_usage_record', `{"response_id":"later","usage":${usageJson({ input: 400, output: 40 })}}`) + '\n');
  const again = usage(home);
  t.match(again.rows.at(-1), { total: true, sessions: 3, responses: 4, input_tokens: 470, output_tokens: 47 });
});

t.test('a generation that recorded no usage is unknown, never zero; a session without turns used nothing', async (t) => {
  const home = tmpDir(t);
  const id = uuidv7(Date.parse('2025-08-01T10:00:00Z'));
  const bare = bareSession('B', { id, timestamp: '2025-08-01T10:00:00.000Z', instructions: null }, [
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] },
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'hi' }] },
  ]);
  writeFileSync(join(home, 'x'), '');
  writeSession(home, { id, start: new Date('2025-08-01T10:00:00Z') }, { raw: Buffer.from(bare) });
  const empty = new Session(uuidv7(T0), T0, true);
  empty.write(home);
  const known = new Session(uuidv7(T0 + 1000), T0 + 1000, true).settings('gpt-5.5').turn().response({ input: 10, output: 1 });
  known.write(home);
  const r = usage(home, ['--by', 'session']);
  t.equal(r.code, 0, r.err);
  const rows = bySession(r.rows);
  t.match(rows.get(id), { unknown_sessions: 1, input_tokens: null, total_tokens: null, cost_usd: null });
  t.notOk(rows.has(empty.id), 'a session that asked nothing of a model has no row');
  t.match(r.rows.at(-1), { total: true, sessions: 2, unknown_sessions: 1, input_tokens: 10 });
  const none = usage(home, ['--cwd', '/nowhere']);
  t.same(
    none.rows,
    [
      {
        total: true,
        groups: 0,
        sessions: 0,
        unknown_sessions: 0,
        responses: 0,
        input_tokens: 0,
        cached_input_tokens: 0,
        cache_write_input_tokens: 0,
        output_tokens: 0,
        reasoning_output_tokens: 0,
        total_tokens: 0,
        cost_usd: 0,
        models: [],
      },
    ],
    'nothing chosen: zeros',
  );
});

t.test('prices: the bundled table, tiers, long context, an unknown model, and --pricing in LiteLLM shape', async (t) => {
  const home = tmpDir(t);
  const fast = new Session(uuidv7(T0), T0, true).settings('gpt-5.5', 'fast').turn().response({ input: 1000, output: 100 });
  fast.write(home);
  const long = new Session(uuidv7(T0 + 1000), T0 + 1000, true).settings('gpt-5.5').turn().response({ input: 300_000, cached: 100_000, output: 1000 });
  long.write(home);
  const odd = new Session(uuidv7(T0 + 2000), T0 + 2000, true).settings('house-model').turn('house-model').response({ input: 1_000_000, output: 0 });
  odd.write(home);
  const r = usage(home, ['--by', 'session']);
  t.equal(r.code, 0, r.err);
  const rows = bySession(r.rows);
  const usd = (n: number) => Math.round(n * 1e6) / 1e6;
  t.equal(rows.get(fast.id)!.cost_usd, usd(1000 * 1e-5 + 100 * 6e-5), 'fast is the priority tier');
  t.equal(rows.get(long.id)!.cost_usd, usd(200_000 * 1e-5 + 100_000 * 1e-6 + 1000 * 4.5e-5), 'above 272k input tokens: the long-context price');
  t.equal(rows.get(odd.id)!.cost_usd, null, 'no price, no guess');
  t.equal(r.rows.at(-1)!.cost_usd, null, 'and the total is not a price either');
  t.equal(r.err.match(/no price for model house-model/g)?.length, 1, 'one warning');
  const prices = join(tmpDir(t), 'prices.json');
  writeFileSync(
    prices,
    JSON.stringify({
      sample_spec: { note: 'ignored' },
      'house-model': { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6, litellm_provider: 'custom' },
    }),
  );
  const priced = usage(home, ['--by', 'session', '--pricing', prices]);
  t.equal(priced.code, 0, priced.err);
  t.equal(bySession(priced.rows).get(odd.id)!.cost_usd, 1, 'priced by the file');
  t.notMatch(priced.err, /no price/);
  const offline = usage(home, ['--by', 'session', '--pricing', prices, '--offline']);
  t.same(offline.rows, priced.rows, '--offline, taken for scripts written for other tools, changes nothing');
  writeFileSync(prices, '[1, 2]');
  const bad = usage(home, ['--pricing', prices]);
  t.equal(bad.code, 1);
  t.match(bad.err, /rollout-usage: error: .*prices\.json: not a price file/);
});

t.test('--by day in a time zone, combined with model; --since and --until count what falls between', async (t) => {
  const home = tmpDir(t);
  // 22:30 UTC on Nov 30 is 04:00 on Dec 1 in Kolkata (UTC+5:30: days there are whole 15-minute slots too).
  const s = new Session(uuidv7(T0), T0, true).settings('gpt-5.5').turn().response({ input: 10, output: 1 });
  s.turn('gpt-5.4').push('token_usage_record', `{"response_id":"x","usage":${usageJson({ input: 20, output: 2 })}}`, T0 + 2 * 86400_000);
  s.write(home);
  const utc = usage(home, ['--by', 'day,model', '--tz', 'UTC']);
  t.same(
    utc.rows.filter((r) => !r.total).map((r) => [r.day, r.model, r.input_tokens]),
    [
      ['2026-11-30', 'gpt-5.5', 10],
      ['2026-12-02', 'gpt-5.4', 20],
    ],
  );
  const kolkata = usage(home, ['--by', 'day', '--tz', 'Asia/Kolkata']);
  t.same(
    kolkata.rows.filter((r) => !r.total).map((r) => r.day),
    ['2026-12-01', '2026-12-03'],
  );
  const week = usage(home, ['--by', 'week', '--tz', 'UTC']);
  t.same(
    week.rows.filter((r) => !r.total).map((r) => r.week),
    ['2026-W49'],
    'Nov 30 2026 is a Monday: both days are in ISO week 49',
  );
  const clipped = usage(home, ['--since', '2026-12-01T12:00:00Z', '--tz', 'UTC']);
  t.match(clipped.rows.at(-1), { total: true, input_tokens: 20 });
  const until = usage(home, ['--until', '2026-12-01T12:00:00Z', '--tz', 'UTC']);
  t.match(until.rows.at(-1), { total: true, input_tokens: 10 }, 'a session active after --until still counts what it used before');
  const bad = usage(home, ['--by', 'day,week']);
  t.equal(bad.code, 2);
  t.match(bad.err, /--by takes one of day, week and month/);
  const zone = usage(home, ['--tz', 'Mars/Olympus']);
  t.equal(zone.code, 2);
  t.match(zone.err, /--tz takes a time zone name/);
});

t.test('an index made before usage was gathered is read anew, once', async (t) => {
  const home = tmpDir(t);
  new Session(uuidv7(T0), T0, true).settings('gpt-5.5').turn().response({ input: 10, output: 1 }).write(home);
  const want = usage(home).rows;
  const db = new Database(join(home, 'idx.sqlite'));
  db.exec('ALTER TABLE sessions DROP COLUMN usage');
  db.pragma('user_version = 3');
  db.close();
  const stale = usage(home, ['--no-update']);
  t.equal(stale.code, 1, '--no-update cannot read it');
  t.match(stale.err, /schema 3, this rollout reads 6/);
  t.same(usage(home).rows, want, 'brought up to date: the same answer');
});

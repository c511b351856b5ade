// A team's audit feed, end to end, with the recipes the man page gives: twenty machines (generated
// homes, --host each) feed a real PostgreSQL from cron while their sessions grow; some runs are
// killed midway, some loads fail, some are never acknowledged. At the end PostgreSQL holds every
// record once, each as one read of the final homes writes it, and the questions a team asks (tool
// calls per host per day, the commands that failed, tokens per model) give what the generator wrote.
// The same records read by DuckDB with the published schema's types, and written to Parquet.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { generateHome, type HomeManifest } from '../bench/gen-home.js';
import { QUICK_START, REPO, run, tmpDir } from './helpers/fixtures.js';
import { expectedFigures, feed, figuresOf, GrowingHome, latest, type Figures } from './helpers/feed.js';
import { startPostgres, type Postgres } from './helpers/postgres.js';
import { duckdb } from './helpers/duckdb.js';

const MB = 1 << 20;
const HOSTS = Array.from({ length: 20 }, (_, i) => `dev-${String(i + 1).padStart(2, '0')}`);
const FEED = `"${process.execPath}" "${join(REPO, 'dist/cmd/rollout-feed.js')}"`;
const COPY = "\\copy rollout_feed_staging(doc) from stdin with (format csv, quote e'\\x01', delimiter e'\\x02')";

const dir = tmpDir(t, 'rollout-team-');
const machines = HOSTS.map((host, i) => {
  const home = join(dir, host, 'home');
  const manifest: HomeManifest = generateHome({ dir: home, sessions: 10, bytes: 1.5 * MB, maxSession: 400 << 10, seed: 100 + i });
  return { host, home, manifest, ck: join(dir, host, 'feed.ck') };
});

/** JSON with its keys in order: jsonb keeps its own. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x,
  );

/** What is left to go wrong in one cron run. */
type Fate = 'ok' | 'feed killed' | 'load fails' | 'never acknowledged';

/** The man page's cron line, run by bash, with what goes wrong made to. */
function cronRun(pg: Postgres, m: (typeof machines)[number], fate: Fate): void {
  const psql = pg
    .psqlArgs()
    .map((a) => `'${a}'`)
    .join(' ');
  const producer = `${FEED} --codex-home '${m.home}' --host ${m.host} --checkpoint '${m.ck}' --hold`;
  const feedCmd = fate === 'feed killed' ? `timeout -s KILL 0.4 ${producer}` : producer;
  const load = `${psql} -1 -c "${COPY}" -c "select rollout_feed_load()"${fate === 'load fails' ? ' -c "select 1/0"' : ''}`;
  const ack = fate === 'never acknowledged' ? 'true' : `${FEED} --checkpoint '${m.ck}' --ack -q`;
  spawnSync('bash', ['-o', 'pipefail', '-c', `${feedCmd} | ${load} > /dev/null 2>&1 && ${ack}`], { env: { ...process.env, ...QUICK_START } });
}

let seed = 42;
const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
const fateOf = (): Fate => {
  const r = random();
  return r < 0.55 ? 'ok' : r < 0.7 ? 'feed killed' : r < 0.85 ? 'load fails' : 'never acknowledged';
};

const figuresIn = (pg: Postgres): Figures => {
  const rows = (sql: string) =>
    pg
      .psql(sql)
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('|'));
  return {
    callsByHostDay: Object.fromEntries(
      rows("select host || ' ' || to_char(time at time zone 'UTC', 'YYYY-MM-DD'), count(*) from rollout_tool_calls group by 1 order by 1").map(([k, n]) => [
        k,
        Number(n),
      ]),
    ),
    failed: Number(pg.psql('select count(*) from rollout_tool_calls where exit_code <> 0').trim()),
    tokensByModel: Object.fromEntries(rows('select model, sum(total_tokens) from rollout_usage group by 1 order by 1').map(([k, n]) => [k, Number(n)])),
  };
};

t.test('twenty machines feed PostgreSQL from cron while their sessions grow; each record is there once', async (t) => {
  const pg = await startPostgres();
  t.teardown(() => pg.stop());
  const ddl = run('rollout-feed', ['--schema', 'postgres']);
  t.equal(ddl.code, 0);
  pg.psql(ddl.out);

  const homes = machines.map((m) => new GrowingHome(m.home, machines.indexOf(m) + 1));
  const fates = new Map<Fate, number>();
  for (const step of [0.2, 0.45, 0.7, 0.9, 1]) {
    homes.forEach((h) => h.grow(step));
    for (const m of machines) {
      const fate = fateOf();
      fates.set(fate, (fates.get(fate) ?? 0) + 1);
      cronRun(pg, m, fate);
    }
  }
  t.ok(
    fates.get('feed killed')! > 0 && fates.get('load fails')! > 0 && fates.get('never acknowledged')! > 0,
    `every mishap happened: ${JSON.stringify([...fates])}`,
  );
  // Then the cron runs that follow, with nothing going wrong.
  for (const m of machines) cronRun(pg, m, 'ok');
  for (const m of machines) t.same(feed(m.home, ['--checkpoint', m.ck]), [], `${m.host}: nothing is left to send`);

  const expected = latest(machines.flatMap((m) => feed(m.home, ['--host', m.host])));
  const loaded = new Map(
    pg
      .psql('select record_id, doc from rollout_records')
      .trim()
      .split('\n')
      .map((l) => {
        const bar = l.indexOf('|');
        return [l.slice(0, bar), JSON.parse(l.slice(bar + 1))] as [string, any];
      }),
  );
  t.equal(loaded.size, expected.size, 'as many records as one read of every home writes');
  const missing = [...expected.keys()].filter((id) => !loaded.has(id));
  t.same(missing.slice(0, 5), [], 'none missing');
  const differ = [...expected].filter(([id, r]) => loaded.has(id) && canonical(loaded.get(id)) !== canonical(r));
  t.same(
    differ.slice(0, 3).map(([id, r]) => ({ id, expected: canonical(r), loaded: canonical(loaded.get(id)) })),
    [],
    'each as one read of the final homes writes it (ids and contents)',
  );
  t.equal(Number(pg.psql('select count(*) from rollout_feed_staging').trim()), 0, 'the staging table is left empty');

  const want = expectedFigures(
    HOSTS,
    machines.map((m) => m.manifest),
  );
  t.same(figuresIn(pg), want, 'tool calls per host per day, failed commands and tokens per model, as the generator wrote them');
});

t.test('DuckDB reads feed files with the published types, and writes Parquet', async (t) => {
  const db = await duckdb();
  t.teardown(() => db.close());
  const files = join(dir, 'lake');
  mkdirSync(files);
  // As cron would leave them: each machine's runs appended to files, one file a run.
  for (const m of machines) {
    const records = feed(m.home, ['--host', m.host]);
    const half = Math.floor(records.length / 2);
    writeFileSync(
      join(files, `${m.host}-1.ndjson`),
      records
        .slice(0, half)
        .map((r) => JSON.stringify(r) + '\n')
        .join(''),
    );
    writeFileSync(
      join(files, `${m.host}-2.ndjson`),
      records
        .slice(half)
        .map((r) => JSON.stringify(r) + '\n')
        .join(''),
    );
  }
  const macro = run('rollout-feed', ['--schema', 'duckdb']);
  t.equal(macro.code, 0);
  await db.run(macro.out);
  const latestRecords = `SELECT * FROM rollout_feed('${files}/*.ndjson') QUALIFY row_number() OVER (PARTITION BY record_id ORDER BY filename DESC) = 1`;
  const parquet = join(dir, 'records.parquet');
  await db.run(`COPY (${latestRecords}) TO '${parquet}' (FORMAT parquet)`);
  const types = await db.all(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${parquet}'))`);
  const type = (c: string) => types.find((r) => r.column_name === c)?.column_type;
  t.equal(type('time'), 'TIMESTAMP WITH TIME ZONE', 'times are timestamps');
  t.equal(type('exit_code'), 'BIGINT', 'counts are integers');
  t.equal(type('git'), 'JSON', 'objects are JSON');

  const rows = (sql: string) => db.all(sql);
  const figures: Figures = {
    callsByHostDay: Object.fromEntries(
      (
        await rows(
          `SELECT host || ' ' || strftime(time AT TIME ZONE 'UTC', '%Y-%m-%d') AS k, count(*) AS n FROM read_parquet('${parquet}') WHERE kind = 'tool_call' GROUP BY 1 ORDER BY 1`,
        )
      ).map((r) => [r.k as string, r.n as number]),
    ),
    failed: (await rows(`SELECT count(*) AS n FROM read_parquet('${parquet}') WHERE kind = 'tool_call' AND exit_code <> 0`))[0].n as number,
    tokensByModel: Object.fromEntries(
      (await rows(`SELECT model, sum(total_tokens) AS n FROM read_parquet('${parquet}') WHERE kind = 'usage' GROUP BY 1 ORDER BY 1`)).map((r) => [
        r.model as string,
        r.n as number,
      ]),
    ),
  };
  const want = expectedFigures(
    HOSTS,
    machines.map((m) => m.manifest),
  );
  t.same(figures, want, 'the same figures from the Parquet file');
  t.same(figuresOf(latest(machines.flatMap((m) => feed(m.home, ['--host', m.host]))).values()), want);
});

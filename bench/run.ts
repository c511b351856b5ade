// `make bench`: each binary against its baseline, in the same run, on synthetic homes of a chosen
// scale. Every figure is the median of several runs (with min-max), ours and the baseline
// alternating so that both see the same machine state; peak memory comes from /usr/bin/time -v.
// Prints a Markdown table and writes it, with the machine and date, to bench/results.md.
//
//   BENCH_SCALE=0.1   a factor on the default home (2,000 sessions, 2 GB) and on the probes (1 GB)
//   BENCH_RUNS=5      runs per measurement (heavy ones use at most 3)
//   BENCH_OUT=DIR     where the generated homes go (default bench/out, which git ignores)
//   BENCH_SKIP_CODEX=1  leave out the comparison with the real Codex listing
//   BENCH_ONLY=rollout-bundle,rollout-unbundle   measure only these binaries (the report says so)
//   BENCH_ONLY=growth  only the growth table (every binary once on each home)
//   BENCH_HUGE=0      leave out the home of 100,000 sessions (generated once, about 5 GB; the
//                     growth table then stops at 10,000)
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateHome, generateProbe, GENERATOR_VERSION, RARE_TERM, type HomeManifest, type SessionInfo } from './gen-home.js';
import { generateScreenshots, SCREENSHOTS_VERSION, type ScreenshotsManifest } from './gen-screenshots.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));
const HEAVY_RUNS = Math.min(RUNS, 3);
const OUT = resolve(process.env.BENCH_OUT ?? join(REPO, 'bench/out'));
const MB = 1 << 20;
const BIN = (name: string) => join(REPO, 'dist/cmd', `${name}.js`);
const TIME = '/usr/bin/time';

const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
/** The environment as given, for what reaches the network (npm needs the certificates unsetExtraCaCerts takes out). */
const GIVEN_ENV = { ...process.env };
const notes: string[] = [];

// ---------------------------------------------------------------------------------------------
// Measuring one process: wall time from spawn to exit, peak RSS from GNU time.

interface Sample {
  ms: number;
  rssMb: number | null;
}

interface Cmd {
  argv: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** A file for stdin (default /dev/null). */
  stdin?: string;
}

const haveTime = existsSync(TIME);
const devNull = openSync('/dev/null', 'w');

function once(cmd: Cmd): Sample {
  const report = join(OUT, '.time-report');
  const argv = haveTime ? [TIME, '-v', '-o', report, ...cmd.argv] : cmd.argv;
  const stdin = cmd.stdin ? openSync(cmd.stdin, 'r') : 'ignore';
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), {
    stdio: [stdin, devNull, 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...cmd.env },
    cwd: cmd.cwd,
    maxBuffer: 64 * MB,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (typeof stdin === 'number') closeSync(stdin);
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd.argv.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(-2000)}`);
  let rssMb: number | null = null;
  if (haveTime) {
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(report, 'utf8'));
    rssMb = m ? Number(m[1]) / 1024 : null;
  }
  return { ms, rssMb };
}

interface Stats {
  median: number;
  min: number;
  max: number;
  rssMb: number | null;
  runs: number;
}

function stats(samples: Sample[]): Stats {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const rss = samples.map((s) => s.rssMb).filter((x): x is number => x !== null);
  const mid = Math.floor(ms.length / 2);
  return {
    median: ms.length % 2 ? ms[mid] : (ms[mid - 1] + ms[mid]) / 2,
    min: ms[0],
    max: ms[ms.length - 1],
    rssMb: rss.length ? Math.max(...rss) : null,
    runs: ms.length,
  };
}

/** Ours and the baseline, alternating, after one unmeasured warm-up each (page cache, JIT of node). */
function pair(ours: Cmd, base: Cmd | null, runs: number, before?: () => void): [Stats, Stats | null] {
  before?.();
  once(ours);
  if (base) once(base);
  const a: Sample[] = [];
  const b: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    before?.();
    a.push(once(ours));
    if (base) b.push(once(base));
  }
  return [stats(a), base ? stats(b) : null];
}

// ---------------------------------------------------------------------------------------------
// Results.

interface Row {
  what: string;
  ours: Stats;
  base: Stats | null;
  baseLabel: string;
  /** Bytes processed, for a throughput column. */
  bytes?: number;
  target?: Target;
}

type Target =
  | { kind: 'ratio'; max: number } // ours/baseline time at most this
  | { kind: 'faster'; min: number } // baseline/ours at least this
  | { kind: 'ms'; max: number }
  | { kind: 'mbps'; min: number };

const rows: Row[] = [];
const rssRows = new Map<string, Map<string, number | null>>();

const fmtMs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const fmtStats = (s: Stats) => `${fmtMs(s.median)} (${fmtMs(s.min)}–${fmtMs(s.max)}, n=${s.runs})`;
const mbps = (bytes: number, ms: number) => bytes / MB / (ms / 1000);

function targetText(t: Target | undefined): string {
  if (!t) return '';
  switch (t.kind) {
    case 'ratio':
      return `≤ ${t.max}x baseline`;
    case 'faster':
      return `≥ ${t.min}x faster`;
    case 'ms':
      return `< ${t.max} ms`;
    case 'mbps':
      return `≥ ${t.min} MB/s`;
  }
}

function met(r: Row): boolean | null {
  const t = r.target;
  if (!t) return null;
  if (t.kind === 'ratio') return r.base ? r.ours.median / r.base.median <= t.max : null;
  if (t.kind === 'faster') return r.base ? r.base.median / r.ours.median >= t.min : null;
  if (t.kind === 'ms') return r.ours.median < t.max;
  return r.bytes ? mbps(r.bytes, r.ours.median) >= t.min : null;
}

function table(): string {
  const out = ['| Measurement | rollout | baseline | ratio | throughput | peak RSS | target | met |', '|---|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const ratio = r.base ? r.ours.median / r.base.median : null;
    const ratioText = ratio === null ? '' : ratio >= 1 ? `${ratio.toFixed(2)}x` : `${ratio.toFixed(2)}x (${(1 / ratio).toFixed(1)}x faster)`;
    const m = met(r);
    out.push(
      `| ${r.what} | ${fmtStats(r.ours)} | ${r.base ? `${r.baseLabel}: ${fmtStats(r.base)}` : r.baseLabel} | ${ratioText} | ${r.bytes ? `${mbps(r.bytes, r.ours.median).toFixed(0)} MB/s` : ''} | ${r.ours.rssMb === null ? '' : `${r.ours.rssMb.toFixed(0)} MB`} | ${targetText(r.target)} | ${m === null ? '' : m ? 'yes' : '**no**'} |`,
    );
  }
  return out.join('\n');
}

function rssTable(labels: string[]): string {
  const out = [`| Peak RSS (MB) | ${labels.join(' | ')} | target |`, `|---|${labels.map(() => '---|').join('')}---|`];
  for (const [what, bySize] of rssRows) {
    const cells = labels.map((l) => {
      const v = bySize.get(l);
      return v === undefined || v === null ? '' : v.toFixed(0);
    });
    const all = [...bySize.values()].filter((v): v is number => v !== null);
    out.push(`| ${what} | ${cells.join(' | ')} | < 100 MB: ${all.every((v) => v < 100) ? 'yes' : '**no**'} |`);
  }
  return out.join('\n');
}

function record(what: string, ours: Stats, base: Stats | null, baseLabel: string, extra: Partial<Row> = {}): void {
  const row: Row = { what, ours, base, baseLabel, ...extra };
  rows.push(row);
  const ratio = base ? ` = ${(ours.median / base.median).toFixed(2)}x` : '';
  log(
    `${what}: ${fmtMs(ours.median)}${base ? ` vs ${baseLabel} ${fmtMs(base.median)}${ratio}` : ''}${row.bytes ? `, ${mbps(row.bytes, ours.median).toFixed(0)} MB/s` : ''}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Homes and probes, generated once per scale and reused while the generator stays the same.

interface Built<T> {
  value: T;
  fresh: boolean;
}

function cached<T>(dir: string, key: unknown, build: () => T): Built<T> {
  const stamp = join(dir, 'bench-manifest.json');
  const want = JSON.stringify(key);
  if (existsSync(stamp)) {
    const saved = JSON.parse(readFileSync(stamp, 'utf8'));
    if (JSON.stringify(saved.key) === want) return { value: saved.value as T, fresh: false };
  }
  const value = build();
  writeFileSync(stamp, JSON.stringify({ key, value }));
  return { value, fresh: true };
}

function mainHome(): { dir: string; manifest: HomeManifest } {
  const dir = join(OUT, `home-x${SCALE}`);
  const t0 = Date.now();
  const built = cached(dir, { v: GENERATOR_VERSION, scale: SCALE }, () => {
    log(`generating the home (scale ${SCALE}) in ${dir}`);
    return generateHome({ dir, scale: SCALE, log });
  });
  if (built.fresh) log(`  done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { dir, manifest: built.value };
}

/** Many small sessions: the home of the no-change and listing targets (10,000 sessions at scale 1). */
function manyHome(): { dir: string; manifest: HomeManifest } {
  const dir = join(OUT, `many-x${SCALE}`);
  const sessions = Math.max(50, Math.round(10_000 * SCALE));
  const built = cached(dir, { v: GENERATOR_VERSION, sessions }, () => {
    log(`generating ${sessions} small sessions in ${dir}`);
    return generateHome({ dir, sessions, bytes: sessions * 40 * 1024, maxSession: 4 * MB, seed: 21, log });
  });
  return { dir, manifest: built.value };
}

/** The home of a year of subagents: 100,000 small sessions at scale 1, as many-x but ten times more. */
function hugeHome(): { dir: string; manifest: HomeManifest } | null {
  if (process.env.BENCH_HUGE === '0') return null;
  const dir = join(OUT, `huge-x${SCALE}`);
  const sessions = Math.max(500, Math.round(100_000 * SCALE));
  const t0 = Date.now();
  const built = cached(dir, { v: GENERATOR_VERSION, sessions }, () => {
    log(`generating ${sessions} small sessions in ${dir} (once; BENCH_HUGE=0 leaves this out)`);
    return generateHome({ dir, sessions, bytes: sessions * 40 * 1024, maxSession: 4 * MB, seed: 23, log });
  });
  if (built.fresh) log(`  done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { dir, manifest: built.value };
}

interface Probe {
  label: string;
  home: string;
  path: string;
  bytes: number;
  zstHome: string;
  zstPath: string;
}

function probe(label: string, bytes: number): Probe {
  const home = join(OUT, `probe-${label}`);
  const zstHome = join(OUT, `probe-${label}-zst`);
  return cached(home, { v: GENERATOR_VERSION, bytes }, () => {
    log(`generating a ${label} session in ${home}`);
    rmSync(zstHome, { recursive: true, force: true });
    const info = generateProbe(home, bytes);
    const zstPath = join(zstHome, `${info.path}.zst`);
    mkdirSync(dirname(zstPath), { recursive: true });
    const z = spawnSync('zstd', ['-3', '-q', '-f', info.abs, '-o', zstPath]);
    if (z.status !== 0) throw new Error(`zstd: ${z.stderr.toString()}`);
    return { label, home, path: info.abs, bytes: info.bytes, zstHome, zstPath };
  }).value;
}

/** A home left changed by an interrupted run (appended turns) is put back as generated. */
function restore(home: string, manifest: HomeManifest): void {
  for (const s of manifest.sessions) {
    if (s.compressed) continue;
    const path = join(home, s.path);
    if (existsSync(path) && statSync(path).size !== s.bytes) {
      truncateSync(path, s.bytes);
      utimesSync(path, s.mtime / 1000, s.mtime / 1000);
    }
  }
}

/** Appends one small complete turn to a plain session, continuing its ordinals and clock. */
function appendTurn(path: string, s: SessionInfo, n: number): void {
  const fd = openSync(path, 'r');
  const size = statSync(path).size;
  const tail = Buffer.alloc(Math.min(size, 4 * MB));
  readSync(fd, tail, 0, tail.length, size - tail.length);
  closeSync(fd);
  const text = tail.toString('utf8').trimEnd();
  const last = JSON.parse(text.slice(text.lastIndexOf('\n') + 1));
  let ordinal: number | undefined = typeof last.ordinal === 'number' ? last.ordinal + 1 : undefined;
  let clock = Date.parse(last.timestamp) + 60_000;
  const turnId = `bench-append-${n}`;
  const user = `Appended question ${n} about the ${RARE_TERM}-free checkout flow`;
  const lines: string[] = [];
  const push = (type: string, payload: unknown) => {
    const env: Record<string, unknown> = { timestamp: new Date((clock += 5)).toISOString() };
    if (ordinal !== undefined) env.ordinal = ordinal++;
    Object.assign(env, { type, payload });
    lines.push(JSON.stringify(env));
  };
  push('event_msg', { type: 'task_started', turn_id: turnId, model_context_window: 258400, collaboration_mode_kind: 'default' });
  push('response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text: user }] });
  if (s.kind === 'E')
    push('event_msg', {
      type: 'item_completed',
      thread_id: s.id,
      turn_id: turnId,
      item: { type: 'UserMessage', id: `u-${n}`, content: [{ type: 'text', text: user, text_elements: [] }] },
    });
  else push('event_msg', { type: 'user_message', message: user, images: [], local_images: [], text_elements: [] });
  push('response_item', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Done.' }], phase: 'final_answer' });
  push('event_msg', { type: 'task_complete', turn_id: turnId, last_agent_message: 'Done.' });
  appendFileSync(path, lines.map((l) => l + '\n').join(''));
}

// ---------------------------------------------------------------------------------------------
// The real Codex listing the same home (app-server thread/list), when its harness is there.

interface CodexClient {
  appServer(home: string, opts?: { cwd?: string }): Promise<{ request(m: string, p?: unknown, t?: number): Promise<any>; close(): Promise<void> }>;
  codexBin(): string;
  ALL_SOURCE_KINDS: string[];
}

async function codexClient(): Promise<CodexClient | null> {
  if (process.env.BENCH_SKIP_CODEX === '1') {
    notes.push('The real Codex listing was skipped (BENCH_SKIP_CODEX=1).');
    return null;
  }
  const module = join(REPO, 'dist/test/interop/codex.js');
  if (!existsSync(module)) {
    notes.push('The real Codex listing was skipped: the interop harness (test/interop/codex.ts) is not built.');
    return null;
  }
  try {
    const client = (await import(module)) as CodexClient;
    log('installing or finding the real Codex CLI (scripts/install-codex.sh)');
    client.codexBin();
    return client;
  } catch (err) {
    notes.push(`The real Codex listing was skipped: ${(err as Error).message.split('\n')[0]}`);
    return null;
  }
}

/** Wall time from starting `codex app-server` to the answer of one thread/list. */
async function codexList(client: CodexClient, home: string, params: Record<string, unknown>): Promise<{ ms: number; count: number }> {
  const t0 = process.hrtime.bigint();
  const server = await client.appServer(home);
  try {
    const r = await server.request('thread/list', { sourceKinds: client.ALL_SOURCE_KINDS, modelProviders: [], limit: 25, ...params }, 180_000);
    return { ms: Number(process.hrtime.bigint() - t0) / 1e6, count: (r?.data ?? []).length };
  } finally {
    await server.close();
  }
}

async function codexStats(client: CodexClient, home: string, params: Record<string, unknown>, runs: number): Promise<Stats> {
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) samples.push({ ms: (await codexList(client, home, params)).ms, rssMb: null });
  return stats(samples);
}

// ---------------------------------------------------------------------------------------------

const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((b) => b.trim())) : null;

/** Quietly: whether a binary is built and asked for. */
const wanted = (bin: string) => (!ONLY || ONLY.has(bin)) && existsSync(BIN(bin));

const have = (bin: string) => {
  if (ONLY && !ONLY.has(bin)) return false;
  if (existsSync(BIN(bin))) return true;
  notes.push(`${bin} was not measured: dist/cmd/${bin}.js does not exist yet.`);
  return false;
};

const node = (bin: string, ...args: string[]): string[] => [process.execPath, BIN(bin), ...args];
const sh = (script: string): string[] => ['bash', '-c', script];
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function version(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return (r.stdout || r.stderr || '').split('\n')[0].trim() || 'missing';
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  for (const tool of ['zstd', 'jq']) if (version(tool, ['--version']) === 'missing') throw new Error(`${tool} is needed (make installs it)`);
  if (!haveTime) notes.push('Peak memory was not measured: /usr/bin/time is missing (Debian package `time`).');
  if (!existsSync(BIN('rollout-cat'))) throw new Error('dist/cmd/rollout-cat.js is missing: run make build first');

  const started = Date.now();
  if (ONLY) notes.push(`A partial run: only ${[...ONLY].join(', ')} (BENCH_ONLY).`);
  unsetExtraCaCerts();
  const home = mainHome();
  const many = manyHome();
  restore(home.dir, home.manifest);
  const sizes: [string, number][] = [
    ['10MB', 10 * MB],
    ['100MB', 100 * MB],
    ['1GB', 1024 * MB],
  ].map(([l, b]) => {
    const bytes = Math.max(MB, Math.round((b as number) * SCALE));
    return [SCALE === 1 ? (l as string) : `${Math.round(bytes / MB)}MB`, bytes];
  });
  const probes = sizes.map(([l, b]) => probe(l, b));
  const [, mid, big] = probes;
  const homeBytes = home.manifest.bytes;
  log(`home: ${home.manifest.sessions.length} sessions, ${(homeBytes / MB).toFixed(0)} MB; many: ${many.manifest.sessions.length} sessions`);

  // rollout-cat against cat, zstd -dc and jq.
  if (have('rollout-cat')) {
    record(`rollout-cat, ${big.label} plain session`, ...pair({ argv: node('rollout-cat', big.path) }, { argv: ['cat', big.path] }, HEAVY_RUNS), 'cat', {
      bytes: big.bytes,
      target: { kind: 'ratio', max: 1.5 },
    });
    record(
      `rollout-cat, ${big.label} session as .zst`,
      ...pair({ argv: node('rollout-cat', big.zstPath) }, { argv: ['zstd', '-dcq', big.zstPath] }, HEAVY_RUNS),
      'zstd -dc',
      { bytes: big.bytes, target: { kind: 'ratio', max: 2 } },
    );
    // Twice: on a mid-sized session Node's start-up is a large share; on a big one it is not.
    for (const p of [mid, big]) {
      record(
        `rollout-cat --type event_msg, ${p.label}`,
        ...pair({ argv: node('rollout-cat', '--type', 'event_msg', p.path) }, { argv: ['jq', '-c', 'select(.type=="event_msg")', p.path] }, HEAVY_RUNS),
        `jq select`,
        { bytes: p.bytes, target: { kind: 'faster', min: 5 } },
      );
    }
  }

  const index = (name: string) => join(OUT, `index-${name}-x${SCALE}.sqlite`);
  const dropIndex = (path: string) => () => {
    for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
  };
  const env = (dir: string, idx: string) => ({ CODEX_HOME: dir, ROLLOUT_INDEX: idx });
  const readAll = (dir: string) =>
    sh(
      `cd ${q(dir)} && find sessions archived_sessions -type f -name 'rollout-*.json*' ! -name '*.zst' -print0 | xargs -0 -r cat && find sessions archived_sessions -type f -name '*.zst' -print0 | xargs -0 -r zstd -dcq`,
    );
  const statAll = (dir: string) => sh(`find ${q(dir)}/sessions ${q(dir)}/archived_sessions -type f -printf '%s %T@ %i %p\\n'`);

  const mainIdx = index('home');
  const manyIdx = index('many');
  if (have('rollout-index')) {
    record(
      `rollout-index, full build (${home.manifest.sessions.length} sessions, ${(homeBytes / MB).toFixed(0)} MB)`,
      ...pair({ argv: node('rollout-index'), env: env(home.dir, mainIdx) }, { argv: readAll(home.dir) }, HEAVY_RUNS, dropIndex(mainIdx)),
      'read every byte (cat, zstd -dc)',
      { bytes: homeBytes, target: { kind: 'mbps', min: 150 } },
    );
    once({ argv: node('rollout-index'), env: env(many.dir, manyIdx) });
    record(
      `rollout-index, no change (${many.manifest.sessions.length} sessions)`,
      ...pair({ argv: node('rollout-index'), env: env(many.dir, manyIdx) }, { argv: statAll(many.dir) }, RUNS),
      'find -printf (stat every file)',
      { target: { kind: 'ms', max: 1000 } },
    );
    const plain = home.manifest.sessions.filter((s) => !s.compressed && (s.kind === 'D' || s.kind === 'E'));
    const step = Math.max(1, Math.floor(plain.length / Math.max(1, Math.round(home.manifest.sessions.length / 100))));
    const touched = plain.filter((_, i) => i % step === 0).slice(0, Math.max(1, Math.round(home.manifest.sessions.length / 100)));
    let n = 0;
    try {
      record(
        `rollout-index after appending a turn to 1% of sessions (${touched.length})`,
        ...pair({ argv: node('rollout-index'), env: env(home.dir, mainIdx) }, null, RUNS, () => {
          n++;
          for (const s of touched) appendTurn(join(home.dir, s.path), s, n);
        }),
        '',
      );
    } finally {
      restore(home.dir, home.manifest);
      once({ argv: node('rollout-index'), env: env(home.dir, mainIdx) });
    }
  }

  // Listing and search, against the real Codex's app-server on the same home.
  const codex = have('rollout-ls') ? await codexClient() : null;
  if (have('rollout-ls')) {
    for (const [label, h, idx] of [
      ['many', many, manyIdx],
      ['home', home, mainIdx],
    ] as const) {
      const n = h.manifest.sessions.length;
      if (!existsSync(idx)) once({ argv: node('rollout-index'), env: env(h.dir, idx) });
      const ours = pair({ argv: node('rollout-ls', '--limit', '25'), env: env(h.dir, idx) }, null, RUNS)[0];
      let base: Stats | null = null;
      if (codex) {
        for (const f of ['state_5.sqlite', 'state_5.sqlite-wal', 'state_5.sqlite-shm']) rmSync(join(h.dir, f), { force: true });
        const cold = await codexList(codex, h.dir, {});
        const ourCold = once({ argv: node('rollout-ls', '--limit', '25'), env: env(h.dir, join(OUT, `cold-${label}.sqlite`)) });
        dropIndex(join(OUT, `cold-${label}.sqlite`))();
        notes.push(
          `First listing of the ${label} home (${n} sessions), nothing built yet: rollout-ls (index build included) ${fmtMs(ourCold.ms)}, ` +
            `Codex app-server thread/list (state DB backfill included) ${fmtMs(cold.ms)} (${cold.count} threads returned).`,
        );
        base = await codexStats(codex, h.dir, {}, RUNS);
      }
      record(`rollout-ls --limit 25 (${n} sessions)`, ours, base, 'codex app-server thread/list, limit 25', { target: { kind: 'ms', max: 150 } });
    }
    const search = pair({ argv: node('rollout-ls', '--search', RARE_TERM, '--limit', '25'), env: env(home.dir, mainIdx) }, null, RUNS)[0];
    const codexSearch = codex ? await codexStats(codex, home.dir, { searchTerm: RARE_TERM }, HEAVY_RUNS) : null;
    record(`rollout-ls --search ${RARE_TERM} (${(homeBytes / MB).toFixed(0)} MB home)`, search, codexSearch, 'codex thread/list searchTerm', {
      target: { kind: 'ms', max: 100 },
    });
  }

  // Where the bytes are: rollout-du answers from the index (the kinds were counted while indexing),
  // du walks the folders and stats every file. Both see an index and a page cache already warm.
  if (have('rollout-du')) {
    for (const [label, h, idx] of [
      ['many', many, manyIdx],
      ['home', home, mainIdx],
    ] as const) {
      if (!existsSync(idx)) once({ argv: node('rollout-index'), env: env(h.dir, idx) });
      const roots = [join(h.dir, 'sessions'), join(h.dir, 'archived_sessions')].filter((d) => existsSync(d));
      for (const by of ['session', 'kind']) {
        record(
          `rollout-du --by ${by} (${h.manifest.sessions.length} sessions${label === 'home' ? `, ${(homeBytes / MB).toFixed(0)} MB` : ''})`,
          ...pair({ argv: node('rollout-du', '--include-archived', '--by', by), env: env(h.dir, idx) }, { argv: ['du', '-sb', ...roots] }, RUNS),
          'du -sb of the same folders',
          { target: { kind: 'ms', max: 500 } },
        );
      }
    }
  }

  if (have('rollout-export')) {
    const largest = [...home.manifest.sessions].filter((s) => s.kind === 'D' || s.kind === 'E').sort((a, b) => b.bytes - a.bytes)[0];
    const path = join(home.dir, largest.path);
    for (const flags of [[], ['--redact']]) {
      record(
        `rollout-export --format md${flags.length ? ' ' + flags.join(' ') : ''}, largest session (${(largest.bytes / MB).toFixed(0)} MB${largest.compressed ? ', .zst' : ''})`,
        ...pair(
          { argv: node('rollout-export', '--format', 'md', ...flags, path), env: { CODEX_HOME: home.dir } },
          { argv: largest.compressed ? ['zstd', '-dcq', path] : ['cat', path] },
          HEAVY_RUNS,
        ),
        largest.compressed ? 'zstd -dc' : 'cat',
        { bytes: largest.bytes, target: { kind: 'mbps', min: 100 } },
      );
    }
  }

  if (have('rollout-prune')) {
    record(
      `rollout-prune -n --older-than 30d (${home.manifest.sessions.length} sessions)`,
      ...pair(
        { argv: node('rollout-prune', '-n', '-q', '--older-than', '30d'), env: env(home.dir, mainIdx) },
        { argv: sh(`find ${q(home.dir)}/sessions ${q(home.dir)}/archived_sessions -type f -mtime +30`) },
        RUNS,
      ),
      'find -mtime +30',
    );
    // Many sessions at once: --keep-last reads every candidate's head, and the checks run per session.
    record(
      `rollout-prune -n --older-than 30d --keep-last 5 (${many.manifest.sessions.length} sessions)`,
      ...pair(
        { argv: node('rollout-prune', '-n', '-q', '--older-than', '30d', '--keep-last', '5'), env: env(many.dir, manyIdx) },
        { argv: sh(`find ${q(many.dir)}/sessions ${q(many.dir)}/archived_sessions -type f -mtime +30`) },
        RUNS,
      ),
      'find -mtime +30',
    );
  }

  // Whole homes through the per-session commands: costs that grow with the number of sessions show here.
  const manyPaths = join(OUT, 'many-paths.txt');
  const threads = threadPaths(many, manyPaths);
  if (have('rollout-export')) {
    const dir = join(OUT, 'export-many');
    record(
      `rollout-export --format json --batch -o DIR (${threads} threads, their newest files)`,
      ...pair(
        { argv: node('rollout-export', '--format', 'json', '--batch', '-o', dir), env: env(many.dir, manyIdx), stdin: manyPaths },
        { argv: readAll(many.dir) },
        HEAVY_RUNS,
        () => {
          rmSync(dir, { recursive: true, force: true });
          mkdirSync(dir);
        },
      ),
      'read every byte (cat, zstd -dc)',
      { bytes: many.manifest.bytes },
    );
    rmSync(dir, { recursive: true, force: true });
  }
  if (have('rollout-fsck')) {
    record(
      `rollout-fsck (${many.manifest.sessions.length} sessions)`,
      ...pair({ argv: node('rollout-fsck', '-q'), env: env(many.dir, manyIdx) }, { argv: sh(`{ ${readAll(many.dir)[2]}; } | jq -c empty`) }, HEAVY_RUNS),
      'parse every line (jq empty)',
      { bytes: many.manifest.bytes },
    );
  }

  if (have('rollout-bundle')) {
    // Every file of both roots, in one tar: ours reads each file once (-o), hashing it on the way.
    const ours = join(OUT, 'bundle.tar');
    const theirs = join(OUT, 'tar-c.tar');
    record(
      `rollout-bundle --include-archived -o FILE (${many.manifest.sessions.length} sessions)`,
      ...pair(
        { argv: node('rollout-bundle', '-q', '--include-archived', '-o', ours), env: env(many.dir, manyIdx) },
        { argv: sh(`tar -cf ${q(theirs)} -C ${q(many.dir)} sessions archived_sessions`) },
        HEAVY_RUNS,
      ),
      'tar -cf of the same roots',
      { bytes: many.manifest.bytes, target: { kind: 'ratio', max: 2 } },
    );
    if (have('rollout-unbundle')) {
      // The same bundle into an empty home: checked whole, then every file written, synced and renamed.
      const into = join(OUT, 'unbundle-home');
      const untar = join(OUT, 'untar-home');
      const empty = () => {
        for (const d of [into, untar]) {
          rmSync(d, { recursive: true, force: true });
          mkdirSync(d);
        }
      };
      record(
        `rollout-unbundle FILE into an empty home (${many.manifest.sessions.length} sessions)`,
        ...pair(
          { argv: node('rollout-unbundle', '-q', ours), env: env(into, join(into, 'idx.sqlite')) },
          { argv: sh(`tar -xf ${q(theirs)} -C ${q(untar)}`) },
          HEAVY_RUNS,
          empty,
        ),
        'tar -xf of the same files',
        { bytes: many.manifest.bytes, target: { kind: 'ratio', max: 2 } },
      );
      // tar syncs nothing; every file we write is on the disk before it takes its name.
      record(
        `rollout-unbundle FILE into an empty home (${many.manifest.sessions.length} sessions), against a durable tar`,
        ...pair(
          { argv: node('rollout-unbundle', '-q', ours), env: env(into, join(into, 'idx.sqlite')) },
          { argv: sh(`tar -xf ${q(theirs)} -C ${q(untar)} && sync`) },
          HEAVY_RUNS,
          empty,
        ),
        'tar -xf of the same files, then sync',
        { bytes: many.manifest.bytes },
      );
      for (const d of [into, untar]) rmSync(d, { recursive: true, force: true });
    }
    rmSync(ours, { force: true });
    rmSync(theirs, { force: true });
  }

  if (have('rollout-slim')) slimBench(env);
  if (have('rollout-usage')) usageBench(many, manyIdx);
  if (have('rollout-feed')) feedBench(many, manyIdx, manyPaths, readAll(many.dir), statAll(many.dir));

  // How each binary's time and memory grow with the number of sessions.
  const huge = hugeHome();
  const growthHomes = [home, many, ...(huge ? [huge] : [])];
  for (const h of growthHomes) growthBench(h, statAll(h.dir));

  // Peak memory as sessions grow: it must stay flat.
  if (haveTime) {
    const rss = (what: string, label: string, cmd: Cmd) => {
      if (!rssRows.has(what)) rssRows.set(what, new Map());
      rssRows.get(what)!.set(label, once(cmd).rssMb);
    };
    for (const p of probes) {
      log(`peak memory, ${p.label} session`);
      if (wanted('rollout-cat')) {
        rss('rollout-cat', p.label, { argv: node('rollout-cat', p.path) });
        rss('rollout-cat (.zst)', p.label, { argv: node('rollout-cat', p.zstPath) });
        rss('rollout-cat --type event_msg', p.label, { argv: node('rollout-cat', '--type', 'event_msg', p.path) });
      }
      if (wanted('rollout-export')) rss('rollout-export --format md', p.label, { argv: node('rollout-export', '--format', 'md', p.path) });
      const idx = join(OUT, `index-probe.sqlite`);
      dropIndex(idx)();
      if (wanted('rollout-index')) rss('rollout-index (full build)', p.label, { argv: node('rollout-index'), env: env(p.home, idx) });
      else once({ argv: node('rollout-index'), env: env(p.home, idx) });
      if (wanted('rollout-ls')) rss('rollout-ls --search', p.label, { argv: node('rollout-ls', '--search', 'checkout'), env: env(p.home, idx) });
      if (wanted('rollout-prune')) rss('rollout-prune -n', p.label, { argv: node('rollout-prune', '-n', '-q', '--older-than', '1d'), env: env(p.home, idx) });
      if (wanted('rollout-slim')) {
        // On a copy: the probe's screenshots go, and it is a probe for the next binary as it was. The
        // index is built first (unmeasured): its own peak is the row of rollout-index.
        const copy = join(OUT, 'probe-slim');
        copyHome(p.home, copy);
        once({ argv: node('rollout-index', '-q'), env: env(copy, join(copy, 'idx.sqlite')) });
        rss('rollout-slim (index built before)', p.label, { argv: node('rollout-slim', '-q', '--grace', '0'), env: env(copy, join(copy, 'idx.sqlite')) });
        rmSync(copy, { recursive: true, force: true });
      }
      if (wanted('rollout-bundle')) {
        rss('rollout-bundle -o FILE', p.label, { argv: node('rollout-bundle', '-q', '-o', join(OUT, 'probe.tar')), env: env(p.home, idx) });
        const into = join(OUT, 'probe-unbundle');
        rmSync(into, { recursive: true, force: true });
        mkdirSync(into);
        if (wanted('rollout-unbundle'))
          rss('rollout-unbundle FILE', p.label, { argv: node('rollout-unbundle', '-q', join(OUT, 'probe.tar')), env: env(into, join(into, 'idx.sqlite')) });
        rmSync(into, { recursive: true, force: true });
      }
      rmSync(join(OUT, 'probe.tar'), { force: true });
      dropIndex(idx)();
    }
  }

  const machine = [
    `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${(totalmem() / 1024 ** 3).toFixed(0)} GB RAM`,
    `Node ${process.version}, zstd ${/v[\d.]+/.exec(version('zstd', ['--version']))?.[0] ?? '?'}, ${version('jq', ['--version'])}, zstd-napi ${zstdNapi()}`,
  ];
  const report = [
    '# Benchmark results',
    '',
    `Generated by \`make bench\` (bench/run.ts) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
    '',
    `- Machine: ${machine[0]}; load average at the start ${loadAverage}.`,
    `- Software: ${machine[1]}.`,
    `- Scale ${SCALE}: a home of ${home.manifest.sessions.length} sessions, ${(homeBytes / MB).toFixed(0)} MB (${(home.manifest.diskBytes / MB).toFixed(0)} MB on disk, ` +
      `${home.manifest.sessions.filter((s) => s.compressed).length} compressed, ${home.manifest.sessions.filter((s) => s.archived).length} archived, ` +
      `${home.manifest.sessions.filter((s) => s.fork).length} forks and reverts); a home of ${many.manifest.sessions.length} small sessions ` +
      `(${(many.manifest.bytes / MB).toFixed(0)} MB); single sessions of ${probes.map((p) => `${(p.bytes / MB).toFixed(0)} MB`).join(', ')}.`,
    `- Each figure: median of n runs (min–max), wall time from process start to exit with output to /dev/null; ` +
      `ours and the baseline alternate within the same run after one unmeasured warm-up each (files in the page cache).`,
    '',
    table(),
    '',
    ...(reclaimed.length ? [reclaimed.join('\n'), ''] : []),
    ...(usageReport.length ? [usageReport.join('\n'), ''] : []),
    ...(rssRows.size
      ? ['Peak memory (maximum resident set size from `/usr/bin/time -v`), by session size:', '', rssTable(probes.map((p) => p.label)), '']
      : []),
    ...(growth.size ? ['How time and peak memory grow with the number of sessions (one run each):', '', growthTable(growthHomes), ''] : []),
    ...(notes.length ? ['Notes:', '', ...notes.map((n) => `- ${n}`), ''] : []),
    `Bench run took ${((Date.now() - started) / 1000).toFixed(0)} s.`,
    '',
  ].join('\n');
  process.stdout.write(report);
  // A partial run never replaces the whole table.
  const file = ONLY ? 'bench/results-partial.md' : 'bench/results.md';
  writeFileSync(join(REPO, file), report);
  log(`written to ${file}`);
}

// ---------------------------------------------------------------------------------------------
// Growth: every binary once on each home, 2,000 to 10,000 to 100,000 sessions.

/**
 * One file per thread (its newest), as a list for `--batch`/`--stdin` in `file`: export -o DIR
 * names its outputs by session, and a reverted thread's two files would be one output written twice
 * (an error by design). Returns the number of threads.
 */
function threadPaths(h: { dir: string; manifest: HomeManifest }, file: string): number {
  const byThread = new Map<string, string>();
  for (const s of [...h.manifest.sessions].sort((a, b) => (a.path < b.path ? -1 : 1))) byThread.set(s.id, join(h.dir, s.path));
  writeFileSync(file, [...byThread.values()].map((p) => p + '\n').join(''));
  return byThread.size;
}

/** Per command, per home (by its number of sessions): one run's time and peak memory. */
const growth = new Map<string, Map<number, Sample | string>>();

function growthBench(h: { dir: string; manifest: HomeManifest }, statWalk: string[]): void {
  const n = h.manifest.sessions.length;
  log(`growth: ${n} sessions`);
  const idx = join(OUT, `index-growth-${n}.sqlite`);
  const scratch = join(OUT, `growth-${n}`);
  const paths = join(OUT, `growth-${n}-paths.txt`);
  threadPaths(h, paths);
  const env = { CODEX_HOME: h.dir, ROLLOUT_INDEX: idx, TZ: 'UTC' };
  const mid = h.manifest.sessions[Math.floor(n / 2)].id;
  const fresh = () => {
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(scratch, { recursive: true });
  };
  const measure = (what: string, cmd: Cmd, before?: () => void) => {
    if (!growth.has(what)) growth.set(what, new Map());
    try {
      before?.();
      growth.get(what)!.set(n, once(cmd));
    } catch (err) {
      growth.get(what)!.set(n, (err as Error).message.split('\n')[0].slice(0, 80));
    }
  };
  const asked = (b: string) => existsSync(BIN(b)) && (!ONLY || ONLY.has(b) || ONLY.has('growth'));
  const bin = (b: string, what: string, args: string[], extra: Partial<Cmd> = {}, before?: () => void) => {
    if (asked(b)) measure(what, { argv: node(b, ...args), env, ...extra }, before);
  };
  measure('stat walk (find -printf), the floor', { argv: statWalk });
  for (const f of [idx, `${idx}-wal`, `${idx}-shm`]) rmSync(f, { force: true });
  bin('rollout-index', 'rollout-index, first build', ['-q']);
  bin('rollout-index', 'rollout-index, nothing changed', ['-q']);
  // A home in use: one session grew, as Codex appends to the one it is writing. The file is put back
  // as it was (and the index brought back to it, unmeasured) for the rows after.
  const grown = h.manifest.sessions.find((s) => !s.compressed && !s.archived && s.path.endsWith('.jsonl'));
  if (grown && asked('rollout-index')) {
    const path = join(h.dir, grown.path);
    const st = statSync(path);
    bin('rollout-index', 'rollout-index, one session appended to', ['-q'], {}, () =>
      appendFileSync(path, '{"timestamp":"2026-12-01T00:00:00.000Z","type":"event_msg","payload":{"type":"task_started"}}\n'),
    );
    truncateSync(path, st.size);
    utimesSync(path, st.atime, st.mtime);
    const again = node('rollout-index', '-q');
    spawnSync(again[0], again.slice(1), { env: { ...process.env, ...env }, stdio: 'ignore' });
  }
  bin('rollout-ls', 'rollout-ls --limit 25', ['--limit', '25']);
  bin('rollout-ls', `rollout-ls --search ${RARE_TERM}`, ['--search', RARE_TERM]);
  bin('rollout-cat', 'rollout-cat <id>', [mid]);
  bin('rollout-fork', 'rollout-fork -n <id>', ['-n', mid]);
  bin('rollout-name', 'rollout-name -n <id> NAME', ['-n', mid, 'growth bench']);
  bin('rollout-prune', 'rollout-prune -n --older-than 30d', ['-n', '-q', '--older-than', '30d']);
  bin('rollout-prune', 'rollout-prune -n --older-than 30d --keep-last 5', ['-n', '-q', '--older-than', '30d', '--keep-last', '5']);
  bin('rollout-fsck', 'rollout-fsck', ['-q']);
  bin('rollout-du', 'rollout-du --include-archived', ['--include-archived']);
  bin('rollout-usage', 'rollout-usage --by day', ['--by', 'day', '--json', '-q']);
  bin('rollout-slim', 'rollout-slim -n', ['-n', '-q', '--grace', '0']);
  bin('rollout-feed', 'rollout-feed (every record)', ['-q']);
  bin('rollout-export', 'rollout-export --batch --format json -o DIR', ['--format', 'json', '--batch', '-q', '-o', scratch], { stdin: paths }, fresh);
  const bundle = join(OUT, `growth-${n}.tar`);
  bin('rollout-bundle', 'rollout-bundle --include-archived -o FILE', ['-q', '--include-archived', '-o', bundle]);
  if (existsSync(bundle) && asked('rollout-unbundle'))
    measure(
      'rollout-unbundle FILE into an empty home',
      { argv: node('rollout-unbundle', '-q', bundle), env: { CODEX_HOME: scratch, ROLLOUT_INDEX: join(scratch, 'idx.sqlite') } },
      fresh,
    );
  rmSync(bundle, { force: true });
  rmSync(scratch, { recursive: true, force: true });
  rmSync(paths, { force: true });
}

function growthTable(homes: Array<{ manifest: HomeManifest }>): string {
  const counts = homes.map((h) => h.manifest.sessions.length);
  const head = homes.map((h) => `${h.manifest.sessions.length.toLocaleString('en')} sessions (${(h.manifest.bytes / MB).toFixed(0)} MB)`);
  const out = [`| Command | ${head.join(' | ')} | peak RSS < 100 MB |`, `|---|${counts.map(() => '---|').join('')}---|`];
  const floor = growth.get('stat walk (find -printf), the floor');
  for (const [what, byCount] of growth) {
    const cells = counts.map((c) => {
      const v = byCount.get(c);
      if (v === undefined) return '';
      if (typeof v === 'string') return `failed: ${v.replace(/\|/g, '\\|')}`;
      const f = floor?.get(c);
      // What answers from the index is held to the stat walk it cannot avoid.
      const vsFloor = /nothing changed|appended|--limit|--search/.test(what) && f && typeof f !== 'string' ? ` (${(v.ms / f.ms).toFixed(1)}x the walk)` : '';
      return `${fmtMs(v.ms)}${vsFloor}, ${v.rssMb === null ? '?' : v.rssMb.toFixed(0)} MB`;
    });
    const rss = [...byCount.values()].filter((v): v is Sample => typeof v !== 'string').map((v) => v.rssMb ?? 0);
    out.push(`| ${what} | ${cells.join(' | ')} | ${what.startsWith('stat walk') ? '' : rss.every((v) => v < 100) ? 'yes' : '**no**'} |`);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// rollout-slim: a home of screenshots, copied afresh for every run (slimming changes it).

/** Lines of the "bytes reclaimed" table, when slim was measured. */
const reclaimed: string[] = [];

/** A copy of a home's roots, mtimes kept (so nothing is within --grace), its index left behind. */
function copyHome(from: string, to: string): void {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  for (const root of ['sessions', 'archived_sessions'])
    if (existsSync(join(from, root))) {
      const r = spawnSync('cp', ['-a', join(from, root), join(to, root)]);
      if (r.status !== 0) throw new Error(`cp -a ${from}/${root}: ${r.stderr.toString()}`);
    }
}

/** Bytes below a folder, as `du -sb` counts them (the index files left out). */
function bytesUnder(dir: string, ...parts: string[]): number {
  const paths = parts.map((p) => join(dir, p)).filter((p) => existsSync(p));
  if (!paths.length) return 0;
  return Number(
    spawnSync('du', ['-sb', '-c', ...paths])
      .stdout.toString()
      .trim()
      .split('\n')
      .pop()!
      .split('\t')[0],
  );
}

function slimBench(env: (dir: string, idx: string) => Record<string, string>): void {
  const src = join(OUT, `screenshots-x${SCALE}`);
  const built = cached<ScreenshotsManifest>(src, { v: SCREENSHOTS_VERSION, scale: SCALE }, () => {
    log(`generating a home of screenshots (scale ${SCALE}) in ${src}`);
    return generateScreenshots(src, SCALE);
  });
  const m = built.value;
  const work = join(OUT, 'screenshots-work');
  const idx = join(work, 'idx.sqlite');
  const fresh = () => {
    copyHome(src, work);
    once({ argv: node('rollout-index'), env: env(work, idx) });
  };
  const label = `${m.sessions} sessions and ${m.subagents} subagents, ${(m.bytes / MB).toFixed(0)} MB, ${m.copies} copies of ${m.pictures} screenshots`;
  // The index is built before each run (unmeasured): what is timed is the slimming alone.
  record(
    `rollout-slim (${label})`,
    ...pair(
      { argv: node('rollout-slim', '-q', '--grace', '0'), env: env(work, idx) },
      { argv: sh(`cat $(find ${q(work)}/sessions -type f) > /dev/null`) },
      HEAVY_RUNS,
      fresh,
    ),
    'cat of the same files',
    { bytes: m.bytes, target: { kind: 'mbps', min: 200 } },
  );
  // What each way of saving space leaves, as a share of the original: slim alone, compression alone, both.
  const size = () => bytesUnder(work, 'sessions', 'archived_sessions', 'rollout-objects');
  const prune = () => once({ argv: node('rollout-prune', '-q', '--grace', '0', '--compress', '--older-than', '1d'), env: env(work, idx) });
  const slim = () => once({ argv: node('rollout-slim', '-q', '--grace', '0'), env: env(work, idx) });
  fresh();
  const original = size();
  const ways: Array<[string, Array<() => unknown>]> = [
    ['rollout-slim', [slim]],
    ['rollout-prune --compress', [prune]],
    ['rollout-slim, then rollout-prune --compress', [slim, prune]],
  ];
  reclaimed.push(`Disk reclaimed on the home of screenshots (${label}; ${(original / MB).toFixed(0)} MB on disk):`, '');
  reclaimed.push('| | on disk after (store included) | share of the original | reclaimed |', '|---|---|---|---|');
  for (const [what, steps] of ways) {
    fresh();
    for (const step of steps) step();
    const after = size();
    reclaimed.push(
      `| ${what} | ${(after / MB).toFixed(1)} MB | ${((100 * after) / original).toFixed(1)}% | ${(((original - after) / original) * 100).toFixed(1)}% |`,
    );
    log(`${what}: ${(original / MB).toFixed(0)} MB to ${(after / MB).toFixed(1)} MB`);
  }
  rmSync(work, { recursive: true, force: true });
}

function zstdNapi(): string {
  try {
    return JSON.parse(readFileSync(join(REPO, 'node_modules/zstd-napi/package.json'), 'utf8')).version;
  } catch {
    return 'not installed (fzstd used)';
  }
}

/**
 * NODE_EXTRA_CA_CERTS makes Node parse that certificate bundle at every start-up, before any of our
 * code runs: with a whole system bundle that is tens of milliseconds per process, more than the rest
 * of a listing's start-up. rollout makes no TLS connection, so it is measured once, reported, and
 * unset for every command measured after.
 */
function unsetExtraCaCerts(): void {
  const bundle = process.env.NODE_EXTRA_CA_CERTS;
  if (!bundle) return;
  const start = { argv: [process.execPath, '-e', '0'] };
  const [without, withIt] = pair({ ...start, env: { NODE_EXTRA_CA_CERTS: '' } }, start, RUNS);
  delete process.env.NODE_EXTRA_CA_CERTS;
  notes.push(
    `This machine sets NODE_EXTRA_CA_CERTS=${bundle}, which Node parses at every start-up: \`node -e 0\` takes ` +
      `${fmtMs(withIt!.median)} with it and ${fmtMs(without.median)} without. It is unset for every command measured ` +
      `(ours, the baselines and Codex); with it, each rollout figure would be ${fmtMs(withIt!.median - without.median)} longer.`,
  );
}

// ---------------------------------------------------------------------------------------------
// rollout-usage against ccusage, on the home of many sessions (forks, reverts, subagents, copies
// in both roots, compressed files): both totals, the generator's own count of every response,
// and where ccusage's count parts from it, session by session.

const CCUSAGE = '20.0.24';
/** Lines of the usage comparison, when it was measured. */
const usageReport: string[] = [];

/** ccusage, installed into the bench's folder (not the package's dependencies); null with a note when it cannot be. */
function ccusageBin(): string | null {
  const dir = join(OUT, `ccusage-${CCUSAGE}`);
  const bin = join(dir, 'node_modules/.bin/ccusage');
  if (!existsSync(bin)) {
    log(`installing ccusage ${CCUSAGE} into ${dir}`);
    // From inside its own folder: run from the repository, npm took the repository's package for its project.
    mkdirSync(dir, { recursive: true });
    const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', '.', `ccusage@${CCUSAGE}`], {
      cwd: dir,
      env: GIVEN_ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: 5 * 60_000,
    });
    if (r.status !== 0 || !existsSync(bin)) {
      notes.push(
        `ccusage ${CCUSAGE} could not be installed (npm said: ${(r.stderr || r.stdout || '').trim().split('\n').pop()}): rollout-usage was measured alone.`,
      );
      return null;
    }
  }
  return bin;
}

function usageBench(many: { dir: string; manifest: HomeManifest }, idx: string): void {
  const env = { CODEX_HOME: many.dir, ROLLOUT_INDEX: idx, TZ: 'UTC' };
  const ours: Cmd = { argv: node('rollout-usage', '--by', 'day', '--json', '-q'), env };
  const cc = ccusageBin();
  const theirs: Cmd | null = cc ? { argv: [cc, 'codex', 'daily', '--offline', '--json'], env } : null;
  const n = many.manifest.sessions.length;
  record(`rollout-usage --by day (${n} sessions)`, ...pair(ours, theirs, HEAVY_RUNS), cc ? `ccusage ${CCUSAGE} codex daily --offline --json` : 'none', {
    // "10,000 sessions take well under a second."
    target: { kind: 'ms', max: 1000 },
  });
  const json = (cmd: Cmd, ...more: string[]): any => {
    const r = spawnSync(cmd.argv[0], [...cmd.argv.slice(1), ...more], { env: { ...process.env, ...cmd.env }, encoding: 'utf8', maxBuffer: 256 * MB });
    if (r.status !== 0) throw new Error(`${cmd.argv.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
    return r.stdout;
  };
  const total = JSON.parse(String(json(ours)).trim().split('\n').pop()!);
  const truth = { responses: 0, tokens: 0 };
  for (const s of many.manifest.sessions) {
    truth.responses += s.usage?.responses ?? 0;
    truth.tokens += s.usage ? s.usage.input + s.usage.output : 0;
  }
  const fmt = (x: number) => x.toLocaleString('en-US');
  usageReport.push(
    `Token usage of the ${n}-session home (TZ=UTC), total tokens (input, cached input included, plus output):`,
    '',
    '| Counted by | Responses | Total tokens | Cost |',
    '|---|---|---|---|',
    `| the generator, as it wrote each response | ${fmt(truth.responses)} | ${fmt(truth.tokens)} | |`,
    `| rollout-usage | ${fmt(total.responses)} | ${fmt(total.total_tokens)} | ${total.cost_usd === null ? 'null' : `$${total.cost_usd.toFixed(2)}`} |`,
  );
  if (total.total_tokens !== truth.tokens || total.responses !== truth.responses)
    notes.push(`rollout-usage counted ${fmt(total.total_tokens)} tokens where the generator wrote ${fmt(truth.tokens)}: a bug to look into.`);
  if (!theirs) return;
  const daily = JSON.parse(json(theirs)).totals;
  usageReport.push(`| ccusage ${CCUSAGE} | | ${fmt(daily.totalTokens)} | $${daily.costUSD.toFixed(2)} |`, '');
  // Where ccusage parts from the generator's count, by the kind of session (it lists each file as a session).
  const sessions: Array<{ sessionFile?: string; sessionId: string; totalTokens: number }> = JSON.parse(
    json({ ...theirs, argv: [cc!, 'codex', 'session', '--offline', '--json'] }),
  ).sessions;
  const byFile = new Map(
    sessions.map((x) => [
      `${x.sessionFile ?? x.sessionId}`
        .replace(/\.jsonl$/, '')
        .split('/')
        .pop()!,
      x.totalTokens,
    ]),
  );
  const kinds = new Map<string, { sessions: number; truth: number; theirs: number }>();
  for (const s of many.manifest.sessions) {
    if (!s.usage) continue;
    const kind = s.compressed
      ? 'compressed (.jsonl.zst)'
      : s.fork
        ? { copy: 'legacy fork (copied history)', ref: 'referenced fork', revert: 'revert (second file of a thread)', subagent: 'subagent (copied history)' }[
            s.fork.mode
          ]
        : 'other';
    const k = kinds.get(kind) ?? { sessions: 0, truth: 0, theirs: 0 };
    k.sessions++;
    k.truth += s.usage.input + s.usage.output;
    k.theirs +=
      byFile.get(
        s.path
          .split('/')
          .pop()!
          .replace(/\.jsonl(\.zst)?$/, ''),
      ) ?? 0;
    kinds.set(kind, k);
  }
  usageReport.push(
    `Where ccusage's total parts from the generator's, by kind of session (the generator's own count of each session's responses against the tokens ccusage gives its file):`,
    '',
    '| Sessions | Count | Generator | ccusage | Difference |',
    '|---|---|---|---|---|',
    ...[...kinds]
      .sort((a, b) => Math.abs(b[1].theirs - b[1].truth) - Math.abs(a[1].theirs - a[1].truth))
      .map(
        ([kind, k]) =>
          `| ${kind} | ${k.sessions} | ${fmt(k.truth)} | ${fmt(k.theirs)} | ${k.theirs === k.truth ? '0' : `${k.theirs > k.truth ? '+' : ''}${fmt(k.theirs - k.truth)}`} |`,
      ),
  );
}

/**
 * rollout-feed on the 10,000-session home: every record, against rollout-export --batch --format
 * ndjson over the same sessions; a run with a checkpoint and nothing new, against the stat walk it
 * cannot avoid; and a run after a turn was appended to 1% of the sessions.
 */
function feedBench(many: { dir: string; manifest: HomeManifest }, idx: string, paths: string, readAll: string[], statAll: string[]): void {
  const env = { CODEX_HOME: many.dir, ROLLOUT_INDEX: idx };
  const n = many.manifest.sessions.length;
  record(
    `rollout-feed, every record (${n} sessions)`,
    ...pair({ argv: node('rollout-feed', '-q'), env }, { argv: node('rollout-export', '--batch', '--format', 'ndjson', '-q'), env, stdin: paths }, HEAVY_RUNS),
    'rollout-export --batch --format ndjson of the same sessions',
    { bytes: many.manifest.bytes },
  );
  record(
    `rollout-feed, every record (${n} sessions), against reading every byte`,
    ...pair({ argv: node('rollout-feed', '-q'), env }, { argv: readAll }, HEAVY_RUNS),
    'read every byte (cat, zstd -dc)',
    {
      bytes: many.manifest.bytes,
    },
  );
  const ck = join(OUT, 'feed.ck');
  for (const f of [ck, `${ck}-wal`, `${ck}-shm`]) rmSync(f, { force: true });
  once({ argv: node('rollout-feed', '-q', '--checkpoint', ck), env });
  record(
    `rollout-feed --checkpoint, nothing new (${n} sessions)`,
    ...pair({ argv: node('rollout-feed', '-q', '--checkpoint', ck), env }, { argv: statAll }, RUNS),
    'find -printf (stat every file)',
    { target: { kind: 'ms', max: 200 } },
  );
  // A run after a turn was appended to 1% of the sessions (the files grow from run to run, as
  // Codex grows them; the index and the checkpoint read only what is new).
  const plain = many.manifest.sessions.filter((s) => !s.compressed && !s.archived && (s.kind === 'D' || s.kind === 'E'));
  const touched = plain.filter((_, i) => i % Math.max(1, Math.floor(plain.length / (n / 100))) === 0).slice(0, Math.round(n / 100));
  let round = 0;
  try {
    record(
      `rollout-feed --checkpoint after a turn was appended to 1% of sessions (${touched.length})`,
      ...pair({ argv: node('rollout-feed', '-q', '--checkpoint', ck), env }, { argv: statAll }, RUNS, () => {
        round++;
        for (const s of touched) appendTurn(join(many.dir, s.path), s, round);
      }),
      'find -printf (stat every file)',
    );
  } finally {
    restore(many.dir, many.manifest);
    once({ argv: node('rollout-index', '-q'), env });
    for (const f of [ck, `${ck}-wal`, `${ck}-shm`]) rmSync(f, { force: true });
  }
}

const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

main().catch((err) => {
  process.stderr.write(`bench: error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

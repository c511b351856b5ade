// One selection language: for any filters F, `rollout-prune F -n` chooses exactly the sessions that
// `rollout-ls F` lists, and `rollout-ls F | rollout-prune --stdin -n` chooses them too. Filter sets
// are drawn at random (a seeded generator: a failure names its seed) over a home that has a bit of
// everything the filters look at.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ndjson, run, tmpDir, writeSession, type SessionSpec, type WriteOptions } from './helpers/fixtures.js';
import { DAY, MINUTE } from './helpers/prune.js';

/** mulberry32: small, seeded, good enough to draw test cases. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const CWDS = ['/w/shop', '/w/shop/api', '/w/shopping', '/w/blog', '/srv/x'];
const SOURCES: unknown[] = [
  'cli',
  'exec',
  'vscode',
  'mcp',
  { subagent: 'review' },
  { subagent: { thread_spawn: { parent_thread_id: '00000000-0000-7000-8000-000000000000', depth: 1 } } },
];
const PROVIDERS = ['openai', 'local'];
const MODELS = ['gpt-5', 'gpt-5-codex'];
const WORDS = ['postgres', 'migration', 'widget', 'flaky', 'deploy'];
const NAMES = ['release notes', 'spike'];

/** A home of `n` sessions with every property a filter reads drawn at random. */
function home(rand: () => number, n: number): { dir: string; ids: string[] } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const dir = tmpDir(t);
  const ids: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const ago = Math.floor(rand() * 120) * DAY + 20 * MINUTE;
    const at = new Date(Date.now() - ago);
    const spec: SessionSpec = {
      start: new Date(at.getTime() - MINUTE - i * 1000),
      cwd: pick(CWDS),
      source: pick(SOURCES),
      provider: pick(PROVIDERS),
      model: pick(MODELS),
      turns: [{ user: `${pick(WORDS)} ${pick(WORDS)} ${'x'.repeat(Math.floor(rand() * 4000))}` }],
      meta: ids.length && rand() < 0.2 ? { forked_from_id: pick(ids) } : {},
    };
    const opts: WriteOptions = { mtime: at, root: rand() < 0.3 ? 'archived_sessions' : 'sessions', zst: rand() < 0.15 ? 'only' : false };
    const s = writeSession(dir, spec, opts);
    ids.push(s.id);
    if (rand() < 0.25) names.push(JSON.stringify({ id: s.id, thread_name: pick(NAMES), updated_at: '2026-01-01T00:00:00Z' }));
  }
  writeFileSync(join(dir, 'session_index.jsonl'), names.map((l) => l + '\n').join(''));
  return { dir, ids };
}

/** A random filter set: a few flags, each with a value drawn from what the home holds. */
function filters(rand: () => number, ids: string[]): string[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const kinds: Array<() => string[]> = [
    () => ['--cwd', pick(['/w/shop', '/w', '/w/shop/api', '/srv'])],
    () => [pick(['--active', '--archived', '--include-archived'])], // SCOPE
    () => ['--older-than', `${Math.floor(rand() * 100)}d`],
    () => ['--since', `${Math.floor(rand() * 100) + 1}d`],
    () => ['--until', `${Math.floor(rand() * 100)}d`],
    () => ['--model', pick(MODELS)],
    () => ['--provider', pick(PROVIDERS)],
    () => ['--source', pick(['cli', 'exec', 'vscode', 'subagent', 'subagent:review', 'subagent:thread_spawn'])],
    () => ['--name', pick(NAMES)],
    () => ['--unnamed'],
    () => ['--forked-from', pick(ids).slice(0, 13)],
    () => ['--min-size', `${Math.floor(rand() * 6)}k`],
    () => ['--keep-last', String(Math.floor(rand() * 3))],
    () => ['--search', pick(WORDS)],
  ];
  const out: string[] = [];
  const used = new Set<number>();
  const count = 1 + Math.floor(rand() * 3);
  // A scope alone (--archived, ...) narrows nothing, and prune rightly refuses to act on a whole root.
  const SCOPE = 1;
  while (used.size < count || (used.size === 1 && used.has(SCOPE))) {
    const k = Math.floor(rand() * kinds.length);
    if (used.has(k)) continue;
    const flags = kinds[k]();
    // Two root flags, or --name with --unnamed, are usage errors, not selections.
    if (flags[0] === '--unnamed' && out.includes('--name')) continue;
    if (flags[0] === '--name' && out.includes('--unnamed')) continue;
    used.add(k);
    out.push(...flags);
  }
  return out;
}

t.setTimeout(900_000);

const env = { ROLLOUT_INDEX: '' };
const idsOf = (text: string) =>
  ndjson(text)
    .map((l) => l.id as string)
    .sort();

t.test('rollout-ls F | rollout-prune --stdin -n  ==  rollout-prune F -n  ==  rollout-ls F', async (t) => {
  const seed = Number(process.env.SELECTION_SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (SELECTION_SEED=${seed} to draw the same cases again)`);
  const rand = random(seed);
  const h = home(rand, 40);
  const codexHome = ['--codex-home', h.dir];
  for (let i = 0; i < 25; i++) {
    const f = filters(rand, h.ids);
    const ls = run('rollout-ls', [...f, '--json', ...codexHome], { env });
    t.equal(ls.code, 0, `rollout-ls ${f.join(' ')}: ${ls.err}`);
    const listed = idsOf(ls.out);
    const direct = run('rollout-prune', [...f, '-n', '--grace', '0', ...codexHome], { env });
    t.equal(direct.code, 0, `rollout-prune ${f.join(' ')}: ${direct.err}`);
    const piped = run('rollout-prune', ['--stdin', '-n', '--grace', '0', ...codexHome], { input: ls.out, env });
    t.equal(piped.code, 0, `rollout-prune --stdin: ${piped.err}`);
    t.same(idsOf(direct.out), listed, `seed ${seed}, F = ${f.join(' ')}: prune chooses what ls lists (${listed.length})`);
    t.same(idsOf(piped.out), listed, `seed ${seed}, F = ${f.join(' ')}: and so does ls | prune --stdin`);
  }
});

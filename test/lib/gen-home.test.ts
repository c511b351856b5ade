// The benchmark's synthetic home must be a home the toolkit reads as a real one: every file
// decodes through rollout-cat, ids agree with names, forks' history_base offsets land on line
// boundaries with contiguous ordinals, names reach session_index.jsonl, and it is reproducible.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import t from 'tap';
import { generateHome, generateProbe, sizeSpread, RARE_TERM, type HomeManifest, type SessionInfo } from '../../bench/gen-home.js';
import { parseRolloutName } from '../../lib/home/paths.js';
import { run, tmpDir } from '../helpers/fixtures.js';

const MB = 1 << 20;
const dir = tmpDir(t, 'rollout-gen-');
const home = join(dir, 'home');
const manifest: HomeManifest = generateHome({ dir: home, sessions: 30, bytes: 10 * MB, maxSession: 3 * MB, seed: 3 });
const byId = new Map(manifest.sessions.filter((s) => s.fork?.mode !== 'revert').map((s) => [s.id, s]));

/** The decompressed bytes of a session file, by the real zstd for `.zst`. */
function raw(s: SessionInfo): Buffer {
  const path = join(home, s.path);
  if (!s.compressed) return readFileSync(path);
  const r = spawnSync('zstd', ['-dc', path], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`zstd -dc ${path}: ${r.stderr.toString()}`);
  return r.stdout;
}

const cat = (...args: string[]) => run('rollout-cat', ['--codex-home', home, ...args]);
const jsonLines = (b: Buffer) =>
  b
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

t.test('the home has what the benchmark needs', async (t) => {
  const kinds = new Set(manifest.sessions.map((s) => s.kind));
  t.strictSame([...kinds].sort(), ['0', 'A', 'B', 'C', 'D', 'E'], 'every generation');
  for (const mode of ['copy', 'ref', 'revert', 'subagent'])
    t.ok(
      manifest.sessions.some((s) => s.fork?.mode === mode),
      `a ${mode} fork`,
    );
  t.ok(
    manifest.sessions.some((s) => s.compressed),
    'compressed sessions',
  );
  t.ok(
    manifest.sessions.some((s) => s.archived),
    'archived sessions',
  );
  t.ok(
    manifest.sessions.some((s) => s.name),
    'named sessions',
  );
  t.equal(manifest.search.rareIds.length, 3, 'three sessions hold the rare search term');
  const files = [...walk(join(home, 'sessions')), ...walk(join(home, 'archived_sessions'))];
  t.equal(files.length, manifest.sessions.length, 'one file per session, nothing else in the roots');
  const total = manifest.sessions.reduce((a, s) => a + s.bytes, 0);
  t.equal(total, manifest.bytes);
  t.ok(total > 8 * MB && total < 14 * MB, `about the bytes asked for (${total})`);
});

t.test('rollout-cat reads every file back byte for byte, ids matching names', async (t) => {
  for (const s of manifest.sessions) {
    const r = cat(join(home, s.path));
    t.equal(r.code, 0, `${s.path} exits 0`);
    t.equal(r.err, '', `${s.path}: no warnings`);
    const name = parseRolloutName(basename(s.path));
    t.equal(name?.threadId, s.id, `${s.path}: the name holds the thread id`);
    t.equal(name?.rolloutId, s.rolloutId);
    if (s.kind === '0') {
      const doc = JSON.parse(r.out);
      t.equal(doc.session.id, s.id, 'gen 0: one document, its session id');
      continue;
    }
    t.ok(r.stdout.equals(raw(s)), `${s.path}: same bytes as the file (decompressed)`);
    const lines = jsonLines(r.stdout);
    t.equal(lines.length, s.lines, `${s.path}: ${s.lines} lines, all JSON`);
    if (s.kind === 'D' || s.kind === 'E') {
      t.equal(lines[0].type, 'session_meta');
      t.equal(lines[0].payload.id, s.id, 'first session_meta id = thread id');
      t.equal(lines[0].payload.cwd, s.cwd);
      t.equal(lines.filter((l) => l.type === 'event_msg' && l.payload.type === 'task_complete').length, s.turns, 'turn count');
    } else {
      t.equal(lines[0].id, s.id, 'bare meta id = thread id');
    }
    if (s.kind === 'E') {
      const first = s.fork?.mode === 'ref' || s.fork?.mode === 'revert' ? s.fork.endOrdinal! : 0;
      t.ok(
        lines.every((l, i) => l.ordinal === first + i),
        `${s.path}: ordinals contiguous from ${first}`,
      );
    }
  }
});

t.test('referenced forks and reverts: --full is the parent prefix, then their own lines', async (t) => {
  const refs = manifest.sessions.filter((s) => s.fork?.mode === 'ref' || s.fork?.mode === 'revert');
  t.ok(refs.length >= 2);
  for (const s of refs) {
    const parent = byId.get(s.fork!.parentId)!;
    const prefix = raw(parent).subarray(0, s.fork!.endByteOffset);
    t.equal(prefix[prefix.length - 1], 0x0a, 'end_byte_offset falls just after a newline');
    const r = cat('--full', join(home, s.path));
    t.equal(r.code, 0);
    t.ok(r.stdout.equals(Buffer.concat([prefix, raw(s)])), `${s.path}: parent prefix + own lines`);
    const ordinals = jsonLines(r.stdout).map((l) => l.ordinal);
    t.ok(
      ordinals.every((o, i) => o === i),
      'ordinals run on from the parent without a gap',
    );
    const meta = jsonLines(raw(s))[0].payload;
    t.equal(meta.history_base.end_ordinal_exclusive, s.fork!.endOrdinal);
    if (s.fork!.mode === 'revert') t.equal(meta.id, parent.id, 'a revert keeps its thread id');
    else t.equal(meta.forked_from_id, parent.id);
  }
});

t.test("subagents: their parent's records after its session_meta, then their own, ordinals running on", async (t) => {
  for (const s of manifest.sessions.filter((x) => x.fork?.mode === 'subagent')) {
    const own = jsonLines(raw(s));
    const parent = jsonLines(raw(byId.get(s.fork!.parentId)!));
    const meta = own[0].payload;
    const from = meta.subagent_history_start_ordinal as number;
    t.equal(meta.source.subagent.thread_spawn.parent_thread_id, s.fork!.parentId);
    t.ok(from > 1, 'some history is copied');
    t.same(own.slice(1, from), parent.slice(1, from), 'the copy is the parent from its second line');
    t.equal(own[from - 1].payload.type, 'task_complete', 'the copy ends on a turn boundary');
    t.ok(own.length > from, 'and the subagent has lines of its own');
  }
});

t.test('each envelope session knows what its own responses used; the 2025 generations recorded nothing', async (t) => {
  for (const s of manifest.sessions) {
    if (s.kind === 'D' || s.kind === 'E') t.ok(s.usage && s.usage.responses > 0 && s.usage.input > s.usage.cached, `${s.path}: usage`);
    else t.equal(s.usage, undefined, `${s.path}: no usage`);
  }
});

t.test('copied legacy forks carry a whole-turn prefix of their parent', async (t) => {
  for (const s of manifest.sessions.filter((x) => x.fork?.mode === 'copy')) {
    const own = raw(s);
    const parent = raw(byId.get(s.fork!.parentId)!);
    const firstNl = own.indexOf(0x0a) + 1;
    const meta = JSON.parse(own.subarray(0, firstNl - 1).toString());
    t.equal(meta.payload.forked_from_id, s.fork!.parentId);
    const copied = jsonLines(own.subarray(firstNl));
    t.equal(copied[0].payload.id, s.fork!.parentId, "the parent's session_meta comes second");
    t.equal(
      copied.findIndex((l, i) => i > 0 && l.type === 'session_meta'),
      -1,
      'no third session_meta',
    );
    // The longest common run of whole lines is the copy; it ends on a turn boundary.
    let same = 0;
    while (firstNl + same < own.length && same < parent.length && own[firstNl + same] === parent[same]) same++;
    const copy = parent.subarray(0, parent.lastIndexOf(0x0a, same - 1) + 1);
    t.ok(copy.length > 0, 'a non-empty prefix is copied');
    const last = jsonLines(copy).pop();
    t.equal(last.payload.type, 'task_complete', 'the copy ends on a turn boundary');
  }
});

t.test('names: the newest session_index.jsonl entry per id is the manifest name', async (t) => {
  const newest = new Map<string, string>();
  for (const l of jsonLines(readFileSync(join(home, 'session_index.jsonl')))) newest.set(l.id, l.thread_name);
  const named = manifest.sessions.filter((s) => s.name);
  t.equal(newest.size, named.length);
  for (const s of named) t.equal(newest.get(s.id), s.name);
});

t.test('the rare search term is in exactly the sessions the manifest says', async (t) => {
  const hits = manifest.sessions.filter((s) => raw(s).includes(RARE_TERM)).map((s) => s.id);
  // A fork that inherits a hit carries it too; the hit sessions themselves always do.
  for (const id of manifest.search.rareIds) t.ok(hits.includes(id), `${id} mentions ${RARE_TERM}`);
});

t.test('same seed, same bytes', async (t) => {
  const again = join(dir, 'again');
  generateHome({ dir: again, sessions: 30, bytes: 10 * MB, maxSession: 3 * MB, seed: 3 });
  t.equal(digest(again), digest(home));
});

t.test('a probe is one session of about the size asked for, alone in its home, with screenshots', async (t) => {
  const probe = generateProbe(join(dir, 'probe'), 25 * MB);
  t.ok(probe.bytes >= 25 * MB && probe.bytes < 26 * MB, `${probe.bytes} bytes`);
  t.strictSame([...walk(join(dir, 'probe'))], [probe.abs]);
  const r = cat(probe.abs);
  t.equal(r.code, 0);
  t.equal(r.stdout.length, probe.bytes);
  const images = r.out.split('\n').filter((l) => l.includes('"data:image/png;base64,'));
  t.ok(images.length > 0, `${images.length} lines with a screenshot`);
  t.ok(
    images.every((l) => l.length > 600 * 1024),
    'each screenshot line is about a megabyte',
  );
});

t.test('sizes are log-normal, clamped, and add up', async (t) => {
  const sizes = sizeSpread(2000, 2048 * MB, 5 * 1024, 400 * MB);
  const sum = sizes.reduce((a, b) => a + b, 0);
  t.ok(Math.abs(sum - 2048 * MB) / (2048 * MB) < 0.01, 'total within 1%');
  t.ok(Math.min(...sizes) >= 5 * 1024);
  t.ok(Math.max(...sizes) > 100 * MB, 'a tail of sessions past 100 MB');
  const sorted = [...sizes].sort((a, b) => a - b);
  t.ok(sorted[1000] < 300 * 1024, 'the median session is small');
});

function* walk(d: string): Generator<string> {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    if (e.isDirectory()) yield* walk(join(d, e.name));
    else yield join(d, e.name);
  }
}

function digest(root: string): string {
  const h = createHash('sha256');
  for (const f of [...walk(root)].sort()) {
    h.update(f.slice(root.length));
    h.update(readFileSync(f));
    h.update(String(statSync(f).mtimeMs));
  }
  return h.digest('hex');
}

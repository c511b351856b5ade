// rollout-slim as a subprocess, on homes of every generation that holds inline images: what it takes
// out, where the blobs go, that --restore gives back the very bytes, and that it keeps every safety
// rule of rollout-prune. Expected bytes are never written down: they are the files as they were.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  bareLines,
  ndjson,
  QUICK_START,
  REPO,
  run,
  sessionLines,
  tmpDir,
  uuidv7,
  writeRaw,
  writeReferencedFork,
  writeSession,
  zstd,
  type SessionSpec,
  type WriteOptions,
} from './helpers/fixtures.js';
import { place, FORMS } from './helpers/forms.js';
import { dirFor, fileName } from './helpers/generations.js';
import { attach, screenshot } from './helpers/images.js';
import { holdWriterLock, tree } from './helpers/prune.js';

t.setTimeout(300_000);

const DAY = 86_400_000;
const OLD = new Date(Date.now() - 3 * DAY);
const SHOT = screenshot(60_000, 'login page');
const CHART = screenshot(30_000, 'chart');
const SAID = 'What is wrong on this page?';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
/** The object an image's data URL becomes: the string as it stood between the quotes. */
const objectOf = (url: string) => sha(url);
/** Every rollout file below the roots. */
function rolloutFiles(home: string): string[] {
  const walk = (d: string): string[] =>
    existsSync(d) ? readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)])) : [];
  return [...walk(join(home, 'sessions')), ...walk(join(home, 'archived_sessions'))].filter((p) => /\/rollout-[^/]*\.jsonl(\.zst)?$/.test(p)).sort();
}
/** Every rollout file's bytes, by path. */
const snapshot = (home: string) => new Map(rolloutFiles(home).map((p) => [p, readFileSync(p)]));
const unzstd = (b: Buffer) => spawnSync('zstd', ['-dcq'], { input: b, maxBuffer: 1 << 30 }).stdout;
const decoded = (path: string, b: Buffer) => (path.endsWith('.zst') ? unzstd(b) : b).toString();
/** A line with every image (or an image's marker) as one word. */
const strip = (line: string) => line.replace(/data:image\/png;base64,[A-Za-z0-9+/=]*/g, 'IMAGE');
/** A copy of a home with every mtime as it was. */
const copyHome = (from: string, to: string) => cpSync(from, to, { recursive: true, preserveTimestamps: true });
const objects = (home: string) =>
  existsSync(join(home, 'rollout-objects'))
    ? readdirSync(join(home, 'rollout-objects'))
        .filter((d) => /^[0-9a-f]{2}$/.test(d))
        .flatMap((d) => readdirSync(join(home, 'rollout-objects', d)))
    : [];
const env = (home: string) => ({ CODEX_HOME: home, ROLLOUT_INDEX: '' });
const slim = (home: string, ...args: string[]) => run('rollout-slim', args, { env: env(home) });
const lines = (r: { out: string }) => ndjson(r.out) as Array<Record<string, any>>;

/** A session with `image` on its first user message, written old enough to act on. */
function imageSession(home: string, image: string, spec: SessionSpec = {}, opts: WriteOptions = {}) {
  const s = sessionLines({ ...spec, start: spec.start ?? OLD, turns: spec.turns ?? [{ user: SAID, tool: { cmd: 'ls', output: 'index.html' } }] });
  const raw = Buffer.from(attach(s.lines, SAID, image).join('\n') + '\n');
  return writeSession(home, { ...spec, id: s.id, start: spec.start ?? OLD, history: spec.history }, { mtime: OLD, ...opts, raw });
}

t.test('restore gives back every generation byte for byte; every other byte of a slimmed line stays', async (t) => {
  const home = tmpDir(t);
  imageSession(home, SHOT);
  imageSession(home, CHART, { history: 'paginated' });
  imageSession(home, SHOT, {}, { zst: 'only' });
  imageSession(home, CHART, {}, { root: 'archived_sessions' });
  // Generations A, B and C (bare lines of 2025), the image in a user message as those CLIs wrote it.
  const bares = (['A', 'B', 'C'] as const).map((gen, n) => {
    const ms = Date.parse('2025-08-01T10:00:00Z') + n * 60_000;
    const id = `0197f5a6-0000-4000-8000-0000000000c${n}`;
    const bytes = attach(bareLines(gen, id, [SAID, 'a broken layout']), SAID, SHOT).join('\n') + '\n';
    t.ok(bytes.includes(SHOT), `the generation ${gen} session holds the image`);
    const path = join(dirFor(home, gen, ms, false), fileName(gen, ms, id));
    writeRaw(home, path.slice(home.length + 1), bytes);
    utimesSync(path, OLD, OLD);
    return path;
  });
  const before = snapshot(home);

  const r = slim(home, '--include-archived');
  t.equal(r.code, 0, r.err);
  const acted = lines(r).filter((l) => l.action === 'slim');
  t.equal(acted.length, 7, 'every session with an image is slimmed');
  for (const l of acted) {
    t.equal(l.blobs, 1);
    t.ok(l.after < l.bytes - 20_000, `${l.id}: the image's bytes are gone`);
  }
  t.match(r.err, /slimmed 7 sessions .* took out 7 blobs/);
  t.same(objects(home).sort(), [objectOf(SHOT), objectOf(CHART)].sort(), 'two distinct images, two objects');
  for (const [path, was] of before) {
    const text = decoded(path, readFileSync(path));
    t.notOk(text.includes(SHOT.slice(30, 200)) || text.includes(CHART.slice(30, 200)), `${path}: no image left`);
    // Line by line, only the image's string changed.
    const wasText = decoded(path, was).split('\n');
    const nowText = text.split('\n');
    t.equal(nowText.length, wasText.length, 'as many lines');
    nowText.forEach((line, i) => {
      if (line !== wasText[i]) t.same(JSON.parse(strip(line)), JSON.parse(strip(wasText[i])), `line ${i} differs only in the image`);
    });
  }
  for (const path of bares) t.ok(statSync(path).size < before.get(path)!.length - 70_000, `${path}: slimmed`);

  const back = slim(home, '--restore', '--include-archived');
  t.equal(back.code, 0, back.err);
  t.equal(lines(back).filter((l) => l.action === 'restore').length, 7);
  // A .zst file is compressed again: what it holds is the original, byte for byte.
  for (const [path, was] of before) t.equal(sha(decoded(path, readFileSync(path))), sha(decoded(path, was)), `${path}: byte for byte`);
});

t.test('one copy of a screenshot shared by a session, its fork and a subagent', async (t) => {
  const home = tmpDir(t);
  const parent = imageSession(home, SHOT);
  imageSession(home, SHOT, { meta: { forked_from_id: parent.id } });
  imageSession(home, SHOT, { source: { subagent: 'review' } });
  const before = snapshot(home);
  const r = slim(home);
  t.equal(r.code, 0, r.err);
  t.equal(lines(r).length, 3);
  t.equal(objects(home).length, 1, 'one object');
  const object = join(home, 'rollout-objects', objects(home)[0].slice(0, 2), objects(home)[0]);
  t.equal(sha(readFileSync(object)), objects(home)[0], 'named by the SHA-256 of its bytes');
  const after = rolloutFiles(home).reduce((n, p) => n + statSync(p).size, 0) + statSync(object).size;
  const was = [...before.values()].reduce((n, b) => n + b.length, 0);
  t.ok(after < was / 2, `three copies became one (${was} bytes to ${after})`);
  t.equal(slim(home, '--restore').code, 0);
  for (const [path, bytes] of before) t.ok(readFileSync(path).equals(bytes), 'restored');
});

t.test('a dry run writes nothing, and says what a real run would do', async (t) => {
  const home = tmpDir(t);
  imageSession(home, SHOT);
  imageSession(home, CHART);
  const before = tree(home);
  const bytes = snapshot(home);
  const dry = slim(home, '-n');
  t.equal(dry.code, 0, dry.err);
  t.same(tree(home), before, 'no file added (no store)');
  for (const [p, b] of bytes) t.ok(readFileSync(p).equals(b), 'unchanged');
  const real = slim(home);
  t.same(
    lines(dry).map((l) => ({ ...l, dry_run: false })),
    lines(real),
    'the same lines as the real run',
  );
});

t.test('--backup keeps each file as it was, read back, outside the roots', async (t) => {
  const home = tmpDir(t);
  const s = imageSession(home, SHOT);
  const was = readFileSync(s.path);
  const backup = join(tmpDir(t), 'backup');
  const r = slim(home, '--backup', backup);
  t.equal(r.code, 0, r.err);
  const [line] = lines(r);
  t.equal(line.backup.length, 1);
  t.ok(readFileSync(line.backup[0]).equals(was), 'the backup is the original');
  t.equal(slim(home, '--backup', join(home, 'sessions')).code, 2, 'never into the roots');
});

t.test('sessions still being written are left alone', async (t) => {
  const home = tmpDir(t);
  const fresh = imageSession(home, SHOT, {}, { mtime: new Date() });
  const locked = imageSession(home, CHART);
  const hold = await holdWriterLock(home, locked.id);
  t.teardown(hold.release);
  const before = snapshot(home);
  const r = slim(home);
  t.equal(r.code, 0, r.err);
  const skips = lines(r).filter((l) => l.action === 'skip');
  t.same(skips.map((l) => l.id).sort(), [fresh.id, locked.id].sort());
  t.match(skips.find((l) => l.id === fresh.id)!.reason, /grace|modified/);
  t.match(skips.find((l) => l.id === locked.id)!.reason, /lock|open/);
  for (const [p, b] of before) t.ok(readFileSync(p).equals(b), 'untouched');
  await hold.release();
  t.equal(lines(slim(home, '--grace', '0')).filter((l) => l.action === 'slim').length, 2, 'both go once they are quiet');
});

t.test('mtimes are kept to the microsecond, and rollout-du and rollout-ls see the bytes gone', async (t) => {
  const home = tmpDir(t);
  const s = imageSession(home, SHOT);
  const was = lstatSync(s.path, { bigint: true }).mtimeNs / 1000n;
  const du = (h: string) => ndjson(run('rollout-du', ['--by', 'kind'], { env: env(h) }).out).find((l) => l.kind === 'images').bytes;
  t.ok(du(home) >= 60_000, 'images before');
  t.equal(slim(home).code, 0);
  t.equal(lstatSync(s.path, { bigint: true }).mtimeNs / 1000n, was, 'mtime kept');
  t.ok(du(home) < 1000, 'rollout-du: the images are gone (the markers are small)');
  const ls = ndjson(run('rollout-ls', ['--no-update'], { env: env(home) }).out);
  t.equal(ls[0].size, statSync(s.path).size, 'the index was updated by slim itself');
});

t.test('--drop keeps no object; --restore then has nothing to put back', async (t) => {
  const home = tmpDir(t);
  imageSession(home, SHOT);
  t.equal(slim(home, '--drop').code, 2, '--drop needs a filter');
  const r = slim(home, '--drop', '--older-than', '1d');
  t.equal(r.code, 0, r.err);
  t.equal(lines(r)[0].blobs, 1);
  t.same(objects(home), [], 'no object');
  const back = slim(home, '--restore');
  t.not(back.code, 0, 'a marker without its object cannot be put back');
  t.match(back.err, /error:/);
});

t.test('--gc removes only what no session refers to, and nothing young', async (t) => {
  const home = tmpDir(t);
  const a = imageSession(home, SHOT);
  imageSession(home, SHOT);
  const c = imageSession(home, CHART);
  t.equal(slim(home).code, 0);
  t.equal(objects(home).length, 2);
  // Restore one holder of each: the screenshot is still referenced by the other, the chart by none.
  const back = run('rollout-slim', ['--restore', '--stdin'], { env: env(home), input: `${a.id}\n${c.id}\n` });
  t.equal(back.code, 0, back.err);
  t.equal(lines(back).length, 2);
  const young = slim(home, '--gc');
  t.equal(young.code, 0, young.err);
  t.same(lines(young), [], 'objects written within --grace stay');
  const gc = slim(home, '--gc', '--grace', '0');
  t.same(
    lines(gc).map((l) => l.object),
    [objectOf(CHART)],
    'only the chart goes',
  );
  t.same(objects(home), [objectOf(SHOT)], 'the shared screenshot stays');
  t.equal(slim(home, '--gc', '--older-than', '1d').code, 2, '--gc takes no filter');
});

t.test("a fork's parent keeps the bytes the fork reads by offset", async (t) => {
  const home = tmpDir(t);
  const p = sessionLines({ history: 'paginated', start: OLD, turns: [{ user: SAID }, { user: 'And now?' }] });
  const withImages = attach(attach(p.lines, SAID, SHOT), 'And now?', CHART);
  const parent = writeSession(home, { id: p.id, history: 'paginated', start: OLD }, { mtime: OLD, raw: Buffer.from(withImages.join('\n') + '\n') });
  const cut = withImages.findIndex((l) => l.includes(CHART.slice(0, 100)));
  const fork = writeReferencedFork(
    home,
    { ...parent, lines: withImages },
    cut,
    { start: new Date(OLD.getTime() + 1000), turns: [{ user: 'fork' }] },
    { mtime: OLD },
  );
  const cat = () => run('rollout-cat', ['--full', fork.id], { env: env(home) }).out;
  const was = cat();
  const r = slim(home);
  t.equal(r.code, 0, r.err);
  const line = lines(r).find((l) => l.id === parent.id)!;
  t.equal(line.kept, fork.endByte, 'the bytes before the fork point are kept');
  t.equal(line.blobs, 1, 'only the image after it goes');
  t.ok(readFileSync(parent.path).subarray(0, fork.endByte).toString().includes(SHOT.slice(30, 300)), 'the image the fork reads is still there');
  t.equal(cat(), was, 'the fork reads the same history');
});

t.test('a restore that would move the bytes a fork made since reads by offset is refused', async (t) => {
  const home = tmpDir(t);
  const p = sessionLines({ history: 'paginated', start: OLD, turns: [{ user: SAID }, { user: 'And now?' }] });
  const raw = Buffer.from(attach(p.lines, SAID, SHOT).join('\n') + '\n');
  const parent = writeSession(home, { id: p.id, history: 'paginated', start: OLD }, { mtime: OLD, raw });
  t.equal(slim(home).code, 0);
  // Codex forks the slimmed session: the fork reads the parent's slimmed bytes by their offsets.
  const slimmed = readFileSync(parent.path).toString().trimEnd().split('\n');
  writeReferencedFork(
    home,
    { ...parent, lines: slimmed },
    slimmed.length - 1,
    { start: new Date(OLD.getTime() + 1000), turns: [{ user: 'fork' }] },
    { mtime: OLD },
  );
  const was = readFileSync(parent.path);
  const r = slim(home, '--restore');
  t.equal(r.code, 0, r.err);
  const skip = lines(r).find((l) => l.id === parent.id)!;
  t.equal(skip.action, 'skip');
  t.match(skip.reason, /a fork reads .* by byte offsets/);
  t.ok(readFileSync(parent.path).equals(was), 'the parent stays slimmed');
});

t.test('usage errors', async (t) => {
  const home = tmpDir(t);
  for (const args of [['--restore', '--gc'], ['--drop', '--restore'], ['--kinds', 'video'], ['--min-blob', '10'], ['--gc', '--kinds', 'image'], ['stray']]) {
    const r = slim(home, ...args);
    t.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    t.match(r.err, /^rollout-slim: error: /);
  }
});

t.test('a kill at any moment leaves each file the original or the slimmed one, never a missing object', async (t) => {
  const src = tmpDir(t);
  for (let i = 0; i < 6; i++) imageSession(src, screenshot(3_000_000, `shot ${i}`), { id: uuidv7(OLD.getTime() + i) });
  const original = new Map([...snapshot(src)].map(([p, b]) => [p.slice(src.length), sha(b)]));
  // The slimmed bytes are a function of the original's: a run to the end gives them, and how long it takes.
  const whole = tmpDir(t);
  copyHome(src, whole);
  const started = Date.now();
  t.equal(slim(whole).code, 0);
  const took = Date.now() - started;
  const slimmed = new Map([...snapshot(whole)].map(([p, b]) => [p.slice(whole.length), sha(b)]));
  for (const share of [0.5, 0.8, 0.85, 0.9, 0.95, 0.98]) {
    const delay = Math.round(took * share);
    const home = tmpDir(t);
    copyHome(src, home);
    const child = spawn(process.execPath, [join(REPO, 'dist/cmd/rollout-slim.js')], { env: { ...process.env, ...env(home) }, stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    await new Promise((r) => setTimeout(r, delay));
    child.kill('SIGKILL');
    await exited;
    let done = 0;
    const have = new Set(objects(home));
    for (const [p, b] of snapshot(home)) {
      const rel = p.slice(home.length);
      const now = sha(b);
      t.ok(now === original.get(rel) || now === slimmed.get(rel), `after ${delay} ms: ${rel} is whole`);
      if (now === slimmed.get(rel)) done++;
      for (const m of b.toString().matchAll(/sha256=([0-9a-f]{64})/g)) t.ok(have.has(m[1]), `after ${delay} ms: ${rel} refers to an object that is there`);
    }
    t.comment(`killed after ${delay} ms of ${took}: ${done} of 6 slimmed`);
    // The next run finishes the job, and everything comes back.
    t.equal(slim(home).code, 0);
    t.equal(slim(home, '--restore').code, 0);
    for (const [p, b] of snapshot(home)) t.equal(sha(b), original.get(p.slice(home.length)), 'restored after the kill');
  }
});

t.test('a slimmed session moves to another home with its objects, and is restored there byte for byte', async (t) => {
  const a = tmpDir(t);
  const b = tmpDir(t);
  const one = imageSession(a, SHOT);
  const two = imageSession(a, SHOT, { source: { subagent: 'review' } });
  const three = imageSession(a, CHART);
  const originals = snapshot(a);
  t.equal(slim(a).code, 0);
  // One object lost from this store: its session still goes, with a warning, its marker without the blob.
  rmSync(join(a, 'rollout-objects', objectOf(CHART).slice(0, 2), objectOf(CHART)));
  const tar = join(tmpDir(t), 'move.tar');
  const bundled = run('rollout-bundle', ['-o', tar, one.id, two.id, three.id], { env: env(a) });
  t.equal(bundled.code, 0, bundled.err);
  t.match(bundled.err, new RegExp(`session ${three.id} refers to object ${objectOf(CHART)}, which is not in this home's store`));
  t.match(bundled.err, /bundled 3 sessions \(3 files, 1 object of the store/);
  const listed = spawnSync('tar', ['-tf', tar]).stdout.toString().trim().split('\n');
  t.same(listed.slice(-1), [`rollout-objects/${objectOf(SHOT).slice(0, 2)}/${objectOf(SHOT)}`], 'the object, after the session files');

  const imported = run('rollout-unbundle', [tar], { env: env(b) });
  t.equal(imported.code, 0, imported.err);
  t.match(imported.err, /added 1 object to the store/);
  t.same(objects(b), [objectOf(SHOT)]);
  // Imported again: nothing to add.
  t.notMatch(run('rollout-unbundle', [tar], { env: env(b) }).err, /object/);
  const restored = run('rollout-slim', ['--restore', '--stdin', '--grace', '0'], { env: env(b), input: `${one.id}\n${two.id}\n` });
  t.equal(restored.code, 0, restored.err);
  const back = new Map([...snapshot(b)].map(([p, bytes]) => [p.slice(b.length), bytes]));
  for (const s of [one, two]) t.ok(back.get(s.path.slice(a.length))!.equals(originals.get(s.path)!), `${s.id}: byte for byte in the other home`);
});

t.test('a session re-tagged after it was slimmed is still restored, without the proof, each blob checked', async (t) => {
  const home = tmpDir(t);
  const s = imageSession(home, SHOT, { cwd: '/home/ana/src/old' });
  const original = readFileSync(s.path);
  t.equal(slim(home).code, 0);
  const move = (from: string, to: string) => run('rollout-prune', ['-q', '--grace', '0', '--map-cwd', `${from}=${to}`], { env: env(home) });
  t.equal(move('/home/ana/src/old', '/home/ana/src/new').code, 0);
  const r = slim(home, '--restore', '--grace', '0');
  t.equal(r.code, 0, r.err);
  t.match(lines(r)[0], { action: 'restore', blobs: 1, unproven: true });
  t.match(r.err, /changed since it was slimmed .*restored without its record/);
  t.ok(readFileSync(s.path).includes(SHOT), 'the image is back');
  // Moved back, the file is the original again: nothing but the image and the folder ever changed.
  t.equal(move('/home/ana/src/new', '/home/ana/src/old').code, 0);
  t.ok(readFileSync(s.path).equals(original), 'byte for byte');
  // Slimmed, re-tagged, and slimmed again (a new screenshot came): no error, and one restore puts both back.
  t.equal(slim(home).code, 0);
  t.equal(move('/home/ana/src/old', '/home/ana/src/new').code, 0);
  const more = screenshot(20_000, 'a second screenshot');
  const turn = attach(sessionLines({ start: OLD, turns: [{ user: 'And this one?' }] }).lines.slice(-6), 'And this one?', more);
  writeFileSync(s.path, readFileSync(s.path, 'utf8') + turn.join('\n') + '\n');
  utimesSync(s.path, OLD, OLD);
  const again = slim(home);
  t.equal(again.code, 0, again.err);
  t.match(lines(again)[0], { action: 'slim', blobs: 1 });
  const both = slim(home, '--restore', '--grace', '0');
  t.equal(both.code, 0, both.err);
  t.match(lines(both)[0], { blobs: 2, unproven: true });
  t.ok(readFileSync(s.path).includes(SHOT) && readFileSync(s.path).includes(more), 'both images back');

  // A restore whose object is damaged writes nothing, record or not.
  t.equal(slim(home).code, 0);
  const object = join(home, 'rollout-objects', objectOf(SHOT).slice(0, 2), objectOf(SHOT));
  writeFileSync(object, Buffer.from(SHOT.replace('A', 'B')));
  const slimmed = readFileSync(s.path);
  const bad = slim(home, '--restore', '--grace', '0');
  t.equal(bad.code, 1, bad.err);
  t.match(bad.err, /damaged/);
  t.ok(readFileSync(s.path).equals(slimmed), 'left as it was');
});

/** Runs a binary in the background; resolves with its exit status and stderr. */
function runAsync(bin: string, args: string[], home: string): Promise<{ code: number | null; err: string }> {
  const child = spawn(process.execPath, [join(REPO, 'dist/cmd', `${bin}.js`), ...args], {
    env: { ...process.env, ...QUICK_START, ...env(home) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, err })));
}

/** Each session file's bytes as every reader sees them (decompressed), by path relative to the home. */
const contents = (home: string) => new Map([...snapshot(home)].map(([p, b]) => [p.slice(home.length), sha(decoded(p, b))]));

t.test('every name form since 2025, in both roots: slimmed, still found, and restored byte for byte', async (t) => {
  for (const root of ['sessions', 'archived_sessions'] as const) {
    const home = tmpDir(t);
    const placed = Object.keys(FORMS).map((form) => ({ form, ...place(home, form, root) }));
    // A picture in the file Codex reads, as that generation writes a user message.
    for (const p of placed) {
      const file = p.paths[0];
      if (file.endsWith('.json')) continue;
      const bare = /gen [ABC]/.test(p.form);
      const plain = file.endsWith('.zst') ? unzstd(readFileSync(file)) : readFileSync(file);
      const last = JSON.parse(plain.toString().trimEnd().split('\n').pop()!);
      const content = [
        { type: 'input_text', text: 'see' },
        { type: 'input_image', image_url: SHOT },
      ];
      const line = bare
        ? JSON.stringify({ type: 'message', id: null, role: 'user', content })
        : JSON.stringify({
            timestamp: '2026-08-01T10:30:00.000Z',
            ...(typeof last.ordinal === 'number' ? { ordinal: last.ordinal + 1 } : {}),
            type: 'response_item',
            payload: { type: 'message', role: 'user', content },
          });
      const grown = Buffer.concat([plain, Buffer.from(line + '\n')]);
      writeFileSync(file, file.endsWith('.zst') ? zstd(grown) : grown);
      utimesSync(file, OLD, OLD);
    }
    const ids = placed.map((p) => p.id);
    const cat = () => ids.map((id) => run('rollout-cat', [id], { env: env(home) }));
    const seen = cat();
    const before = contents(home);
    const r = slim(home, '--include-archived', '--grace', '0');
    t.equal(r.code, 0, `${root}: ${r.err}`);
    for (const p of placed) {
      const l = lines(r).find((x) => x.id === p.id);
      if (p.form === 'gen-0 .json') t.match(l, { action: 'skip', reason: /generation-0 \.json/ }, `${root}, ${p.form}: left alone`);
      else t.match(l, { action: 'slim', blobs: 1 }, `${root}, ${p.form}: slimmed`);
    }
    cat().forEach((c, i) => {
      t.equal(c.code, 0, `${root}, ${placed[i].form}: still found by its id`);
      if (placed[i].form !== 'gen-0 .json') t.notOk(c.out.includes(SHOT.slice(40, 400)), `${root}, ${placed[i].form}: no picture left`);
    });
    const back = slim(home, '--restore', '--include-archived', '--grace', '0');
    t.equal(back.code, 0, back.err);
    t.same(contents(home), before, `${root}: every file is what it was`);
    t.same(
      cat().map((c) => c.out),
      seen.map((c) => c.out),
      `${root}: and reads as it did`,
    );
  }
});

t.test('a backup folder that is the home, inside its roots, or a link to it is refused before anything', async (t) => {
  const home = tmpDir(t);
  imageSession(home, SHOT);
  const before = snapshot(home);
  const link = join(tmpDir(t), 'link');
  symlinkSync(home, link);
  for (const dir of [home, join(home, 'sessions', 'bk'), join(home, 'archived_sessions'), link]) {
    const r = slim(home, '--backup', dir);
    t.equal(r.code, 2, `--backup ${dir}: ${r.err}`);
    t.match(r.err, /^rollout-slim: error: .*backup/m);
  }
  for (const [p, b] of before) t.ok(readFileSync(p).equals(b), 'nothing slimmed');
  t.notOk(existsSync(join(home, 'rollout-objects')), 'nothing stored');
});

t.test('runs at once (two slims, a collection, a compression, a restore): nothing lost', async (t) => {
  const home = tmpDir(t);
  for (let i = 0; i < 8; i++) imageSession(home, screenshot(1_500_000, `shot ${i % 3}`), { id: uuidv7(OLD.getTime() + i) });
  const before = contents(home);
  t.equal(run('rollout-index', [], { env: env(home) }).code, 0);
  const runs = await Promise.all([
    runAsync('rollout-slim', ['--grace', '0'], home),
    runAsync('rollout-slim', ['--grace', '0'], home),
    runAsync('rollout-slim', ['--gc', '--grace', '0'], home),
    runAsync('rollout-prune', ['--compress', '--older-than', '1d', '--grace', '0'], home),
    runAsync('rollout-slim', ['--restore', '--grace', '0'], home),
  ]);
  for (const r of runs) {
    t.ok(r.code === 0 || r.code === 1, `every run ended (${r.code}: ${r.err.trim().slice(0, 200)})`);
    if (r.code === 1) t.match(r.err, /^rollout-slim: error: |^rollout-prune: error: /m, 'an error says what it is');
  }
  // Whatever each run did, every marker's object is there, and a calm restore gives every session back.
  const have = new Set(objects(home));
  for (const [p, b] of snapshot(home)) for (const m of decoded(p, b).matchAll(/sha256=([0-9a-f]{64})/g)) t.ok(have.has(m[1]), `${p}: its object is there`);
  const calm = slim(home, '--restore', '--grace', '0');
  t.equal(calm.code, 0, calm.err);
  const after = contents(home);
  for (const [rel, digest] of before) t.equal(after.get(rel) ?? after.get(`${rel}.zst`), digest, `${rel}: the same conversation`);
});

t.test(
  'a full disk under the home: slimming fails cleanly, every session stays whole and comes back',
  { skip: process.getuid?.() === 0 ? false : 'mounting a tmpfs needs root' },
  async (t) => {
    const mountpoint = tmpDir(t);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mountpoint]);
    if (!t.equal(mounted.status, 0, `mount a small tmpfs (${mounted.stderr.toString()})`)) return;
    t.teardown(() => void spawnSync('umount', [mountpoint]));
    const home = join(mountpoint, 'home');
    for (let i = 0; i < 4; i++) imageSession(home, screenshot(2_000_000, `disk ${i}`), { id: uuidv7(OLD.getTime() + i) });
    t.equal(run('rollout-index', [], { env: env(home) }).code, 0, 'the index is built while there is room');
    const before = contents(home);
    // Room for a store object or two, not for every one, nor for the slimmed copies beside them.
    const free = Number(spawnSync('df', ['--output=avail', '-B1', mountpoint]).stdout.toString().split('\n')[1]);
    writeFileSync(join(mountpoint, 'filler'), Buffer.alloc(Math.max(0, free - 1_000_000)));
    const r = slim(home, '--grace', '0');
    t.equal(r.code, 1, 'some sessions failed');
    t.match(r.err, /^rollout-slim: error: .*(no space left on device|ENOSPC)/im, r.err.slice(0, 300));
    const have = new Set(objects(home));
    const after = contents(home);
    for (const [p, b] of snapshot(home)) {
      const rel = p.slice(home.length);
      // Slimmed whole: one line holding a marker, none of the picture left.
      const slimmedWhole = statSync(p).size < 100_000;
      t.ok(after.get(rel) === before.get(rel) || slimmedWhole, `${rel}: the original, or slimmed whole`);
      for (const m of decoded(p, b).matchAll(/sha256=([0-9a-f]{64})/g)) t.ok(have.has(m[1]), `${rel}: its object is there`);
    }
    t.same(
      tree(home).filter((p) => p.includes('.tmp')),
      [],
      'no temp file left',
    );
    rmSync(join(mountpoint, 'filler'));
    const back = slim(home, '--restore', '--grace', '0');
    t.equal(back.code, 0, back.err);
    t.same(contents(home), before, 'every session comes back');
  },
);

t.test('bad input: torn, bad UTF-8, a BOM, an unknown record, a broken .zst, a 60 MB line: a clear message, nothing lost', async (t) => {
  const home = tmpDir(t);
  const image = (extra = '') =>
    JSON.stringify({
      timestamp: '2026-08-01T10:30:00.000Z',
      type: 'response_item',
      payload: { type: 'message', role: 'user', content: [{ type: 'input_image', image_url: SHOT }] },
    }) + extra;
  const torn = imageSession(home, SHOT);
  writeFileSync(torn.path, Buffer.concat([readFileSync(torn.path), Buffer.from(image().slice(0, 30_000))]));
  const badUtf8 = imageSession(home, SHOT);
  writeFileSync(badUtf8.path, Buffer.concat([readFileSync(badUtf8.path), Buffer.from([0xff, 0xfe, 0x0a])]));
  const bom = imageSession(home, SHOT);
  writeFileSync(bom.path, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(bom.path)]));
  const unknown = imageSession(home, SHOT);
  writeFileSync(unknown.path, readFileSync(unknown.path, 'utf8') + image().replace('"response_item"', '"a_record_of_2027"') + '\n');
  const big = imageSession(home, screenshot(45 << 20, 'a huge picture'));
  const broken = imageSession(home, SHOT, {}, { zst: 'only' });
  const zstPath = `${broken.path}.zst`;
  writeFileSync(zstPath, Buffer.concat([readFileSync(zstPath).subarray(0, 200), Buffer.from('not zstd at all')]));
  for (const p of [...snapshot(home).keys()]) utimesSync(p, OLD, OLD);
  const before = contents(home);

  const r = slim(home, '--grace', '0');
  t.equal(r.code, 1, 'the broken .zst is an error');
  t.match(r.err, new RegExp(`^rollout-slim: error: ${zstPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `, 'm'), 'naming the file');
  t.ok(readFileSync(zstPath).subarray(-15).equals(Buffer.from('not zstd at all')), 'which is left as it was');
  const slimmed = new Set(
    lines(r)
      .filter((l) => l.action === 'slim')
      .map((l) => l.id),
  );
  for (const s of [torn, badUtf8, bom, unknown, big]) t.ok(slimmed.has(s.id), `${s.path}: slimmed around what it could not read`);
  t.ok(
    readFileSync(torn.path)
      .subarray(-100)
      .equals(Buffer.from(image().slice(29_900, 30_000))),
    'the torn line is kept as it was',
  );
  t.ok(
    readFileSync(badUtf8.path)
      .subarray(-3)
      .equals(Buffer.from([0xff, 0xfe, 0x0a])),
    'the bad bytes too',
  );
  t.ok(
    readFileSync(bom.path)
      .subarray(0, 3)
      .equals(Buffer.from([0xef, 0xbb, 0xbf])),
    'and the BOM',
  );
  t.ok(statSync(big.path).size < 100_000, 'the 60 MB line is short now');

  const back = slim(home, '--restore', '--grace', '0');
  t.equal(back.code, 1, 'the broken .zst still cannot be read');
  t.same(contents(home), before, 'every file is what it was');
});

t.test('--kinds tool-output takes out long tool outputs; --min-blob sets how long', async (t) => {
  const home = tmpDir(t);
  const long = 'build step ok\n'.repeat(3000);
  const s = imageSession(home, SHOT, { turns: [{ user: SAID, tool: { cmd: 'npm run build', output: long } }] });
  const original = readFileSync(s.path);
  const images = slim(home, '-n');
  t.match(lines(images)[0], { blobs: 1 }, 'by default, the image only');
  const both = slim(home, '--kinds', 'image,tool-output');
  t.equal(both.code, 0, both.err);
  t.match(lines(both)[0], { blobs: 2 }, 'the image and the output');
  t.match(readFileSync(s.path, 'utf8'), /\[rollout-slim v1 kind=tool-output media=text\/plain bytes=\d+ sha256=[0-9a-f]{64}\] This output was moved out/);
  t.equal(slim(home, '--restore').code, 0);
  t.ok(readFileSync(s.path).equals(original), 'restored byte for byte');
  const small = imageSession(home, screenshot(3000, 'a small picture'));
  const r = run('rollout-slim', ['-n', '--stdin', '--min-blob', '2k'], { env: env(home), input: `${small.id}\n` });
  t.match(lines(r)[0], { id: small.id, blobs: 1 }, `--min-blob 2k takes a 4 KB picture the default 4k leaves (${r.out}${r.err})`);
  // (Named without a newline: a printf's list names its last session too.)
  const r2 = run('rollout-slim', ['-n', '--stdin'], { env: env(home), input: small.id });
  t.same(lines(r2), [], 'by default it stays');
});

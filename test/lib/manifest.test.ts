// The manifest's rules, and a suite of hostile bundles: each must be refused whole, with a reason,
// by checkBundle (what a reader runs before it writes anything).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import t, { type Test } from 'tap';
import { checkBundle, readManifest } from '../../lib/bundle/check.js';
import { checkManifest, FORMAT, manifestBytes, rolloutPath, type BundledSession } from '../../lib/bundle/manifest.js';
import { writeTar, type TarInput } from '../../lib/bundle/tar.js';
import { tmpDir } from '../helpers/fixtures.js';

const A = '0199a213-81c0-7800-8aa1-bbab2a035a53';
const B = '0199a213-81c0-7800-8aa1-bbab2a035a54';
const pathA = `sessions/2026/01/02/rollout-2026-01-02T10-00-00-${A}.jsonl`;
const pathB = `archived_sessions/rollout-2026-01-03T10-00-00-${B}.jsonl`;
const dataA = Buffer.from('{"type":"session_meta"}\n');
const dataB = Buffer.from('{"type":"session_meta","b":1}\n');

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function session(id: string, files: Array<[string, Buffer]>): BundledSession {
  return {
    id,
    name: null,
    archived: files[0][0].startsWith('archived_sessions/'),
    parents: [],
    materialized: false,
    created_at: '2026-01-02T10:00:00.000Z',
    updated_at: null,
    cwd: '/w',
    model_provider: 'openai',
    files: files.map(([path, data]) => ({ path, size: data.length, sha256: sha(data) })),
  };
}

const OBJECT_DATA = Buffer.from('data:image/png;base64,iVBORw0KGgo=');
const OBJECT = { path: `rollout-objects/${sha(OBJECT_DATA).slice(0, 2)}/${sha(OBJECT_DATA)}`, size: OBJECT_DATA.length, sha256: sha(OBJECT_DATA) };

const goodSessions = () => [session(A, [[pathA, dataA]]), session(B, [[pathB, dataB]])];

async function* of(...parts: Buffer[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield p;
}

async function tarOf(members: Array<[string, Buffer]>): Promise<Buffer> {
  const out: Buffer[] = [];
  const inputs: TarInput[] = members.map(([path, data]) => ({ path, size: data.length, mtime: 0, data: () => of(data) }));
  for await (const c of writeTar(inputs)) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

/** A bundle file of this manifest (bytes or sessions) and these members after it. */
async function bundleFile(t: Test, manifest: Buffer | BundledSession[], rest: Array<[string, Buffer]>): Promise<string> {
  const file = join(tmpDir(t), 'b.tar');
  const m = Buffer.isBuffer(manifest) ? manifest : manifestBytes(manifest);
  writeFileSync(file, await tarOf([['manifest.json', m], ...rest]));
  return file;
}

const goodMembers = (): Array<[string, Buffer]> => [
  [pathA, dataA],
  [pathB, dataB],
];

t.test('a good bundle passes, plain and compressed; readManifest reads only the manifest', async (t) => {
  const file = await bundleFile(t, goodSessions(), goodMembers());
  const m = await checkBundle(file);
  t.same(
    m.sessions.map((s) => s.id),
    [A, B],
  );
  t.equal(spawnSync('zstd', ['-q', '-k', file]).status, 0);
  t.same(await checkBundle(`${file}.zst`), m);
  t.same(await readManifest(`${file}.zst`), m);
  const cut = join(tmpDir(t), 'cut.tar');
  writeFileSync(cut, readFileSync(file).subarray(0, 2048));
  t.same(await readManifest(cut), m, 'the manifest of a bundle cut after it still reads');
});

t.test('manifestBytes: sorted and the same for the same sessions', async (t) => {
  const a = manifestBytes(goodSessions());
  const b = manifestBytes([...goodSessions()].reverse());
  t.same(a, b);
  t.equal(JSON.parse(a.toString()).format, FORMAT);
});

t.test('rolloutPath: where rollouts live, and nowhere else', async (t) => {
  t.same(rolloutPath(pathA), { threadId: A });
  t.same(rolloutPath(pathB), { threadId: A.replace(/53$/, '54') });
  t.same(rolloutPath(`sessions/rollout-2025-05-01-${A}.json`), { threadId: A });
  t.same(rolloutPath(`sessions/2026/01/02/rollout-2026-01-02T10-00-00-${A}_${B}.jsonl.zst`), { threadId: A });
  t.match(rolloutPath(`sessions/2026/01/03/rollout-2026-01-02T10-00-00-${A}.jsonl`), { why: /not the day of its name/ });
  t.match(rolloutPath(`sessions/2026/01/02/notes.txt`), { why: /not a rollout file name/ });
  t.match(rolloutPath(`config.toml`), { why: /not under sessions/ });
  t.match(rolloutPath(`archived_sessions/x/rollout-2026-01-02T10-00-00-${A}.jsonl`), { why: /not under sessions/ });
});

t.test('checkManifest refuses a manifest that lies or is malformed', async (t) => {
  const base = () => JSON.parse(manifestBytes(goodSessions()).toString());
  const cases: Array<[string, (m: any) => unknown, RegExp]> = [
    ['not an object', () => [], /not a JSON object/],
    ['another format', (m) => ({ ...m, format: 'rollout-bundle/2' }), /is not rollout-bundle\/1/],
    ['an id that the file name contradicts', (m) => ((m.sessions[0].id = '0199a213-81c0-7800-8aa1-bbab2a035a52'), m), /the file name says session/],
    ['an upper-case id', (m) => ((m.sessions[0].id = A.toUpperCase()), m), /not a lower-case UUID/],
    ['a session twice', (m) => ((m.sessions[1] = m.sessions[0]), m), /not in order of id, or one is there twice/],
    ['a path twice', (m) => (m.sessions[0].files.push(m.sessions[0].files[0]), m), /listed twice/],
    ['a bad sha256', (m) => ((m.sessions[0].files[0].sha256 = 'abc'), m), /sha256 is not/],
    ['a negative size', (m) => ((m.sessions[0].files[0].size = -1), m), /size is not/],
    ['an absolute path', (m) => ((m.sessions[0].files[0].path = '/' + pathA), m), /absolute path/],
    ['a climbing path', (m) => ((m.sessions[0].files[0].path = `sessions/../../rollout-2026-01-02T10-00-00-${A}.jsonl`), m), /'\.\.' component/],
    ['a non-rollout name', (m) => ((m.sessions[0].files[0].path = `sessions/2026/01/02/rollout-${A}.txt`), m), /not a rollout file name/],
    ['no files', (m) => ((m.sessions[0].files = []), m), /no files/],
    ['parents that are not ids', (m) => ((m.sessions[0].parents = ['x']), m), /parents/],
    ['a bad time', (m) => ((m.sessions[0].created_at = 'yesterday'), m), /ISO time/],
    ['objects that are not a list', (m) => ((m.objects = {}), m), /objects is not a list/],
    ['an object outside the store', (m) => ((m.objects = [{ ...OBJECT, path: `sessions/${OBJECT.sha256}` }]), m), /not rollout-objects/],
    ['an object climbing out', (m) => ((m.objects = [{ ...OBJECT, path: `rollout-objects/../${OBJECT.sha256}` }]), m), /not rollout-objects/],
    ['an object in the wrong fan-out', (m) => ((m.objects = [{ ...OBJECT, path: `rollout-objects/00/${OBJECT.sha256}` }]), m), /not rollout-objects/],
    ['an object not named by its sha256', (m) => ((m.objects = [{ ...OBJECT, sha256: sha(dataA) }]), m), /its sha256 is not its name/],
    ['an object twice', (m) => ((m.objects = [OBJECT, OBJECT]), m), /not in order of path, or one is there twice/],
    ['an object of no size', (m) => ((m.objects = [{ ...OBJECT, size: 1.5 }]), m), /size is not/],
  ];
  for (const [what, mutate, re] of cases) t.throws(() => checkManifest(mutate(base())), re, what);
  t.same(checkManifest({ ...base(), later: 'a key of a later minor version' }).sessions.length, 2);
  t.same(checkManifest({ ...base(), objects: [OBJECT] }).objects, [OBJECT], 'an object of the store, where it belongs');
  t.same(checkManifest(base()).objects, [], 'none: a bundle of before, or of sessions never slimmed');
});

t.test('hostile bundles are refused whole', async (t) => {
  const good = goodMembers();
  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    ['manifest missing', async () => writeTarFile(t, good), /first member is .*, not manifest.json/],
    ['nothing but the end blocks', async () => writeTarFile(t, []), /first member is missing/],
    ['manifest not first', async () => writeTarFile(t, [good[0], ['manifest.json', manifestBytes(goodSessions())], good[1]]), /first member is/],
    ['manifest not JSON', async () => bundleFile(t, Buffer.from('{'), good), /not valid JSON/],
    [
      'a size mismatch',
      async () => bundleFile(t, goodSessions(), [[pathA, Buffer.concat([dataA, Buffer.from('x')])], good[1]]),
      /is 25 bytes; manifest.json says 24/,
    ],
    ['a checksum mismatch', async () => bundleFile(t, goodSessions(), [[pathA, Buffer.from(dataA.toString().replace('meta', 'mETA'))], good[1]]), /SHA-256/],
    ['a member not listed', async () => bundleFile(t, goodSessions(), [...good, [`sessions/rollout-2025-05-01-${A}.json`, dataA]]), /not in manifest.json/],
    ['a member missing', async () => bundleFile(t, goodSessions(), [good[0]]), /is missing/],
    ['members out of order', async () => bundleFile(t, goodSessions(), [good[1], good[0]]), /where manifest.json lists/],
    [
      'an id the manifest lies about',
      async () => {
        const lying = goodSessions();
        lying[0].id = '0199a213-81c0-7800-8aa1-bbab2a035a50';
        return bundleFile(t, lying, good);
      },
      /the file name says session/,
    ],
    [
      'truncated',
      async () => {
        const file = await bundleFile(t, goodSessions(), good);
        writeFileSync(file, readFileSync(file).subarray(0, 512 * 4 + 10));
        return file;
      },
      /truncated/,
    ],
    [
      'a truncated zstd stream',
      async () => {
        const file = await bundleFile(t, goodSessions(), good);
        spawnSync('zstd', ['-q', '-f', file]);
        writeFileSync(`${file}.zst`, readFileSync(`${file}.zst`).subarray(0, 60));
        return `${file}.zst`;
      },
      /truncated|corrupt/,
    ],
    ['a symlink', async () => gnuBundle(t, (dir, p) => symlinkSync('/etc/passwd', join(dir, p))), /is a symbolic link/],
    [
      'a hard link',
      async () =>
        gnuBundle(
          t,
          (dir, p) => {
            writeFileSync(join(dir, p), dataA);
            linkSync(join(dir, p), join(dir, pathB));
          },
          [pathA, pathB],
        ),
      /is a hard link/,
    ],
    ['a FIFO', async () => gnuBundle(t, (dir, p) => spawnSync('mkfifo', [join(dir, p)])), /is a FIFO/],
    ['a device', async () => gnuBundle(t, () => {}, '/dev/null'), /is a character device/],
    [
      'an absolute path',
      async () =>
        gnuBundle(
          t,
          (dir, p) => writeFileSync(join(dir, p), dataA),
          (dir) => join(dir, pathA),
        ),
      /has an absolute path/,
    ],
    [
      'a climbing path',
      async () =>
        gnuBundle(
          t,
          (dir, p) => writeFileSync(join(dir, p), dataA),
          () => `../${pathA}`,
          'inner',
        ),
      /has a '\.\.' component/,
    ],
  ];
  for (const [what, make, re] of cases) await t.rejects(checkBundle(await make()), re, what);
});

async function writeTarFile(t: Test, members: Array<[string, Buffer]>): Promise<string> {
  const file = join(tmpDir(t), 'raw.tar');
  writeFileSync(file, await tarOf(members));
  return file;
}

/**
 * A bundle made by GNU tar (-P keeps absolute and climbing names as given): a good manifest, then
 * A's file as `make` leaves it (a link, a FIFO...), or the member `extra` names instead; run in
 * `dir/sub` when asked.
 */
function gnuBundle(t: Test, make: (dir: string, path: string) => void, extra?: string | string[] | ((dir: string) => string), sub = ''): string {
  const dir = tmpDir(t);
  const cwd = join(dir, sub);
  mkdirSync(join(dir, dirname(pathA)), { recursive: true });
  mkdirSync(join(dir, 'archived_sessions'), { recursive: true });
  mkdirSync(cwd, { recursive: true });
  writeFileSync(join(cwd, 'manifest.json'), manifestBytes(goodSessions()));
  make(dir, pathA);
  const chosen = typeof extra === 'function' ? extra(dir) : (extra ?? pathA);
  const r = spawnSync('tar', ['--format=pax', '-P', '-cf', 'b.tar', 'manifest.json', ...(Array.isArray(chosen) ? chosen : [chosen])], { cwd });
  t.equal(r.status, 0, `GNU tar made the bundle: ${r.stderr.toString()}`);
  return join(cwd, 'b.tar');
}

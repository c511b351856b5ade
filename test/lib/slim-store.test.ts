// The object store of a home: each blob once, sessions slimmed and restored in place and proven
// against their records, a damaged or missing object refused before anything is touched, and what
// a collection may remove.
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { codexHome } from '../../lib/home/paths.js';
import { restoreFile, rolloutIdOf, slimFile } from '../../lib/slim/file.js';
import { markedObjects } from '../../lib/core/blob-marker.js';
import { planGc } from '../../lib/slim/gc.js';
import { ObjectStore } from '../../lib/slim/store.js';
import { tmpDir, uuidv7, writeRaw, zstd } from '../helpers/fixtures.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const at = '"timestamp":"2026-08-21T09:12:40.121Z"';
const dataUrl = (n: number, seed: number) => {
  const b = Buffer.alloc(n);
  Buffer.from('89504e470d0a1a0a', 'hex').copy(b);
  for (let i = 8; i < n; i++) b[i] = (i * 13 + seed) & 0xff;
  return `data:image/png;base64,${b.toString('base64')}`;
};
const meta = (id: string) =>
  `{${at},"type":"session_meta","payload":{"id":"${id}","timestamp":"2026-08-21T09:12:31.004Z","cwd":"/tmp","originator":"codex_cli_rs","cli_version":"0.169.0","source":"cli","model_provider":"openai","base_instructions":null}}`;
const userImage = (url: string) =>
  `{${at},"type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"look"},{"type":"input_image","image_url":${JSON.stringify(url)}}]}}`;
const assistant = (text: string) =>
  `{${at},"type":"response_item","payload":{"type":"message","role":"assistant","content":[{"type":"output_text","text":${JSON.stringify(text)}}]}}`;

function homeWith(t: { teardown(fn: () => void): void }) {
  const dir = tmpDir(t);
  return { dir, home: codexHome(dir) };
}

const sessionFile = (home: string, id: string, lines: string[], where = 'sessions/2026/08/21') =>
  writeRaw(home, `${where}/rollout-2026-08-21T09-12-31-${id}.jsonl`, lines.join('\n') + '\n');

t.test('slimmed in place, each image stored once, restored byte for byte and proven', async (t) => {
  const { dir, home } = homeWith(t);
  const store = new ObjectStore(home);
  const img = dataUrl(20000, 1);
  const a = uuidv7();
  const b = uuidv7();
  const pa = sessionFile(dir, a, [meta(a), userImage(img), assistant('a cat'), userImage(dataUrl(8000, 2))]);
  const pb = sessionFile(dir, b, [meta(b), userImage(img), assistant('the same cat')], 'archived_sessions');
  const origA = readFileSync(pa);
  const origB = readFileSync(pb);

  const sa = await slimFile(pa, store);
  const sb = await slimFile(pb, store);
  t.equal(sa!.result.blobs.length, 2);
  t.equal(sb!.result.blobs.length, 1);
  t.same(store.objects().sort(), [sha(img.slice(0)), sa!.result.blobs[1].sha256].sort(), 'the image both hold is one object');
  t.equal(readFileSync(store.objectPath(sha(img))).toString(), img, 'an object is the string as it stood, named by its hash');
  t.ok(readFileSync(pa).length < origA.length - 20000);
  t.same(sa!.record!.segments, [{ at: 0, bytes: origA.length, sha256: sha(origA), markers: sa!.result.blobs.map((x) => x.at) }]);
  t.same(readdirSync(join(dir, 'rollout-objects')).sort(), [sha(img).slice(0, 2), sa!.result.blobs[1].sha256.slice(0, 2), 'slimmed'].sort());
  t.equal(await slimFile(pa, store), null, 'slimming again finds nothing and leaves the file');

  const ra = await restoreFile(pa, store);
  t.ok(ra.proven);
  t.ok(readFileSync(pa).equals(origA), 'restored byte for byte');
  const rb = await restoreFile(pb, store);
  t.ok(rb.proven);
  t.ok(readFileSync(pb).equals(origB));
});

t.test('appended to and slimmed again: a compaction that copied a marker keeps it; the restore is proven', async (t) => {
  const { dir, home } = homeWith(t);
  const store = new ObjectStore(home);
  const id = uuidv7();
  const path = sessionFile(dir, id, [meta(id), userImage(dataUrl(9000, 3))]);
  const original = readFileSync(path);
  const first = await slimFile(path, store);
  const slimmedLine = readFileSync(path, 'utf8').split('\n')[1];
  const marker = JSON.parse(slimmedLine).payload.content[1].image_url as string;
  // Codex resumed the session: a compaction copied the history (with the marker), a new image came.
  const compacted = `{${at},"type":"compacted","payload":{"message":"","replacement_history":[${JSON.stringify(JSON.parse(slimmedLine).payload)}]}}`;
  const appended = [compacted, userImage(dataUrl(7000, 4))].join('\n') + '\n';
  appendFileSync(path, appended);
  const second = await slimFile(path, store);
  t.equal(second!.result.blobs.length, 1, 'only the new image');
  t.equal(second!.record!.segments.length, 2);
  t.equal(second!.record!.segments[1].at, original.length);
  t.ok(readFileSync(path, 'utf8').includes(marker));
  // Codex appends once more after the last slimming.
  appendFileSync(path, assistant('done') + '\n');
  const r = await restoreFile(path, store);
  t.ok(r.proven);
  t.equal(r.restored.length, 2, 'the copy in the compaction was written as a marker, and stays one');
  t.equal(readFileSync(path, 'utf8'), original.toString() + appended + assistant('done') + '\n');
  void first;
});

t.test('a damaged or missing object: restore fails and touches nothing; a changed file is restored without the proof', async (t) => {
  const { dir, home } = homeWith(t);
  const store = new ObjectStore(home);
  const id = uuidv7();
  const img = dataUrl(9000, 5);
  const path = sessionFile(dir, id, [meta(id), userImage(img), assistant('x')]);
  await slimFile(path, store);
  const slimmed = readFileSync(path);
  const object = store.objectPath(sha(img));

  writeFileSync(object, img.replace('A', 'B'));
  await t.rejects(restoreFile(path, store), /does not hash to its name/);
  t.ok(readFileSync(path).equals(slimmed), 'the file is as it was');
  writeFileSync(object, img.slice(1));
  await t.rejects(restoreFile(path, store), /damaged/);
  rmSync(object);
  await t.rejects(restoreFile(path, store), /missing/);
  t.ok(readFileSync(path).equals(slimmed));
  t.same(
    readdirSync(join(dir, 'sessions/2026/08/21')).filter((n) => n.startsWith('.')),
    [],
    'no temp file left',
  );

  writeFileSync(object, img);
  writeFileSync(path, slimmed.toString().replace('"look"', '"LOOK"'));
  const changed = await restoreFile(path, store);
  t.match(changed, { stale: true, proven: false }, 'the record proves nothing of a changed file');
  t.equal(changed.restored.length, 1);
  t.equal(
    readFileSync(path).toString(),
    sessionFileBytes([meta(id), userImage(img), assistant('x')])
      .toString()
      .replace('"look"', '"LOOK"'),
    'the image back, the change kept',
  );
  t.notOk(existsSync(store.recordPath(rolloutIdOf(path))), 'and the stale record gone');

  // Slimmed again, then changed, then slimmed once more: the stale record goes, and none is written
  // (one would restore only that slimming's markers); a restore then replaces every marker.
  await slimFile(path, store);
  writeFileSync(path, readFileSync(path, 'utf8').replace('"LOOK"', '"look"') + userImage(dataUrl(8000, 6)) + '\n');
  const again = await slimFile(path, store);
  t.equal(again!.result.blobs.length, 1, 'only the new image');
  t.equal(again!.result.markers, 1, 'the marker of the first slimming is seen');
  t.equal(again!.record, null, 'no record');
  t.notOk(existsSync(store.recordPath(rolloutIdOf(path))));
  const whole = await restoreFile(path, store);
  t.match(whole, { stale: false, proven: false });
  t.equal(whole.restored.length, 2, 'both images back in one restore');
  t.equal(readFileSync(path).toString(), sessionFileBytes([meta(id), userImage(img), assistant('x'), userImage(dataUrl(8000, 6))]).toString());
});

const sessionFileBytes = (lines: string[]) => Buffer.from(lines.join('\n') + '\n');

t.test('gc: objects no rollout refers to, found by a byte search through both roots and .zst files', async (t) => {
  const { dir, home } = homeWith(t);
  const store = new ObjectStore(home);
  const [a, b, c] = [uuidv7(), uuidv7(), uuidv7()];
  const imgs = [dataUrl(6000, 6), dataUrl(6000, 7), dataUrl(6000, 8)];
  const pa = sessionFile(dir, a, [meta(a), userImage(imgs[0])]);
  const pb = sessionFile(dir, b, [meta(b), userImage(imgs[1])], 'archived_sessions');
  const pc = sessionFile(dir, c, [meta(c), userImage(imgs[2])]);
  for (const p of [pa, pb, pc]) await slimFile(p, store);
  // b compressed, as Codex's compressor leaves it; c deleted by Codex.
  writeFileSync(`${pb}.zst`, zstd(readFileSync(pb)));
  rmSync(pb);
  const quoted = readFileSync(pc, 'utf8').split('\n')[1];
  rmSync(pc);
  t.same(
    [
      ...(await markedObjects(
        (async function* () {
          yield readFileSync(pa);
        })(),
      )),
    ],
    [sha(imgs[0])],
  );
  const plan = await planGc(home, store);
  t.same([...plan.referenced].sort(), [sha(imgs[0]), sha(imgs[1])].sort());
  t.same(plan.unreferenced, [sha(imgs[2])]);
  t.same(plan.orphanRecords, [c]);
  t.equal(plan.files, 2);
  // A marker quoted inside a tool's output (escaped JSON: rollout-cat's output, say) still keeps its object.
  writeRaw(
    dir,
    `sessions/2026/08/21/rollout-2026-08-21T09-12-31-${c}.jsonl`,
    `${meta(c)}\n{${at},"type":"response_item","payload":{"type":"function_call_output","call_id":"x","output":${JSON.stringify(quoted)}}}\n`,
  );
  t.same((await planGc(home, store)).unreferenced, []);
  t.ok(existsSync(store.objectPath(sha(imgs[2]))), 'listing removes nothing');
});

t.test('a .zst session is slimmed and restored as a .zst', async (t) => {
  const { dir, home } = homeWith(t);
  const store = new ObjectStore(home);
  const id = uuidv7();
  const plain = sessionFileBytes([meta(id), userImage(dataUrl(30000, 9))]);
  const path = writeRaw(dir, `archived_sessions/rollout-2026-08-21T09-12-31-${id}.jsonl.zst`, zstd(plain));
  const s = await slimFile(path, store);
  t.equal(s!.result.blobs.length, 1);
  t.same(readFileSync(path).subarray(0, 4), Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), 'still zstd');
  const r = await restoreFile(path, store);
  t.ok(r.proven);
  t.equal(r.output.sha256, sha(plain));
});

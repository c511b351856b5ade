// rollout-slim's proof against the real Codex CLI (the pinned release, or CODEX_VERSION) (offline, through the loopback mock): a
// session with a user's image attachment and a `view_image` tool output, both written by Codex, is
// slimmed; Codex then resumes it, and the model receives the marker image where each picture was and
// the rest of the history as before; `codex doctor` finds nothing new; a restore gives back the file
// Codex wrote, followed by what it appended since. Bundled slimmed, it carries its objects to another
// home, where it is restored and Codex resumes it with the original pictures.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ndjson, run } from '../helpers/fixtures.js';
import { noisyPng } from '../helpers/images.js';
import { doctorParity, interop, makeHome, mockedHome, PARITY_PROBLEMS, runCodexOk, sessionIdOf } from './codex.js';
import { userTexts } from './mock-responses.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Every image URL a request sends the model: in messages and in tool outputs. */
function imagesSent(body: any): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'input_image' && typeof o.image_url === 'string') out.push(o.image_url);
      Object.values(o).forEach(walk);
    }
  };
  walk(body?.input);
  return out;
}

await interop(t, async () => {
  await t.test('a slimmed session resumes in Codex, and restores to what Codex wrote', async (t) => {
    const { mock, home, work } = await mockedHome(t, 'rollout-slim-interop-');
    // Two real pictures, too large to be kept inline by default: one attached, one the model asks to see.
    fs.writeFileSync(path.join(work, 'screen.png'), noisyPng(80, 'a screenshot'));
    fs.writeFileSync(path.join(work, 'chart.png'), noisyPng(70, 'a chart'));
    const codex = (args: string[]) => runCodexOk(home, ['exec', '--skip-git-repo-check', ...args], { cwd: work, timeoutMs: 90_000 });
    const env = { CODEX_HOME: home, ROLLOUT_INDEX: '' };

    mock.enqueue(
      { items: [{ type: 'function_call', name: 'view_image', call_id: 'call_view_1', arguments: JSON.stringify({ path: path.join(work, 'chart.png') }) }] },
      { text: 'Both pictures are noise.' },
    );
    const id = sessionIdOf((await codex([`--image=${path.join(work, 'screen.png')}`, 'IMG1 what is on this screen? look at chart.png too'])).stderr);
    const file = ndjson(run('rollout-ls', ['--json'], { env }).out).find((r) => r.id === id)!.path as string;
    const written = fs.readFileSync(file);
    const firstTurn = mock.responses().at(-1)!.body;
    const sentBefore = imagesSent(firstTurn);
    t.ok(sentBefore.length >= 2, `Codex sent the attachment and the tool's picture (${sentBefore.length} images)`);
    const before = await doctorParity(home, work);

    // Codex removes a thread's writer lock when it exits; the file is a minute old at most.
    const r = run('rollout-slim', ['--grace', '0'], { env });
    t.equal(r.code, 0, r.err);
    const [line] = ndjson(r.out);
    t.equal(line?.action, 'slim', r.out);
    t.ok(line.blobs >= 2, `both pictures taken out (${line.blobs} blobs, with their copies in events)`);
    t.ok(fs.statSync(file).size < written.length - 20_000, `the file shrank (${written.length} to ${fs.statSync(file).size} bytes)`);

    const p = await doctorParity(home, work);
    t.equal(p.status, before.status, `doctor: ${p.summary}`);
    for (const k of PARITY_PROBLEMS) t.equal(p.details[k] ?? '0', before.details[k] ?? '0', `doctor: no new "${k}"`);

    // Codex resumes the slimmed session: the model gets the whole history, a marker where each picture was.
    mock.enqueue({ text: 'Still noise.' });
    await codex(['resume', id, 'IMG2 and now?']);
    const resumed = mock.responses().at(-1)!.body;
    t.same(userTexts(resumed).slice(0, userTexts(firstTurn).length), userTexts(firstTurn), 'the first turn is sent as before');
    t.ok(userTexts(resumed).includes('IMG2 and now?'), 'with the new prompt');
    const sent = imagesSent(resumed);
    t.equal(sent.length, sentBefore.length, 'as many images as before');
    for (const url of sent) {
      t.notOk(sentBefore.includes(url), 'not the original picture');
      t.ok(url.length < 1000, `a small marker image (${url.length} bytes)`);
      t.match(
        Buffer.from(url.split(',')[1], 'base64').toString('latin1'),
        /rollout-slim v1 kind=image media=image\/png bytes=\d+ sha256=[0-9a-f]{64}/,
        'that says what was there',
      );
    }
    const exported = run('rollout-export', ['--format', 'md', id], { env });
    t.equal(exported.code, 0, exported.err);
    t.match(exported.out, /\[Image\]/, 'rollout-export shows where the image was');

    // Restored: the file Codex wrote, then the turn it appended after the slimming, as it wrote it.
    const grown = fs.readFileSync(file);
    const b = run('rollout-slim', ['--restore', '--grace', '0'], { env });
    t.equal(b.code, 0, b.err);
    const restored = fs.readFileSync(file);
    t.equal(sha(restored.subarray(0, written.length)), sha(written), 'the original bytes, byte for byte');
    t.ok(restored.length > written.length, 'and the resumed turn after them');
    t.ok(grown.length < restored.length, 'its pictures put back');
    const again = await doctorParity(home, work);
    t.equal(again.status, before.status, `doctor after the restore: ${again.summary}`);
    mock.enqueue({ text: 'Noise, restored.' });
    await codex(['resume', id, 'IMG3 once more']);
    t.same(imagesSent(mock.responses().at(-1)!.body), sentBefore, 'after a restore Codex sends the original pictures again');

    // Moving machines: slimmed again, bundled with its objects, imported into another home, restored
    // there byte for byte, and resumed there by Codex with the original pictures.
    const beforeMove = fs.readFileSync(file);
    t.equal(run('rollout-slim', ['--grace', '0'], { env }).code, 0);
    const tar = path.join(path.dirname(home), 'move.tar');
    const bundled = run('rollout-bundle', ['-o', tar, id], { env });
    t.equal(bundled.code, 0, bundled.err);
    t.match(bundled.err, /object/, 'the objects go with it');
    const other = makeHome(path.join(path.dirname(home), 'other-home'), mock.url);
    const otherEnv = { CODEX_HOME: other, ROLLOUT_INDEX: '' };
    const imported = run('rollout-unbundle', [tar], { env: otherEnv });
    t.equal(imported.code, 0, imported.err);
    const put = run('rollout-slim', ['--restore', '--grace', '0'], { env: otherEnv });
    t.equal(put.code, 0, put.err);
    const moved = path.join(other, path.relative(home, file));
    t.equal(sha(fs.readFileSync(moved)), sha(beforeMove), 'restored in the other home, byte for byte');
    mock.enqueue({ text: 'Noise, elsewhere.' });
    await runCodexOk(other, ['exec', '--skip-git-repo-check', 'resume', id, 'IMG4 on the other machine'], { cwd: work, timeoutMs: 90_000 });
    t.same(imagesSent(mock.responses().at(-1)!.body), sentBefore, 'Codex in the other home sends the original pictures');
  });
});

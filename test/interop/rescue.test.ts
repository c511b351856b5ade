// Rescue, proven against the real Codex CLI (the pinned release, or CODEX_VERSION) (offline, through the loopback mock): sessions that
// a byte-order mark, bad UTF-8 or a torn write made Codex refuse or truncate resume in full after
// `rollout-fsck --repair`; a name set by `rollout-name` resumes with `codex exec resume "<name>"`.
// Everything happens in a home of this test's own; the damage is done to copies Codex wrote there.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { ndjson, run } from '../helpers/fixtures.js';
import { ALL_SOURCE_KINDS, appServer, interop, mockedHome, runCodex, sessionIdOf } from './codex.js';
import { userTexts } from './mock-responses.js';

await interop(t, main);

async function main() {
  const { mock, home, work } = await mockedHome(t, 'rollout-rescue-interop-');
  const codex = (args: string[]) => runCodex(home, ['exec', '--skip-git-repo-check', ...args], { cwd: work, timeoutMs: 90_000 });
  const resume = (ref: string, prompt: string) => runCodex(home, ['exec', 'resume', '--skip-git-repo-check', ref, prompt], { cwd: work, timeoutMs: 90_000 });

  /** A two-turn session written by real Codex; its id and file. */
  async function session(first: string, second: string): Promise<{ id: string; file: string }> {
    const r = await codex([first]);
    if (r.code !== 0) throw new Error(`codex exec: ${r.stderr}`);
    const id = sessionIdOf(r.stderr);
    if ((await resume(id, second)).code !== 0) throw new Error('codex exec resume failed on a sound session');
    const check = run('rollout-fsck', [id, '--codex-home', home]);
    if (check.code !== 0) throw new Error(`the session Codex wrote is not sound: ${check.out}${check.err}`);
    return { id, file: pathOf(id) };
  }
  const pathOf = (id: string) => {
    const walk = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    return walk(path.join(home, 'sessions')).find((p) => p.includes(id) && p.endsWith('.jsonl'))!;
  };

  /** Resumes the session and returns the user prompts the model was sent (null when Codex made no request). */
  async function promptsSent(ref: string, prompt: string): Promise<{ code: number | null; sent: string[] | null; stderr: string }> {
    const before = mock.responses().length;
    const r = await resume(ref, prompt);
    const request = mock.responses()[before];
    return { code: r.code, sent: request ? userTexts(request.body).filter((text) => /\bprompt\b/.test(text)) : null, stderr: r.stderr };
  }

  const lineBytes = (file: string) => {
    const bytes = fs.readFileSync(file);
    const lines: Buffer[] = [];
    for (let at = 0; at < bytes.length;) {
      const nl = bytes.indexOf(0x0a, at);
      lines.push(bytes.subarray(at, nl + 1));
      at = nl + 1;
    }
    return lines;
  };
  const promptLine = (lines: Buffer[], text: string) => lines.findIndex((l) => l.includes(`"role":"user"`) && l.includes(text));

  const bom = await session('B first prompt', 'B second prompt');
  const utf8 = await session('U first caf\u00e9 prompt', 'U second prompt');
  const torn = await session('T first prompt', 'T second prompt');

  // A byte-order mark in front of the session_meta (#28139).
  fs.writeFileSync(bom.file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fs.readFileSync(bom.file)]));
  // A multi-byte character cut in the middle (#36802): the é of the first prompt loses its second byte.
  {
    const lines = lineBytes(utf8.file);
    const n = promptLine(lines, 'U first caf');
    const at = lines[n].indexOf(Buffer.from('\u00e9'));
    lines[n] = Buffer.concat([lines[n].subarray(0, at + 1), lines[n].subarray(at + 2)]);
    fs.writeFileSync(utf8.file, Buffer.concat(lines));
  }
  // A torn write that the next record was appended to (#24425, Codex before July 2026): the line
  // before the first prompt is cut short, and the prompt's record follows it on the same line.
  {
    const lines = lineBytes(torn.file);
    const n = promptLine(lines, 'T first prompt');
    lines[n - 1] = lines[n - 1].subarray(0, 40);
    fs.writeFileSync(torn.file, Buffer.concat(lines));
  }
  const damaged = [bom, utf8, torn];

  t.test('damaged, Codex refuses or loses them', async (t) => {
    const b = await promptsSent(bom.id, 'B broken prompt');
    t.not(b.code, 0, 'a BOM: resume fails');
    t.match(b.stderr, 'does not start with session metadata');
    const u = await promptsSent(utf8.id, 'U broken prompt');
    t.notOk(
      u.sent?.some((p) => p.startsWith('U first')),
      'bad UTF-8: the first prompt is lost to the model',
    );
    const w = await promptsSent(torn.id, 'T broken prompt');
    t.notOk(
      w.sent?.some((p) => p.startsWith('T first')),
      'a torn write: the first prompt is lost to the model',
    );
  });

  t.test('rollout-fsck finds the damage', async (t) => {
    const r = run('rollout-fsck', ['--codex-home', home]);
    t.equal(r.code, 1);
    const found = ndjson(r.out);
    t.same(
      found.filter((p) => p.id === bom.id).map((p) => [p.problem, p.fix]),
      [['bom', 'drop_bom']],
    );
    t.same(
      found.filter((p) => p.id === utf8.id).map((p) => [p.problem, p.fix]),
      [['invalid_utf8', 'replace_bytes']],
    );
    t.same(
      found.filter((p) => p.id === torn.id && p.problem === 'not_json').map((p) => p.fix),
      ['split_line'],
      'Codex itself appended a newline after the torn line, then our prompt record',
    );
  });

  t.test('after rollout-fsck --repair, each resumes with its turns', async (t) => {
    // Old enough for --repair's default grace period, as a session someone comes back to would be.
    const old = new Date(Date.now() - 3600_000);
    for (const s of damaged) fs.utimesSync(s.file, old, old);
    const r = run('rollout-fsck', ['--repair', '--codex-home', home]);
    const repaired = ndjson(r.out).filter((l) => l.action === 'repair');
    t.same(new Set(repaired.map((l) => l.id)), new Set(damaged.map((s) => s.id)), `every damaged session repaired (${r.err})`);
    for (const s of damaged) t.ok(fs.existsSync(path.join(home, 'rollout-backup', path.relative(home, s.file))), 'the original is in the backup');

    const b = await promptsSent(bom.id, 'B repaired prompt');
    t.equal(b.code, 0, b.code === 0 ? 'resumes' : b.stderr);
    t.same(b.sent, ['B first prompt', 'B second prompt', 'B repaired prompt']);
    const u = await promptsSent(utf8.id, 'U repaired prompt');
    t.equal(u.code, 0, u.code === 0 ? 'resumes' : u.stderr);
    t.same(u.sent?.slice(0, 1), ['U first caf\ufffd prompt'], 'the first prompt is back, the lost byte as U+FFFD');
    const w = await promptsSent(torn.id, 'T repaired prompt');
    t.equal(w.code, 0, w.code === 0 ? 'resumes' : w.stderr);
    t.same(w.sent?.slice(0, 1), ['T first prompt'], 'the record the torn write ran into is back');
  });

  t.test('a name set by rollout-name resumes with codex exec resume "<name>"', async (t) => {
    const named = await session('N first prompt', 'N second prompt');
    const r = run('rollout-name', [named.id, 'rescued by name', '--codex-home', home]);
    t.equal(r.code, 0, r.err);
    const byName = await promptsSent('rescued by name', 'N named prompt');
    t.equal(byName.code, 0, byName.code === 0 ? 'resumes' : byName.stderr);
    t.same(byName.sent, ['N first prompt', 'N second prompt', 'N named prompt'], 'the named session, not another');
    const server = await appServer(home, { cwd: work });
    t.teardown(() => server.close());
    const list = await server.request('thread/list', { sourceKinds: ALL_SOURCE_KINDS, modelProviders: [], limit: 100 });
    t.equal(list.data.find((th: any) => th.id === named.id)?.name, 'rescued by name', "Codex's thread list shows the name");
    t.equal(run('rollout-name', ['--clear', named.id, '--codex-home', home]).code, 0);
    const cleared = await server.request('thread/read', { threadId: named.id });
    t.equal(cleared.thread.name, null, 'cleared for Codex too');
  });
}

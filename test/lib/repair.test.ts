// rollout-fsck --repair: each fix, that nothing is lost (backup, .rejected), and when it refuses.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { fsck, type FileReport } from '../../lib/fsck/check.js';
import { codexHome, fileAt } from '../../lib/home/paths.js';
import { repairFile, type RepairOptions } from '../../lib/fsck/repair.js';
import { Resolver } from '../../lib/home/resolve.js';
import { tmpDir, writeSession, zstd } from '../helpers/fixtures.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const text = (lines: string[]) => Buffer.from(lines.map((l) => l + '\n').join(''));
const OLD = new Date('2026-09-01T12:00:00Z');

async function reports(dir: string): Promise<FileReport[]> {
  const out: FileReport[] = [];
  for await (const r of fsck(new Resolver(codexHome(dir, {})))) {
    if (r.error) throw r.error as Error;
    out.push(r);
  }
  return out;
}

const problems = async (dir: string) => (await reports(dir)).flatMap((r) => r.problems.map((p) => p.problem));

function options(dir: string, more: Partial<RepairOptions> = {}): RepairOptions {
  return { backup: join(dir, 'rollout-backup'), dryRun: false, graceMs: 10 * 60_000, now: Date.now(), ...more };
}

/** Repairs every file of the home; the results of those with fixable problems. */
async function repairAll(dir: string, more: Partial<RepairOptions> = {}) {
  const out = [];
  for (const r of await reports(dir)) {
    const done = await repairFile(codexHome(dir, {}), r, options(dir, more));
    if (done) out.push(done);
  }
  return out;
}

/** Writes `bytes` as the session's file, old enough to be repaired, with an odd mode to see it kept. */
function damage(path: string, bytes: Buffer) {
  writeFileSync(path, bytes);
  chmodSync(path, 0o640);
  utimesSync(path, OLD, OLD);
}

t.test('every line-level fix at once; the original is backed up and the rejected lines kept', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { history: 'paginated', turns: [{ user: 'caf\u00e9' }, { user: 'second' }] });
  const lines = s.lines.map((l) => Buffer.from(l));
  const n = s.lines.findIndex((l) => l.includes('caf\u00e9'));
  const e9 = lines[n].indexOf(Buffer.from('\u00e9'));
  lines[n] = Buffer.concat([lines[n].subarray(0, e9 + 1), lines[n].subarray(e9 + 2)]);
  const garbage = Buffer.from('{"timestamp":"2026-08-20T14:03:09.000Z","ordinal":');
  const torn = Buffer.from('{"timestamp":"2026-08-20T14:09:00.000Z","ordinal":99,"type":"event_m');
  const original = Buffer.concat([
    BOM,
    ...lines.slice(0, 8).flatMap((l) => [l, Buffer.from('\n')]),
    garbage,
    Buffer.from('\n'),
    ...lines.slice(9).flatMap((l) => [l, Buffer.from('\n')]),
    torn,
  ]);
  damage(s.path, original);
  t.same(await problems(dir), ['bom', 'invalid_utf8', 'not_json', 'torn_line']);

  const [done] = await repairAll(dir);
  const backup = join(dir, 'rollout-backup', relative(dir, s.path));
  t.same(done, {
    action: 'repair',
    id: s.id,
    path: s.path,
    fixed: ['bom', 'invalid_utf8', 'not_json', 'torn_line'],
    backup: [backup],
    rejected: `${s.path}.rejected`,
    rejected_lines: 2,
    removed: [],
    dry_run: false,
  });
  t.same(readFileSync(backup), original, 'the backup is the original, byte for byte');
  t.same(readFileSync(`${s.path}.rejected`), Buffer.concat([garbage, Buffer.from('\n'), torn, Buffer.from('\n')]), 'both lines taken out are kept');
  const repaired = readFileSync(s.path);
  t.same(repaired.subarray(0, 3).equals(BOM), false, 'the BOM is gone');
  const want = [...s.lines.slice(0, 8), ...s.lines.slice(9)].map((l, i) => (i === n ? l.replace('caf\u00e9', 'caf\ufffd') : l));
  t.equal(repaired.toString(), want.map((l) => l + '\n').join(''), 'every other line as it was; the bad byte became U+FFFD');
  const st = statSync(s.path);
  t.equal(st.mode & 0o777, 0o640, 'mode kept');
  t.equal(st.mtimeMs, OLD.getTime(), 'mtime kept');
  // The record the garbage replaced is gone for good: its ordinal is now a gap no rejected line covers.
  t.same(await problems(dir), ['ordinal_gap'], 'nothing repairable is left; the lost record shows as a gap');
  t.same(await repairAll(dir), [], 'a second run finds nothing to do');
});

t.test('a whole last line without a newline gets one', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { turns: [{ user: 'hi' }] });
  damage(s.path, text(s.lines).subarray(0, -1));
  const [done] = await repairAll(dir);
  t.same(done.action === 'repair' && [done.fixed, done.rejected], [['torn_line'], null]);
  t.same(readFileSync(s.path), text(s.lines));
  t.notOk(existsSync(`${s.path}.rejected`));
});

t.test('a torn write that ran into the next record: the record is kept, the torn part rejected', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { history: 'paginated', turns: [{ user: 'hi' }] });
  const torn = s.lines[2].slice(0, 45);
  damage(s.path, text([s.lines[0], s.lines[1], torn + s.lines[3], ...s.lines.slice(4)]));
  const [done] = await repairAll(dir);
  t.same(done.action === 'repair' && [done.fixed, done.rejected_lines], [['not_json'], 1]);
  t.equal(readFileSync(`${s.path}.rejected`, 'utf8'), torn + '\n');
  t.same(readFileSync(s.path), text([s.lines[0], s.lines[1], ...s.lines.slice(3)]));
  t.same(await problems(dir), ['ordinal_gap'], 'the torn record itself is lost');
});

t.test('.rejected is appended to, never replaced', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { turns: [{ user: 'hi' }] });
  damage(s.path, text([s.lines[0], 'first bad', ...s.lines.slice(1)]));
  await repairAll(dir);
  damage(s.path, text([s.lines[0], 'second bad', ...s.lines.slice(1)]));
  await repairAll(dir);
  t.equal(readFileSync(`${s.path}.rejected`, 'utf8'), 'first bad\nsecond bad\n');
  t.same(readFileSync(join(dir, 'rollout-backup', relative(dir, s.path)), 'utf8').split('\n')[1], 'first bad', 'the first backup stays');
  t.same(readFileSync(join(dir, 'rollout-backup', relative(dir, s.path)) + '.1', 'utf8').split('\n')[1], 'second bad', 'the second goes beside it');
});

t.test('a compressed session is repaired into a .zst of the same name', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { history: 'paginated', turns: [{ user: 'hi' }] }, { zst: 'only' });
  const zst = `${s.path}.zst`;
  const broken = zstd(Buffer.concat([BOM, text(s.lines), Buffer.from('{"torn')]));
  damage(zst, broken);
  const [done] = await repairAll(dir);
  t.same(done.action === 'repair' && [done.fixed, done.backup], [['bom', 'torn_line'], [join(dir, 'rollout-backup', relative(dir, zst))]]);
  t.notOk(existsSync(s.path), 'no plain file is left behind');
  const back = spawnSync('zstd', ['-dc', zst]).stdout;
  t.same(back, text(s.lines), 'the .zst holds the repaired lines');
  t.equal(statSync(zst).mtimeMs, OLD.getTime(), 'mtime kept');
  t.same(readFileSync(join(dir, 'rollout-backup', relative(dir, zst))), broken);
  t.equal(readFileSync(`${s.path}.rejected`, 'utf8'), '{"torn\n');
});

t.test('a stale or unreadable .zst beside a good plain file is removed, after its backup', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { turns: [{ user: 'a' }, { user: 'b' }] }, { zst: true });
  const zst = `${s.path}.zst`;
  const stale = zstd(text(s.lines.slice(0, 4)));
  damage(zst, stale);
  utimesSync(s.path, OLD, OLD);
  const plain = readFileSync(s.path);
  const [done] = await repairAll(dir);
  t.same(done.action === 'repair' && [done.fixed, done.removed], [['zst_mismatch'], [zst]]);
  t.notOk(existsSync(zst));
  t.same(readFileSync(s.path), plain, 'the plain file is untouched');
  t.same(readFileSync(join(dir, 'rollout-backup', relative(dir, zst))), stale);
  t.same(await problems(dir), []);
});

t.test('a plain file that is rewritten takes its identical .zst twin with it', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { turns: [{ user: 'a' }] }, { zst: true });
  const broken = Buffer.concat([BOM, text(s.lines)]);
  damage(s.path, broken);
  damage(`${s.path}.zst`, zstd(broken));
  const [done] = await repairAll(dir);
  t.same(done.action === 'repair' && done.removed, [`${s.path}.zst`]);
  t.same(readFileSync(s.path), text(s.lines));
  t.same(await problems(dir), []);
});

t.test('refusals: fresh files, symlinks; unfixable problems alone do nothing', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { turns: [{ user: 'hi' }] });
  writeFileSync(s.path, Buffer.concat([BOM, text(s.lines)]));
  const [skip] = await repairAll(dir);
  t.same(skip.action === 'skip' && skip.reason, `modified within the grace period (${s.path.split('/').pop()})`);
  t.same(readFileSync(s.path).subarray(0, 3), BOM, 'left as it was');

  // Reached through a symlinked day folder (discovery never follows one; a path given by hand might).
  const outside = tmpDir(t);
  mkdirSync(join(outside, 'day'));
  const real = join(outside, 'day', s.path.split('/').pop()!);
  damage(real, Buffer.concat([BOM, text(s.lines)]));
  symlinkSync(join(outside, 'day'), join(dir, 'sessions/2026/08/19'));
  const via = join(dir, 'sessions/2026/08/19', real.split('/').pop()!);
  const file = await fileAt(codexHome(dir, {}), via);
  const report: FileReport = { file, problems: [{ id: s.id, path: via, line: 1, problem: 'bom', fixable: true, fix: 'drop_bom', detail: '' }] };
  const r = await repairFile(codexHome(dir, {}), report, options(dir));
  t.same(r && r.action === 'skip' && r.reason.includes('symlink'), true);
  t.same(readFileSync(real).subarray(0, 3), BOM);

  const u = writeSession(dir, { start: new Date('2026-08-25T10:00:00Z'), turns: [{ user: 'x' }] });
  damage(u.path, text(u.lines.slice(1)));
  const only = (await reports(dir)).find((x) => x.file.path === u.path)!;
  t.same(
    only.problems.map((p) => p.problem),
    ['no_session_meta'],
  );
  t.equal(await repairFile(codexHome(dir, {}), only, options(dir)), null);
});

t.test('a damaged .zst that cannot be read to its end is not rewritten from', async (t) => {
  const dir = tmpDir(t);
  // Long enough for several zstd blocks: the first ones decompress, and the BOM is seen.
  const s = writeSession(dir, { turns: [{ user: 'a', assistant: 'words '.repeat(100_000) }, { user: 'b' }] }, { zst: 'only' });
  const zst = `${s.path}.zst`;
  const whole = zstd(Buffer.concat([BOM, text(s.lines)]));
  damage(zst, whole.subarray(0, whole.length - 20));
  t.same(await problems(dir), ['bom', 'unreadable_zst']);
  const [r] = await repairAll(dir);
  t.same(r.action === 'skip' && r.reason, 'the .zst cannot be read to its end; nothing is rewritten from it');
  t.same(readFileSync(zst), whole.subarray(0, whole.length - 20));
});

t.test('a dry run says what it would do and changes nothing', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { turns: [{ user: 'hi' }] });
  const broken = text([s.lines[0], 'junk', ...s.lines.slice(1)]);
  damage(s.path, broken);
  const [done] = await repairAll(dir, { dryRun: true });
  t.same(done.action === 'repair' && [done.dry_run, done.rejected, done.rejected_lines], [true, `${s.path}.rejected`, 1]);
  t.same(readFileSync(s.path), broken);
  t.notOk(existsSync(join(dir, 'rollout-backup')));
  t.notOk(existsSync(`${s.path}.rejected`));
});

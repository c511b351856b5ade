// rollout-fsck's checks, one kind of damage at a time, on files written the way Codex writes them.
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { fsck, judgeLine, type Problem } from '../../lib/fsck/check.js';
import { codexHome } from '../../lib/home/paths.js';
import { Resolver } from '../../lib/home/resolve.js';
import { bareLines, tmpDir, uuidv7, writeRaw, writeSession, zstd } from '../helpers/fixtures.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const text = (lines: string[]) => Buffer.from(lines.map((l) => l + '\n').join(''));

async function check(dir: string): Promise<Problem[]> {
  const out: Problem[] = [];
  for await (const r of fsck(new Resolver(codexHome(dir, {})))) {
    if (r.error) throw r.error as Error;
    out.push(...r.problems);
  }
  return out;
}

const brief = (ps: Problem[]) => ps.map((p) => [p.problem, p.line, p.fix]);

/** A paginated session of two turns, and a referenced fork of it cut after its last line (as `codex exec fork` writes). */
function family(dir: string) {
  const parent = writeSession(dir, { history: 'paginated', turns: [{ user: 'one' }, { user: 'two' }] });
  const size = statSync(parent.path).size;
  const cut = parent.lines.length;
  const fork = writeSession(dir, {
    start: new Date('2026-08-20T15:00:00Z'),
    history: 'paginated',
    firstOrdinal: cut,
    meta: { forked_from_id: parent.id, history_base: { thread_id: parent.id, end_ordinal_exclusive: cut, end_byte_offset: size } },
    turns: [{ user: 'three' }],
  });
  return { parent, fork, size, cut };
}

t.test('sound files of every kind have no problems', async (t) => {
  const dir = tmpDir(t);
  family(dir);
  writeSession(dir, { start: new Date('2026-08-01T10:00:00Z'), turns: [{ user: 'legacy' }] });
  writeSession(dir, { start: new Date('2026-08-02T10:00:00Z'), history: 'paginated', turns: [{ user: 'zst' }] }, { zst: 'only' });
  writeSession(dir, { start: new Date('2026-08-03T10:00:00Z'), history: 'paginated', turns: [{ user: 'both' }] }, { zst: true });
  // A reverted thread: two files, one thread id, two rollout ids.
  const rev = writeSession(dir, { start: new Date('2026-08-04T10:00:00Z'), history: 'paginated', turns: [{ user: 'r' }] });
  writeSession(dir, { id: rev.id, start: new Date('2026-08-04T11:00:00Z'), history: 'paginated', turns: [{ user: 'r2' }] }, { rolloutId: uuidv7() });
  const id = '0197f5a6-0000-4000-8000-00000000000c';
  writeRaw(dir, `sessions/2025/08/01/rollout-2025-08-01T10-00-00-${id}.jsonl`, text(bareLines('C', id, ['q', 'a'])));
  t.same(await check(dir), []);
});

t.test('a torn last line: cut off, or whole but without its newline', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { turns: [{ user: 'hi' }] });
  appendFileSync(s.path, '{"timestamp":"2026-08-20T14:09:00.000Z","type":"event_m');
  t.same(brief(await check(dir)), [['torn_line', s.lines.length + 1, 'reject_line']]);
  writeFileSync(s.path, text(s.lines).subarray(0, -1));
  t.same(brief(await check(dir)), [['torn_line', s.lines.length, 'add_newline']]);
});

t.test('a byte-order mark is reported once, and the meta behind it is still read', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { turns: [{ user: 'hi' }] });
  writeFileSync(s.path, Buffer.concat([BOM, readFileSync(s.path)]));
  const ps = await check(dir);
  t.same(brief(ps), [['bom', 1, 'drop_bom']]);
  t.equal(ps[0].id, s.id);
});

t.test('invalid UTF-8: replaceable inside a string, else rejected; the byte offset is exact', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { history: 'paginated', turns: [{ user: 'caf\u00e9 ok' }] });
  const bytes = readFileSync(s.path);
  // Truncate the two-byte é to its first byte: what a cut multi-byte character looks like (#36802).
  const at = bytes.indexOf(Buffer.from('caf\u00e9')) + 3;
  const broken = Buffer.concat([bytes.subarray(0, at + 1), bytes.subarray(at + 2)]);
  writeFileSync(s.path, broken);
  const ps = await check(dir);
  t.same(brief(ps), [['invalid_utf8', s.lines.findIndex((l) => l.includes('caf')) + 1, 'replace_bytes']]);
  t.match(ps[0].detail, `at byte ${at}`);

  // A bad byte between two values is outside any string: no replacement makes that JSON.
  const line = Buffer.from(s.lines[1]);
  const comma = line.indexOf(',');
  writeFileSync(
    s.path,
    Buffer.concat([
      Buffer.from(s.lines[0] + '\n'),
      line.subarray(0, comma),
      Buffer.from([0xff]),
      line.subarray(comma),
      Buffer.from('\n'),
      text(s.lines.slice(2)),
    ]),
  );
  t.same(brief(await check(dir)), [['invalid_utf8', 2, 'reject_line']]);
});

t.test('lines that are not JSON objects, including a torn write merged with the next record', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { turns: [{ user: 'hi' }] });
  const merged = s.lines[2].slice(0, 30) + s.lines[3];
  writeFileSync(s.path, text([s.lines[0], s.lines[1], merged, '[1,2]', ...s.lines.slice(4)]));
  const ps = await check(dir);
  t.same(brief(ps), [
    ['not_json', 3, 'split_line'],
    ['not_json', 4, 'reject_line'],
  ]);
  t.match(ps[0].detail, 'a torn write of 30 bytes ran into a whole record');
});

t.test('the first line must be the session_meta, with the id of the file name', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { turns: [{ user: 'hi' }] });
  writeFileSync(s.path, text(s.lines.slice(1)));
  t.same(brief(await check(dir)), [['no_session_meta', 1, null]]);
  writeFileSync(s.path, text([s.lines[0].split(s.id).join(uuidv7()), ...s.lines.slice(1)]));
  const ps = await check(dir);
  t.same(brief(ps), [['id_mismatch', 1, null]]);
  t.equal(ps[0].id, s.id, 'named by the file name');
  writeFileSync(s.path, text(['garbage', ...s.lines.slice(1)]));
  t.same(brief(await check(dir)), [
    ['not_json', 1, 'reject_line'],
    ['no_session_meta', 1, null],
  ]);
});

t.test('paginated ordinals run on by one; a gap is fine only where rejected lines could fill it', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { history: 'paginated', turns: [{ user: 'hi' }] });
  writeFileSync(s.path, text([...s.lines.slice(0, 3), ...s.lines.slice(4)]));
  const ps = await check(dir);
  t.same(brief(ps), [['ordinal_gap', 4, null]]);
  t.match(ps[0].detail, 'ordinal 4 follows 2');
  // The line Codex had to reject once held ordinal 3: covered.
  writeFileSync(s.path, text([...s.lines.slice(0, 3), '{"timestamp":"torn', ...s.lines.slice(4)]));
  t.same(brief(await check(dir)), [['not_json', 4, 'reject_line']]);
  // A head that does not start at 0.
  writeFileSync(s.path, text(s.lines.map((l) => l.replace(/"ordinal":(\d+)/, (_, n) => `"ordinal":${Number(n) + 5}`))));
  t.same(brief(await check(dir)), [['ordinal_gap', 1, null]]);
});

t.test('history_base: the parent must be there, and be cut at the end of the right line', async (t) => {
  const dir = tmpDir(t);
  const { parent, fork, size, cut } = family(dir);
  const rewrite = (base: Record<string, unknown>) => {
    const head = JSON.parse(fork.lines[0]);
    head.payload.history_base = { thread_id: parent.id, end_ordinal_exclusive: cut, end_byte_offset: size, ...base };
    writeFileSync(fork.path, text([JSON.stringify(head), ...fork.lines.slice(1)]));
  };
  rewrite({ end_byte_offset: size + 10 });
  t.same(brief(await check(dir)), [['base_past_end', 1, null]]);
  rewrite({ end_byte_offset: size - 10 });
  t.same(brief(await check(dir)), [['base_mismatch', 1, null]]);
  rewrite({ end_ordinal_exclusive: cut - 1 });
  t.same(
    brief(await check(dir)).filter((p) => p[0] === 'base_mismatch'),
    [['base_mismatch', 1, null]],
  );
  const firstLine = Buffer.byteLength(parent.lines[0]) + 1;
  rewrite({ end_byte_offset: firstLine, end_ordinal_exclusive: 1 });
  t.same(
    brief(await check(dir)).filter((p) => String(p[0]).startsWith('base')),
    [],
    'a cut after the first line is fine',
  );
  rewrite({ thread_id: uuidv7() });
  t.same(brief(await check(dir)), [['missing_parent', 1, null]]);
  // A compressed parent is measured decompressed.
  rewrite({});
  writeFileSync(`${parent.path}.zst`, zstd(readFileSync(parent.path)));
  writeFileSync(parent.path, '');
  t.same(await check(dir), [], 'the empty plain file is ignored, the .zst read');
});

t.test('a .zst beside its plain file: same, stale, different, unreadable', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { history: 'paginated', turns: [{ user: 'a' }, { user: 'b' }] }, { zst: true });
  const zst = `${s.path}.zst`;
  t.same(await check(dir), []);
  writeFileSync(zst, zstd(text(s.lines.slice(0, 5))));
  let ps = await check(dir);
  t.same(brief(ps), [['zst_mismatch', null, 'remove_zst']]);
  t.equal(ps[0].path, zst);
  writeFileSync(zst, zstd(text([...s.lines.slice(0, 5), '{"other":1}'])));
  t.same(brief(await check(dir)), [['zst_mismatch', null, null]]);
  writeFileSync(zst, zstd(readFileSync(s.path)).subarray(0, 40));
  ps = await check(dir);
  t.same(brief(ps), [['unreadable_zst', null, 'remove_zst']]);
});

t.test('a .zst alone that cannot be read', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { history: 'paginated', turns: [{ user: 'a' }] }, { zst: 'only' });
  const zst = `${s.path}.zst`;
  writeFileSync(zst, readFileSync(zst).subarray(0, 60));
  const ps = await check(dir);
  t.same(brief(ps), [['unreadable_zst', null, null]]);
  t.equal(ps[0].path, zst);
});

t.test('the same rollout in both roots is a duplicate; revisions of one thread are not', async (t) => {
  const dir = tmpDir(t);
  const s = writeSession(dir, { turns: [{ user: 'hi' }] });
  const copy = writeRaw(dir, `archived_sessions/${s.path.split('/').pop()}`, readFileSync(s.path));
  const ps = await check(dir);
  t.same(brief(ps), [
    ['duplicate_id', null, null],
    ['duplicate_id', null, null],
  ]);
  t.same(new Set(ps.map((p) => p.path)), new Set([s.path, copy]));
  t.match(ps.find((p) => p.path === s.path)!.detail, copy);
});

t.test('an unreadable file is reported and the run goes on', { skip: process.getuid?.() === 0 && 'root reads everything' }, async (t) => {
  const dir = tmpDir(t);
  const a = writeSession(dir, { turns: [{ user: 'a' }] });
  writeSession(dir, { start: new Date('2026-08-21T10:00:00Z'), turns: [{ user: 'b' }] });
  const { chmodSync } = await import('node:fs');
  chmodSync(a.path, 0);
  const reports = [];
  for await (const r of fsck(new Resolver(codexHome(dir, {})))) reports.push(r);
  t.equal(reports.length, 2);
  t.ok(reports[0].error);
  t.same(reports[1].problems, []);
});

t.test('judgeLine', async (t) => {
  t.same(judgeLine(Buffer.from('{"a":1}')), { ok: true, value: { a: 1 } });
  t.same(judgeLine(Buffer.from('{"a":')), { ok: false, problem: 'not_json', record: null });
  t.same(judgeLine(Buffer.from('"a string"')), { ok: false, problem: 'not_json', record: null }, 'JSON, but not an object');
  const record = '{"timestamp":"t","type":"x","payload":{"nested":{"timestamp":"u"}}}';
  const merged = judgeLine(Buffer.from(`{"timestamp":"s","type":"ev${record}`));
  t.equal(!merged.ok && merged.problem === 'not_json' && merged.record?.toString(), record, 'the whole record a torn write ran into, not a nested object');
  const v = judgeLine(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d]));
  t.match(v, { ok: false, problem: 'invalid_utf8' });
  t.equal(!v.ok && v.problem === 'invalid_utf8' && v.salvaged?.toString(), '{"a":"\ufffd"}', 'the salvaged line, the bad byte replaced');
});

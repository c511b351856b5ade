// rollout-export -o DIR/: one <id>.<format> per session. The same file named twice is exported once;
// two files of one session id never overwrite each other (the later is an error about it, and the
// run goes on); a file left by an earlier run is replaced.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { run, tmpDir, writeSession } from './helpers/fixtures.js';

const home = tmpDir(t);
const active = writeSession(home, { turns: [{ user: 'the active copy' }] });
const archived = writeSession(home, { id: active.id, turns: [{ user: 'the archived copy' }] }, { root: 'archived_sessions' });
const other = writeSession(home, { turns: [{ user: 'another session' }], start: new Date('2026-08-21T09:00:00Z') });
const env = { CODEX_HOME: home, ROLLOUT_INDEX: '' };
const exp = (args: string[], input?: string) => run('rollout-export', args, { env, input });
const read = (dir: string, id: string) => readFileSync(join(dir, `${id}.md`), 'utf8');

t.test('the same file named twice (by id, prefix and path) is exported once, with a warning', async (t) => {
  const out = join(tmpDir(t), 'out');
  const r = exp(['-o', `${out}/`, active.id, active.id.slice(0, 13), active.path, other.id]);
  t.equal(r.code, 0, r.err);
  t.same(readdirSync(out).sort(), [`${active.id}.md`, `${other.id}.md`].sort());
  t.match(read(out, active.id), 'the active copy');
  t.equal(r.err, `rollout-export: warning: ${active.path}: named again; each file is exported once\n`.repeat(2));
  t.equal(exp(['-q', '-o', `${out}/`, active.id, active.id]).err, '', '-q silences the warning');
});

t.test('an active and an archived copy of one id: the later is an error, the earlier file stays', async (t) => {
  const out = join(tmpDir(t), 'out');
  const r = exp(['-o', `${out}/`, active.path, archived.path, other.id]);
  t.equal(r.code, 1);
  t.equal(
    r.err,
    `rollout-export: error: ${archived.path}: would overwrite ${out}/${active.id}.md, written earlier in this run from ${active.path} (the same session id); export this one on its own with -o FILE\n`,
  );
  t.match(read(out, active.id), 'the active copy');
  t.notMatch(read(out, active.id), 'the archived copy');
  t.match(read(out, other.id), 'another session', 'the run went on');
  const alone = join(out, 'archived.md');
  t.equal(exp(['-o', alone, archived.path]).code, 0, 'the way out the message gives works');
  t.match(readFileSync(alone, 'utf8'), 'the archived copy');
});

t.test('two files with one id given by path, in --batch: the same rule', async (t) => {
  const dir = tmpDir(t);
  const copy = join(dir, 'elsewhere', 'copy.jsonl');
  mkdirSync(join(dir, 'elsewhere'));
  copyFileSync(other.path, copy);
  const out = join(dir, 'out');
  const r = exp(['--batch', '-f', 'json', '-o', out], `${other.path}\n${copy}\n${other.id}\n${active.id}\n`);
  t.equal(r.code, 1);
  const lines = r.err.trimEnd().split('\n');
  t.equal(lines.length, 2);
  t.equal(
    lines[0],
    `rollout-export: error: ${copy}: would overwrite ${out}/${other.id}.json, written earlier in this run from ${other.path} (the same session id); export this one on its own with -o FILE`,
  );
  t.equal(lines[1], `rollout-export: warning: ${other.path}: named again; each file is exported once`);
  t.same(readdirSync(out).sort(), [`${active.id}.json`, `${other.id}.json`].sort());
});

t.test('a file left by an earlier run is replaced; other files in the directory are left alone', async (t) => {
  const out = tmpDir(t);
  writeFileSync(join(out, `${active.id}.md`), 'an old export\n');
  writeFileSync(join(out, 'notes.txt'), 'mine\n');
  const r = exp(['-o', out, active.id]);
  t.equal(r.code, 0, r.err);
  t.match(read(out, active.id), 'the active copy');
  t.notMatch(read(out, active.id), 'an old export');
  t.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), 'mine\n');
  const again = exp(['-o', out, active.id]);
  t.equal(again.code, 0, 'a second run replaces its own file without a word');
  t.equal(again.err, '');
});

// What becomes of a bundled session, decided from the home's copies and the comparisons' verdicts:
// where new files go (the home's root for a thread it keeps), and which differences are conflicts.
import t from 'tap';
import type { BundledSession } from '../../lib/bundle/manifest.js';
import { decide, partsOf, rootFor, targetOf, type Verdict } from '../../lib/bundle/place.js';
import { codexHome, parseRolloutName, type SessionFile } from '../../lib/home/paths.js';
import { bundledSession } from '../helpers/bundles.js';

const home = codexHome('/h');
const ID = '0199a213-81c0-7800-8aa1-bbab2a035a53';
const REV = '0199a213-81c0-7800-8aa1-bbab2a035a99';
const n1 = `rollout-2026-01-02T10-00-00-${ID}.jsonl`;
const n2 = `rollout-2026-01-03T10-00-00-${ID}_${REV}.jsonl`;

const bundled = (...paths: string[]): BundledSession =>
  bundledSession(
    ID,
    paths.map((path) => ({ path, size: 1, sha256: '0'.repeat(64) })),
  );

const here = (path: string, ...also: string[]): SessionFile => {
  const name = parseRolloutName(
    path
      .split('/')
      .pop()!
      .replace(/\.zst$/, ''),
  )!;
  return {
    path,
    files: [path, ...also],
    root: path.startsWith('/h/archived_sessions/') ? 'archived_sessions' : 'sessions',
    name,
    compressed: path.endsWith('.zst'),
    form: 'nested',
    size: 1,
    mtimeMs: 0,
    ino: 1,
  };
};

const verdicts = (...v: Array<[string, Verdict]>) => new Map(v);

t.test('new files go where the home keeps the thread; none where it has no copy of it', async (t) => {
  const s = bundled(`sessions/2026/01/02/${n1}`, `sessions/2026/01/03/${n2}`);
  const archivedHere = [here(`/h/archived_sessions/${n1}`)];
  const d = decide(home, partsOf(s, archivedHere), verdicts([n1, { kind: 'same' }], [n2, { kind: 'new' }]), rootFor(s, archivedHere));
  t.equal(d.action, 'import');
  t.same([...d.writes], [[`sessions/2026/01/03/${n2}`, `/h/archived_sessions/${n2}`]]);
  t.equal(targetOf(home, s.files[0], rootFor(s, [])), `/h/sessions/2026/01/02/${n1}`);
  t.equal(targetOf(home, { path: `archived_sessions/${n2}`, size: 1, sha256: '' }, 'sessions'), `/h/sessions/2026/01/03/${n2}`);
});

t.test('one file that differs makes the whole session a conflict; grown files update in place', async (t) => {
  const s = bundled(`sessions/2026/01/02/${n1}`, `sessions/2026/01/03/${n2}`);
  const files = [here(`/h/sessions/2026/01/02/${n1}`)];
  const c = decide(home, partsOf(s, files), verdicts([n1, { kind: 'differs', at: 7 }], [n2, { kind: 'new' }]), 'sessions');
  t.match(c, { action: 'conflict', reason: /differs from the home's copy at byte 7/ });
  t.equal(c.writes.size, 0, 'nothing of it is written');
  const u = decide(home, partsOf(s, files), verdicts([n1, { kind: 'shorter-here' }], [n2, { kind: 'new' }]), 'sessions');
  t.equal(u.action, 'update');
  t.equal(u.writes.get(`sessions/2026/01/02/${n1}`), `/h/sessions/2026/01/02/${n1}`);
  t.same(u.replaces, files);
});

t.test('skips: the same, a longer copy here, a grown file kept compressed', async (t) => {
  const s = bundled(`sessions/2026/01/02/${n1}`);
  const plain = [here(`/h/sessions/2026/01/02/${n1}`)];
  t.match(decide(home, partsOf(s, plain), verdicts([n1, { kind: 'same' }]), 'sessions'), { action: 'skip', reason: 'already here' });
  t.match(decide(home, partsOf(s, plain), verdicts([n1, { kind: 'longer-here' }]), 'sessions'), { action: 'skip', reason: "the home's copy is longer" });
  const zst = [here(`/h/sessions/2026/01/02/${n1}.zst`)];
  t.match(decide(home, partsOf(s, zst), verdicts([n1, { kind: 'shorter-here' }]), 'sessions'), { action: 'skip', reason: /compressed/ });
});

t.test('a new thread lands in one root: the one its current file is in, a name held in both kept once', async (t) => {
  const s = { ...bundled(`archived_sessions/${n1}`, `sessions/2026/01/02/${n1}`, `sessions/2026/01/03/${n2}`), archived: true };
  const d = decide(home, partsOf(s, []), verdicts([n1, { kind: 'new' }], [n2, { kind: 'new' }]), rootFor(s, []));
  t.same(
    [...d.writes],
    [
      [`archived_sessions/${n1}`, `/h/archived_sessions/${n1}`],
      [`sessions/2026/01/03/${n2}`, `/h/archived_sessions/${n2}`],
    ],
  );
});

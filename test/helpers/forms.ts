// One session in every name form Codex ever wrote, for tests that must hold for all of them: the
// TypeScript CLI's `.json`, the flat names of May to July 2025, the nested names since, a reverted
// thread's `<thread>_<rollout>` revision, a `.jsonl.zst` twin beside its plain file, a `.zst` alone,
// and each of those archived.
import { spawnSync } from 'node:child_process';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { bareLines, writeRaw, writeSession, zstd } from './fixtures.js';
import { bareMessage, bareSession, fileName } from './generations.js';

export interface Placed {
  /** The thread id every binary should know the session by. */
  id: string;
  /** Every file of the session, as written; the one Codex reads (the newest revision, the plain twin) first. */
  paths: string[];
}

type Root = 'sessions' | 'archived_sessions';

const OLD = new Date('2026-08-01T10:00:00.000Z');

/** Files written long ago (mtime 40 days back), so grace periods and ages never spare them. */
function backdate(paths: string[]): void {
  const when = new Date(Date.now() - 40 * 86_400_000);
  for (const p of paths) utimesSync(p, when, when);
}

function flat(home: string, root: Root, name: string, bytes: string): string {
  return writeRaw(home, root === 'sessions' ? `sessions/${name}` : `archived_sessions/${name}`, bytes);
}

function nested(home: string, root: Root, name: string, bytes: string | Buffer): string {
  const stamp = name.slice('rollout-'.length, 'rollout-'.length + 10);
  const dir = root === 'sessions' ? `sessions/${stamp.slice(0, 4)}/${stamp.slice(5, 7)}/${stamp.slice(8, 10)}` : 'archived_sessions';
  return writeRaw(home, `${dir}/${name}`, bytes);
}

export const FORMS: Record<string, (home: string, root: Root) => Placed> = {
  'gen-0 .json': (home, root) => {
    const id = '0196a0b1-0000-4000-8000-000000000000';
    const text = bareSession('0', { id, timestamp: '2025-04-20T10:00:00.000Z', instructions: '' }, [bareMessage('user', 'gen 0 question')]);
    return { id, paths: [flat(home, root, fileName('0', Date.parse('2025-04-20T10:00:00Z'), id), text)] };
  },
  'flat date (gen A)': (home, root) => {
    const id = '0196b1c2-0000-4000-8000-00000000000a';
    return { id, paths: [flat(home, root, `rollout-2025-05-08-${id}.jsonl`, bareLines('A', id, ['gen A question', 'gen A answer']).join('\n') + '\n')] };
  },
  'flat time (gen B)': (home, root) => {
    const id = '0196d3e4-0000-4000-8000-00000000000b';
    return {
      id,
      paths: [flat(home, root, `rollout-2025-06-01T10-00-00-${id}.jsonl`, bareLines('B', id, ['gen B question', 'gen B answer']).join('\n') + '\n')],
    };
  },
  'nested (gen C)': (home, root) => {
    const id = '0197f5a6-0000-4000-8000-00000000000c';
    return {
      id,
      paths: [nested(home, root, `rollout-2025-08-01T10-00-00-${id}.jsonl`, bareLines('C', id, ['gen C question', 'gen C answer']).join('\n') + '\n')],
    };
  },
  'nested (gen D)': (home, root) => {
    const s = writeSession(home, { start: OLD, turns: [{ user: 'legacy question' }] }, { root });
    return { id: s.id, paths: [s.path] };
  },
  'nested (gen E)': (home, root) => {
    const s = writeSession(home, { start: OLD, history: 'paginated', turns: [{ user: 'paginated question' }] }, { root });
    return { id: s.id, paths: [s.path] };
  },
  'revert <thread>_<rollout>': (home, root) => {
    // A reverted paginated thread: its first file, and the revision that reads the first turn of it.
    const first = writeSession(home, { start: OLD, history: 'paginated', turns: [{ user: 'first try' }, { user: 'undone turn' }] }, { root });
    const bytes = readFileSync(first.path);
    const cut = bytes.indexOf('\n', bytes.indexOf('"type":"task_complete"')) + 1;
    const ordinal = bytes.subarray(0, cut).toString().split('\n').length - 1;
    const rolloutId = '01a0b0c0-0000-7000-8000-0000000000e1';
    const later = new Date(OLD.getTime() + 3_600_000);
    const revision = writeSession(
      home,
      {
        id: first.id,
        start: later,
        history: 'paginated',
        firstOrdinal: ordinal,
        noContext: true,
        meta: { history_base: { thread_id: first.id, end_ordinal_exclusive: ordinal, end_byte_offset: cut } },
        turns: [{ user: 'second try' }],
      },
      { root, rolloutId },
    );
    return { id: first.id, paths: [revision.path, first.path] };
  },
  '.jsonl with a .zst twin': (home, root) => {
    const s = writeSession(home, { start: OLD, turns: [{ user: 'plain and twin' }] }, { root, zst: true });
    return { id: s.id, paths: [s.path, `${s.path}.zst`] };
  },
  '.jsonl.zst alone': (home, root) => {
    const s = writeSession(home, { start: OLD, turns: [{ user: 'compressed only' }] }, { root, zst: 'only' });
    return { id: s.id, paths: [`${s.path}.zst`] };
  },
};

/** Writes one form into `home` (in `root`), its files backdated. */
export function place(home: string, form: string, root: Root = 'sessions'): Placed {
  const placed = FORMS[form](home, root);
  backdate(placed.paths);
  return placed;
}

const TORN = '{"timestamp":"2026-08-01T10:09:00.000Z","type":"event_msg","pay';

/** Damage `--repair` can fix, in the file that is read: a torn last line (inside a `.zst`'s stream), a BOM before a `.json` document. */
export function damage(placed: Placed): void {
  const file = placed.paths[0];
  const when = new Date(Date.now() - 40 * 86_400_000);
  if (file.endsWith('.zst')) {
    const plain = spawnSync('zstd', ['-dc', file], { maxBuffer: 1 << 30 }).stdout;
    writeFileSync(file, zstd(Buffer.concat([plain, Buffer.from(TORN)])));
  } else if (file.endsWith('.json')) writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(file)]));
  else writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from(TORN)]));
  utimesSync(file, when, when);
}

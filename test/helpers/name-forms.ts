// The property the name-form tests check (test/name-forms-*.test.ts): every name form Codex ever
// wrote, through every action that moves, rewrites or names a session. Afterwards each session is
// found by every binary with the same content, or it was deleted on purpose, or the action said why
// it refused. Nothing may simply vanish from view.
//
// One home holds a session of every form (their ids differ), so each binary runs once per home
// (rollout-cat once per session): hundreds of subprocesses fewer than a home per form.
import { execFile } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Test } from 'tap';
import { damage, FORMS, place, type Placed } from './forms.js';
import { ndjson, QUICK_START, REPO, tmpDir } from './fixtures.js';
import { stateDb } from './prune.js';

const exec = promisify(execFile);

interface Ran {
  code: number;
  out: string;
  err: string;
}

async function run(home: string, bin: string, args: string[], input = ''): Promise<Ran> {
  const child = exec(process.execPath, [join(REPO, 'dist/cmd', `${bin}.js`), ...args], {
    env: { ...process.env, ...QUICK_START, CODEX_HOME: home, ROLLOUT_INDEX: '', NO_COLOR: '1', TZ: 'UTC' },
    maxBuffer: 1 << 28,
    encoding: 'utf8',
  });
  child.child.stdin!.end(input);
  try {
    const { stdout, stderr } = await child;
    return { code: 0, out: stdout, err: stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}

type Seen = Awaited<ReturnType<typeof views>>;

/** How the binaries see each session: what each of them reports about it, stripped of where it lies. */
async function views(home: string, placed: Map<string, Placed>) {
  const ids = [...placed.values()].map((s) => s.id);
  const refs = ids.map((id) => `${id}\n`).join('');
  // Alone first: prune skips a file another process (a reader among the others here) has open.
  const prune = await run(home, 'rollout-prune', ['--stdin', '-n', '--grace', '0'], refs);
  const [cats, ls, fsck, exported] = await Promise.all([
    Promise.all(ids.map((id) => run(home, 'rollout-cat', [id]))),
    run(home, 'rollout-ls', ['--include-archived', '--json']),
    run(home, 'rollout-fsck', ['--stdin'], refs),
    run(home, 'rollout-export', ['-f', 'ndjson', '--batch'], refs),
  ]);
  const seen = new Map<string, unknown>();
  ids.forEach((id, i) => {
    const row = ndjson(ls.out).find((r) => r.id === id);
    seen.set(id, {
      cat: { code: cats[i].code, bytes: cats[i].out },
      ls: row ? { title: row.title, turns: row.turns } : null,
      fsck: ndjson(fsck.out)
        .filter((p) => p.id === id)
        .map((p) => p.problem),
      export: ndjson(exported.out)
        .filter((r) => r.session === id)
        .map(({ file: _file, updated: _updated, ...rest }) => rest),
      prune: ndjson(prune.out)
        .filter((l) => l.id === id)
        .map((l) => l.action),
    });
  });
  return seen as Map<
    string,
    { cat: { code: number; bytes: string }; ls: { title: string; turns: number } | null; fsck: string[]; export: unknown[]; prune: string[] }
  >;
}

interface Action {
  /** The root the sessions start in. */
  root: 'sessions' | 'archived_sessions';
  /** Acts on every session of the home; returns the NDJSON lines printed and what went to stderr. */
  run(home: string, sessions: Placed[]): Promise<{ lines: any[]; err: string }>;
  /** The sessions are meant to be gone afterwards. */
  deletes?: boolean;
  /** Damage to give the sessions first, that this action repairs. */
  damaged?: boolean;
  /** A name each session is then also found by (the export's name shows it). */
  names?: (n: number) => string;
}

const refsOf = (sessions: Placed[]) => sessions.map((s) => `${s.id}\n`).join('');

/** One run over every session at once. */
const once = (bin: string, args: (home: string) => string[], prepare?: (home: string) => void) => async (home: string, sessions: Placed[]) => {
  prepare?.(home);
  const r = await run(home, bin, args(home), refsOf(sessions));
  return { lines: ndjson(r.out), err: r.err };
};

/** One run per session, for binaries that take one session at a time. */
const each = (bin: string, args: (s: Placed, n: number) => string[]) => async (home: string, sessions: Placed[]) => {
  const runs = await Promise.all(sessions.map((s, n) => run(home, bin, args(s, n))));
  return { lines: runs.flatMap((r) => ndjson(r.out)), err: runs.map((r) => r.err).join('') };
};

const prune = (...args: string[]) => once('rollout-prune', () => ['--stdin', '--grace', '0', ...args]);

export const ACTIONS: Record<string, Action> = {
  delete: { root: 'sessions', run: prune(), deletes: true },
  archive: { root: 'sessions', run: prune('--archive') },
  unarchive: { root: 'archived_sessions', run: prune('--unarchive') },
  compress: { root: 'sessions', run: prune('--compress') },
  'compress archived': { root: 'archived_sessions', run: prune('--compress') },
  'fsck --repair': {
    root: 'sessions',
    damaged: true,
    run: once('rollout-fsck', (home) => ['--repair', '--grace', '0', '--backup', join(home, '..', 'bk'), '--stdin']),
  },
  fork: { root: 'sessions', run: each('rollout-fork', (s) => [s.id]) },
  name: { root: 'sessions', run: each('rollout-name', (s, n) => [s.id, `named ${n}`]), names: (n) => `named ${n}` },
  'index --codex': {
    root: 'sessions',
    run: once(
      'rollout-index',
      () => ['--codex'],
      (home) => stateDb(home, []),
    ),
  },
};

/**
 * A home with a session of every form, written once per starting root (and once damaged) and seen
 * by the binaries once; every action then works on a fresh copy of it.
 */
const templates = new Map<string, Promise<{ home: string; placed: Map<string, Placed>; before: Seen }>>();
function template(t: Test, action: Action) {
  const key = `${action.root}|${Boolean(action.damaged)}`;
  if (!templates.has(key)) {
    const home = join(tmpDir(t), 'home');
    const placed = new Map(Object.keys(FORMS).map((form) => [form, place(home, form, action.root)]));
    if (action.damaged) for (const s of placed.values()) damage(s);
    templates.set(
      key,
      views(home, placed).then((before) => ({ home, placed, before })),
    );
  }
  return templates.get(key)!;
}

/** One subtest per action named, each over every form. */
export function checkActions(t: Test, names: string[]): void {
  for (const name of names) t.test(name, (sub) => checkAction(t, sub, name, ACTIONS[name]));
}

async function checkAction(root: Test, t: Test, actionName: string, action: Action): Promise<void> {
  // Templates outlive one subtest: their folder belongs to the file's test.
  const made = await template(root, action);
  const home = join(tmpDir(t), 'home');
  // The template's index is left behind: each copy builds its own, as a user's first run would.
  cpSync(made.home, home, { recursive: true, preserveTimestamps: true, filter: (src) => !src.includes('rollout-index.sqlite') });
  const placed = new Map([...made.placed].map(([form, s]) => [form, { id: s.id, paths: s.paths.map((p) => p.replace(made.home, home)) }]));
  const did = await action.run(home, [...placed.values()]);
  const after = await views(home, placed);
  let n = -1;
  for (const [form, s] of placed) {
    n++;
    const before = structuredClone(made.before.get(s.id)!);
    const now = after.get(s.id)!;
    const lines = did.lines.filter((l) => l.id === s.id);
    const what = `${form}: ${actionName} (${JSON.stringify(lines).slice(0, 300)} ${did.err.trim().slice(0, 300)})`;
    t.equal(before.cat.code, 0, `${what}: found before`);
    if (action.deletes && lines.some((l) => l.action === 'delete')) {
      t.ok(
        s.paths.every((p) => !existsSync(p)),
        `${what}: every file is gone`,
      );
      t.equal(now.cat.code, 1, `${what}: rollout-cat no longer finds it`);
      t.equal(now.ls, null, `${what}: rollout-ls no longer lists it`);
      continue;
    }
    const refused = lines.find((l) => l.action === 'skip');
    if (refused) t.ok(refused.reason, `${what}: refused, with a reason`);
    t.not(now.ls, null, `${what}: rollout-ls lists it afterwards`);
    if (action.damaged) {
      t.same(now.fsck, [], `${what}: repaired`);
      t.equal(now.ls?.title, before.ls?.title, `${what}: same title`);
      continue;
    }
    if (action.names) {
      const named = await run(home, 'rollout-cat', [action.names(n)]);
      t.equal(named.out, before.cat.bytes, `${what}: found by its new name`);
      for (const seen of [now, before]) for (const r of seen.export as Array<Record<string, unknown>>) if (r.kind === 'session') delete r.name;
    }
    t.same(now, before, `${what}: every binary sees the same session`);
  }
}

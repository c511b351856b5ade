// `make interop-matrix`: the interop suite against a set of released Codex versions, one after the
// other, and docs/compatibility.md from what happened: per version, what it wrote (from the home the
// suite had it build) and which suites held. A version that cannot be installed, or cannot run
// offline against the loopback mock, is listed with the reason.
//
//   MATRIX_VERSIONS="0.100.0 0.171.0" make interop-matrix   another set than the default
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..').replace(/\/dist$/, '');

/**
 * One release from each stretch of Codex's history the registry still serves: mid-2025 (bare lines
 * until 0.20-ish), late 2025 (envelopes), early 2026, the two sides of the user turn's move to
 * response items (0.151, 0.153), and the two newest.
 */
const DEFAULT_VERSIONS = ['0.20.0', '0.50.0', '0.100.0', '0.151.0', '0.153.0', '0.169.0', '0.171.0'];

/** What each interop file proves, as the matrix names it. */
const SUITES: Array<[file: string, what: string]> = [
  ['harness', 'runs offline against the mock (exec, resume, fork, app-server)'],
  ['drift', 'writes only record types the spec documents'],
  ['cat', 'rollout-cat byte-exact'],
  ['index', 'rollout-index lists what Codex lists'],
  ['fork', 'rollout-fork resumed by Codex'],
  ['prune', 'rollout-prune: Codex lists and resumes what is left'],
  ['retag', 'rollout-prune --map-cwd/--set-provider'],
  ['codex-sync', 'rollout-index --codex repair accepted'],
  ['rescue', 'rescued sessions listed again'],
  ['export', 'rollout-export of every session'],
  ['bundle', 'rollout-bundle/-unbundle to another home'],
  ['slim', 'rollout-slim resumed by Codex'],
  ['usage', 'rollout-usage matches the mock'],
];

interface Written {
  generation: string;
  nameForm: string;
  forks: string;
  compressed: string;
  cliVersion: string;
}

interface Outcome {
  version: string;
  installed: boolean;
  reason: string | null;
  suites: Map<string, { ok: boolean; why: string }>;
  written: Written | null;
  ms: number;
}

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30 * 60_000) {
  return spawnSync(cmd, args, { cwd: REPO, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 28, timeout: timeoutMs });
}

/** The first line of a failure worth quoting. */
function firstReason(text: string): string {
  const line = text.split('\n').find((l) => /error|Error|failed|timed out|unknown|unexpected/.test(l)) ?? text.split('\n').find((l) => l.trim()) ?? '';
  return line.trim().replace(/\|/g, '\\|').slice(0, 200);
}

/** The generation a session's first line shows (the spec's section 3). */
function generationOf(meta: any): string {
  if (meta.type !== 'session_meta') return 'C (bare lines, state records)';
  return meta.payload?.history_mode === 'paginated' ? 'E (envelopes, paginated history)' : 'D (envelopes, legacy history)';
}

/**
 * What Codex wrote: in the home the suite had it build, or, for a release that cannot run the
 * suite, in the files it wrote for test/fixtures/releases/<version>/ (make-old-fixtures.ts).
 */
function written(root: string, version: string): Written | null {
  const fixtures = join(REPO, 'test/fixtures/releases', version);
  const suiteMade = existsSync(join(root, 'manifest.json'));
  const manifest = suiteMade ? join(root, 'manifest.json') : join(fixtures, 'manifest.json');
  if (!existsSync(manifest)) return null;
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as {
    sessions: Record<string, { path?: string; relPath: string; forkedFromId?: string | null }>;
  };
  const sessions = Object.values(m.sessions).map((s) => ({ ...s, path: s.path ?? join(fixtures, s.relPath) }));
  const first = (path: string): any => {
    const text = path.endsWith('.zst') ? sh('zstd', ['-dc', path]).stdout : readFileSync(path, 'utf8');
    return JSON.parse(text.slice(0, text.indexOf('\n')));
  };
  const metas = sessions.map((s) => ({ s, meta: first(s.path) }));
  const forks = metas.filter(({ s }) => s.forkedFromId);
  return {
    generation: [...new Set(metas.map(({ meta }) => generationOf(meta)))].sort().join(', '),
    nameForm: sessions.every((s) => /^(sessions\/\d{4}\/\d{2}\/\d{2}|archived_sessions)\//.test(s.relPath)) ? 'nested YYYY/MM/DD' : 'flat',
    // The fixtures of an old release hold no fork and were never offered for compression.
    forks: !suiteMade
      ? 'not tried'
      : forks.length === 0
        ? 'none written'
        : forks.every(({ meta }) => meta.payload?.history_base)
          ? 'by reference (history_base)'
          : 'by copy',
    compressed: !suiteMade ? 'not tried' : sessions.some((s) => s.path.endsWith('.zst')) ? 'yes (.jsonl.zst)' : 'no',
    cliVersion: String(metas[0]?.meta.payload?.cli_version ?? version),
  };
}

/** The tap output's verdict on each interop file. */
function suitesOf(tap: string): Map<string, { ok: boolean; why: string }> {
  const out = new Map<string, { ok: boolean; why: string }>();
  for (const [file] of SUITES) {
    const verdict = new RegExp(`^(not )?ok \\d+ - test/interop/${file}\\.test\\.ts`, 'm').exec(tap);
    if (!verdict) continue;
    const ok = !verdict[1];
    // The first failing assertion inside that file's block.
    const block =
      tap
        .slice(0, verdict.index)
        .split(/^# Subtest: test\/interop\//m)
        .pop() ?? '';
    const why = ok ? '' : firstReason((/not ok \d+ - (.*)/.exec(block)?.[1] ?? '') + '\n' + block);
    out.set(file, { ok, why });
  }
  return out;
}

function runVersion(version: string): Outcome {
  const started = Date.now();
  process.stderr.write(`interop-matrix: ${version}\n`);
  const install = sh('bash', ['scripts/install-codex.sh'], { CODEX_VERSION: version });
  if (install.status !== 0)
    return { version, installed: false, reason: firstReason(install.stderr), suites: new Map(), written: null, ms: Date.now() - started };
  const root = mkdtempSync(join(tmpdir(), `rollout-matrix-${version}-`));
  try {
    const env = { CODEX_VERSION: version, ROLLOUT_REAL_HOME: join(root, 'real-home') };
    const tap = (files: string[]) => sh('npx', ['tap', '--disable-coverage', '--reporter=tap', ...files], env);
    // The harness first, alone: when it cannot drive this Codex, the rest cannot either, and its
    // stderr says why (a test file's own error goes there).
    const first = tap(['test/interop/harness.test.ts']);
    const harness = suitesOf(first.stdout).get('harness');
    if (!harness?.ok) {
      const thrown = /^\w*Error: (.*)$/m.exec(first.stderr)?.[1]?.trim() ?? firstReason(first.stdout + first.stderr);
      const reason = `cannot run offline against the loopback mock (${thrown.replace(/\|/g, '\\|').slice(0, 160)})`;
      return { version, installed: true, reason, suites: new Map(), written: written(join(root, 'real-home'), version), ms: Date.now() - started };
    }
    const rest = readdirSync(join(REPO, 'test/interop'))
      .filter((f) => f.endsWith('.test.ts') && f !== 'harness.test.ts')
      .map((f) => `test/interop/${f}`);
    const suites = suitesOf(tap(rest).stdout);
    suites.set('harness', harness);
    return { version, installed: true, reason: null, suites, written: written(join(root, 'real-home'), version), ms: Date.now() - started };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * The verdict of test/releases.test.ts on each release's own files (listed, streamed byte-exact,
 * exported, checked, every record type known), for the releases that have a fixture folder.
 */
function fixtureVerdicts(): Map<string, boolean> {
  const tap = sh('npx', ['tap', '--disable-coverage', '--reporter=tap', 'test/releases.test.ts']).stdout;
  return new Map([...tap.matchAll(/^\s*(not )?ok \d+ - Codex (\S+)/gm)].map((m) => [m[2]!, !m[1]]));
}

function report(outcomes: Outcome[], fixtures: Map<string, boolean>, ms: number): string {
  const cell = (o: Outcome, file: string) => {
    const s = o.reason ? undefined : o.suites.get(file);
    return s ? (s.ok ? 'holds' : `**fails**: ${s.why}`) : '–';
  };
  const ownFiles = (o: Outcome) => {
    const held = fixtures.get(o.version);
    return held === undefined ? '–' : held ? 'holds' : '**fails**';
  };
  const lines = [
    '# Compatibility with released Codex CLIs',
    '',
    `Measured by \`make interop-matrix\` on ${new Date().toISOString().slice(0, 10)}: the interop suite (test/interop) run against each`,
    'version below, installed from the npm registry and run offline against the loopback mock. `make test` runs the',
    'suite against the pinned release (scripts/install-codex.sh); `make interop CODEX_VERSION=x.y.z` against any other.',
    `The whole matrix took ${(ms / 60_000).toFixed(1)} minutes.`,
    '',
    '## What each version wrote',
    '',
    '| Version | Runs here | Generation | Name form | Forks | Compressed by Codex |',
    '|---|---|---|---|---|---|',
    ...outcomes.map((o) => {
      const w = o.written;
      const partly = fixtures.has(o.version) ? 'only `codex exec` and its resume (test/fixtures/releases); the suite ' : '';
      const runs = !o.installed ? `no: not installable (${o.reason})` : o.reason ? `${partly ? 'partly: ' + partly : 'no: '}${o.reason}` : 'yes';
      return `| ${o.version} | ${runs} | ${w?.generation ?? '–'} | ${w?.nameForm ?? '–'} | ${w?.forks ?? '–'} | ${w?.compressed ?? '–'} |`;
    }),
    '',
    '## Which proofs held',
    '',
    `| Suite | ${outcomes.map((o) => o.version).join(' | ')} |`,
    `|---|${outcomes.map(() => '---').join('|')}|`,
    ...SUITES.map(([file, what]) => `| ${what} | ${outcomes.map((o) => cell(o, file)).join(' | ')} |`),
    `| its own files (test/fixtures/releases): listed, cat byte-exact, exported, fsck clean, types known | ${outcomes.map(ownFiles).join(' | ')} |`,
    '',
    'A dash: the version did not get that far (it could not be installed, or could not run against the mock),',
    'or, in the last row, no fixture of its files is committed (the suite reads the files it has it write).',
    '',
  ];
  return lines.join('\n');
}

const versions = (process.env.MATRIX_VERSIONS ?? DEFAULT_VERSIONS.join(' ')).split(/\s+/).filter(Boolean);
const started = Date.now();
const outcomes = versions.map(runVersion);
const fixtures = fixtureVerdicts();
const out = join(REPO, 'docs/compatibility.md');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, report(outcomes, fixtures, Date.now() - started));
process.stderr.write(`interop-matrix: wrote ${out}\n`);

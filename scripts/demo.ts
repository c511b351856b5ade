// `make demo`: a small sample CODEX_HOME under ./demo/ (made by the benchmark's generator: every
// generation of Codex, compressed and archived sessions, forks, names), then a short tour of the
// toolkit on it. Each step prints the pipeline it runs, so it can be pasted into a shell.
// Binaries still being written are skipped; a failing step is shown and the tour goes on.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateHome, RARE_TERM, type SessionInfo } from '../bench/gen-home.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEMO = join(REPO, 'demo');
const HOME = join(DEMO, 'codex-home');
const BIN = join(DEMO, 'bin');
const MAX_LINES = 20;
const MAX_WIDTH = 150;

const bold = (s: string) => (process.env.NO_COLOR || !process.stdout.isTTY ? s : `\x1b[1m${s}\x1b[0m`);
const say = (s = '') => process.stdout.write(s + '\n');

let failures = 0;

/** Runs one shell pipeline in the demo's environment, echoing it and a trimmed copy of its output. */
function step(title: string, script: string, opts: { needs?: string[]; essential?: boolean } = {}): void {
  const missing = (opts.needs ?? []).filter((b) => !existsSync(join(REPO, 'dist/cmd', `${b}.js`)));
  say();
  say(bold(`## ${title}`));
  if (missing.length) {
    say(`(skipped: ${missing.join(', ')} not built yet)`);
    return;
  }
  say(`$ ${script}`);
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', script], {
    cwd: DEMO,
    env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, CODEX_HOME: HOME, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const lines = (r.stdout ?? '').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const l of lines.slice(0, MAX_LINES)) say(l.length > MAX_WIDTH ? `${l.slice(0, MAX_WIDTH)}…` : l);
  if (lines.length > MAX_LINES) say(`… (${lines.length - MAX_LINES} more lines)`);
  if (r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status}`;
    say(`(this step failed: ${why}) ${(r.stderr ?? '').trim().split('\n').slice(0, 3).join(' | ')}`);
    if (opts.essential) failures++;
  }
}

function main(): void {
  const t0 = Date.now();
  say(bold('rollout demo: a sample Codex home, and what the toolkit does with it'));
  say(`Generating a small CODEX_HOME in ${relative(process.cwd(), HOME) || '.'} ...`);
  const m = generateHome({ dir: HOME, sessions: 24, bytes: 4 << 20, maxSession: 1 << 20, seed: 5 });
  const count = (f: (s: SessionInfo) => boolean) => m.sessions.filter(f).length;
  say(
    `  ${m.sessions.length} sessions, ${(m.bytes / (1 << 20)).toFixed(1)} MB: ` +
      `${count((s) => s.kind === 'D')} legacy, ${count((s) => s.kind === 'E')} paginated, ${count((s) => !'DE'.includes(s.kind))} from older Codex generations; ` +
      `${count((s) => s.compressed)} compressed (.jsonl.zst), ${count((s) => s.archived)} archived, ${count((s) => Boolean(s.fork))} forks, ${count((s) => Boolean(s.name))} named.`,
  );

  rmSync(BIN, { recursive: true, force: true });
  mkdirSync(BIN, { recursive: true });
  // Every binary that is built, whatever the list is today.
  for (const f of readdirSync(join(REPO, 'dist/cmd')).filter((n) => /^rollout-[a-z]+\.js$/.test(n)))
    symlinkSync(join(REPO, 'dist/cmd', f), join(BIN, f.slice(0, -3)));
  say(`  The binaries are linked into demo/bin; every step runs with CODEX_HOME=demo/codex-home.`);

  const pick = (f: (s: SessionInfo) => boolean) => m.sessions.find(f)!;
  const legacy = pick((s) => s.kind === 'D' && !s.fork && !s.compressed);
  const zst = pick((s) => s.compressed);
  const fork = pick((s) => s.fork?.mode === 'ref');
  const old = pick((s) => s.kind === 'B');
  const rel = (s: SessionInfo) => `codex-home/${s.path}`;

  step('A session by id prefix: its canonical session_meta (rollout-cat --meta)', `rollout-cat --meta ${legacy.id.slice(0, 13)} | cut -c1-140`, {
    essential: true,
  });
  step('Only some record types, without parsing the rest (--type)', `rollout-cat --type event_msg:user_message ${legacy.id} | head -3`, {
    essential: true,
  });
  step('A compressed session reads like a plain one (the same bytes as zstd -dc)', `rollout-cat ${zst.id} | sha256sum; zstd -dc ${rel(zst)} | sha256sum`, {
    essential: true,
  });
  step(
    'A referenced fork holds only its own lines; --full adds its parent history first',
    `rollout-cat ${fork.id} | wc -l; rollout-cat --full ${fork.id} | wc -l`,
    { essential: true },
  );
  step('A bare-line file of mid-2025 Codex, normalized to envelope lines', `rollout-cat --normalize ${rel(old)} | head -3 | cut -c1-140`, {
    essential: true,
  });

  step('Index the home (SQLite with full-text search; incremental)', 'rollout-index', { needs: ['rollout-index'] });
  step('The five most recent sessions', `rollout-ls --limit 5 --format '%(id) %(updated:relative) %(title)'`, { needs: ['rollout-ls'] });
  step(`Full-text search across every conversation`, `rollout-ls --search ${RARE_TERM} --format '%(id) %(title)'`, { needs: ['rollout-ls'] });
  step('A transcript in Markdown', `rollout-export --format md ${legacy.id} | head -20`, { needs: ['rollout-export'] });
  step('What one session ran, as CSV', `rollout-export --format csv ${legacy.id} | head -4 | cut -c1-140`, { needs: ['rollout-export'] });
  step('Branch a session after its first turn (a dry run)', `rollout-fork -n --keep-turns 1 ${legacy.id}`, { needs: ['rollout-fork'] });
  step('What a cleanup of sessions older than 90 days would do (a dry run)', `rollout-prune -n --older-than 90d | head -5`, {
    needs: ['rollout-prune'],
  });
  step('Where the bytes are, by kind of content', `rollout-du --by kind --include-archived`, { needs: ['rollout-du'] });
  step('What the sessions cost, month by month and model by model (each response counted once)', `rollout-usage --by month,model --table --tz UTC`, {
    needs: ['rollout-usage'],
  });
  step(
    'A team audit feed: the commands that failed, as records for a database (a second run with the checkpoint sends nothing)',
    `rm -f feed.ck*; rollout-feed --checkpoint feed.ck --host demo --kinds tool_call > feed.ndjson; jq -c 'select((.exit_code // 0) != 0) | {host, time, command, exit_code}' feed.ndjson | head -3; rollout-feed --checkpoint feed.ck | wc -l`,
    { needs: ['rollout-feed'] },
  );
  step(
    'What taking out tool outputs over 2 KB would save (a dry run; the summary is on stderr)',
    `rollout-slim -n --kinds tool-output --min-blob 2k 2>&1 >/dev/null`,
    {
      needs: ['rollout-slim'],
    },
  );

  say();
  say(`Done in ${((Date.now() - t0) / 1000).toFixed(1)} s. Try it yourself: export CODEX_HOME=$PWD/demo/codex-home PATH=$PWD/demo/bin:$PATH`);
  if (failures) {
    say(`${failures} rollout-cat step(s) failed.`);
    process.exitCode = 1;
  }
}

main();

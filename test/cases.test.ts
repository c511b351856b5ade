// Golden cases for the binaries: test/cases/<binary>/<case>/ holds
//   cmd              a bash script, run in a fresh temp dir with the rollout-* binaries on PATH
//   home/            (optional) the CODEX_HOME the case starts from, copied fresh for each run
//   home-ref         (optional) instead of home/: the name of a shared home in test/fixtures/homes/
//   stdin            (optional) bytes fed to the script's stdin
//   expected.stdout  exact stdout     expected.stderr  exact stderr (absent: stderr must be empty)
//   expected.code    exit status (default 0)
// In expectations the temp dir reads as <TMP> and the home as <HOME>. UPDATE_GOLDEN=1 rewrites them.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { QUICK_START, REPO, tmpDir } from './helpers/fixtures.js';

const CASES = join(REPO, 'test/cases');
const update = process.env.UPDATE_GOLDEN === '1';

const bin = tmpDir(t, 'rollout-bin-');
for (const name of readdirSync(join(REPO, 'dist/cmd')).filter((f) => f.endsWith('.js'))) {
  symlinkSync(join(REPO, 'dist/cmd', name), join(bin, name.slice(0, -3)));
}

function read(path: string): string | null {
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

for (const binary of readdirSync(CASES).sort()) {
  const dir = join(CASES, binary);
  for (const name of readdirSync(dir).sort()) {
    const c = join(dir, name);
    if (!existsSync(join(c, 'cmd'))) continue;
    t.test(`${binary}/${name}`, (t) => {
      const tmp = tmpDir(t);
      const home = join(tmp, 'home');
      const ref = read(join(c, 'home-ref'))?.trim();
      if (existsSync(join(c, 'home'))) cpSync(join(c, 'home'), home, { recursive: true });
      else if (ref) cpSync(join(REPO, 'test/fixtures/homes', ref), home, { recursive: true });
      else mkdirSync(home);
      const r = spawnSync('bash', ['-c', readFileSync(join(c, 'cmd'), 'utf8')], {
        cwd: tmp,
        input: existsSync(join(c, 'stdin')) ? readFileSync(join(c, 'stdin')) : '',
        env: { ...process.env, ...QUICK_START, PATH: `${bin}:${process.env.PATH}`, CODEX_HOME: home, CASE: c, TZ: 'UTC', NO_COLOR: '1', ROLLOUT_INDEX: '' },
        maxBuffer: 1 << 28,
      });
      const clean = (s: string) => s.split(home).join('<HOME>').split(tmp).join('<TMP>');
      const got = { stdout: clean(r.stdout.toString()), stderr: clean(r.stderr.toString()), code: String(r.status) };
      if (update) {
        writeFileSync(join(c, 'expected.stdout'), got.stdout);
        if (got.stderr || existsSync(join(c, 'expected.stderr'))) writeFileSync(join(c, 'expected.stderr'), got.stderr);
        if (got.code !== '0' || existsSync(join(c, 'expected.code'))) writeFileSync(join(c, 'expected.code'), got.code + '\n');
      }
      t.equal(got.stdout, read(join(c, 'expected.stdout')) ?? '', 'stdout');
      t.equal(got.stderr, read(join(c, 'expected.stderr')) ?? '', 'stderr');
      t.equal(got.code, (read(join(c, 'expected.code')) ?? '0').trim(), `exit status (stderr: ${got.stderr.slice(0, 500)})`);
      t.end();
    });
  }
}

// The package's postinstall: on `npm install -g` it writes every binary's completion where bash, zsh
// and fish load it; anywhere else (`npm ci` in a checkout) it does nothing; and it never fails.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { QUICK_START, REPO, run, tmpDir } from './helpers/fixtures.js';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
const binaries = Object.keys(pkg.bin as Record<string, string>);

/** A PATH of just these commands (the postinstall runs node as itself, not from PATH). */
function pathOf(dir: string, commands: string[]): string {
  const path = join(dir, 'path');
  mkdirSync(path);
  for (const c of commands) {
    const found = spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, join(path, c));
  }
  return path;
}

function postinstall(env: Record<string, string | undefined>) {
  const r = spawnSync(process.execPath, [join(REPO, pkg.scripts.postinstall.replace(/^node /, ''))], {
    cwd: REPO,
    env: { ...QUICK_START, ...env },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const script = (bin: string, shell: string) => run(bin, ['--completion', shell]).out;

t.test('a global install: every script where its shell loads it', async (t) => {
  const home = tmpDir(t);
  const r = postinstall({ npm_config_global: 'true', HOME: home, PATH: pathOf(home, ['bash', 'zsh', 'fish']) });
  t.equal(r.code, 0);
  t.equal(r.err, '');
  const places = {
    bash: join(home, '.local/share/bash-completion/completions'),
    zsh: join(home, '.local/share/zsh/site-functions'),
    fish: join(home, '.config/fish/completions'),
  };
  for (const [shell, dir] of Object.entries(places)) t.match(r.out, `rollout: ${shell} completion installed in ${dir}`, `it says where: ${shell}`);
  t.match(r.out, /zsh: put it in fpath/);
  for (const bin of binaries) {
    t.equal(readFileSync(join(places.bash, bin), 'utf8'), script(bin, 'bash'), `${bin}: bash`);
    t.equal(readFileSync(join(places.zsh, `_${bin}`), 'utf8'), script(bin, 'zsh'), `${bin}: zsh`);
    t.equal(readFileSync(join(places.fish, `${bin}.fish`), 'utf8'), script(bin, 'fish'), `${bin}: fish`);
  }
  t.same(readdirSync(places.bash).sort(), binaries.sort(), 'nothing else');
});

t.test('XDG_DATA_HOME, XDG_CONFIG_HOME and BASH_COMPLETION_USER_DIR are where they say', async (t) => {
  const home = tmpDir(t);
  const env = { npm_config_global: 'true', HOME: join(home, 'not-here'), PATH: pathOf(home, ['bash', 'zsh', 'fish']) };
  t.equal(postinstall({ ...env, XDG_DATA_HOME: join(home, 'data'), XDG_CONFIG_HOME: join(home, 'config') }).code, 0);
  t.ok(existsSync(join(home, 'data/bash-completion/completions/rollout-ls')));
  t.ok(existsSync(join(home, 'data/zsh/site-functions/_rollout-ls')));
  t.ok(existsSync(join(home, 'config/fish/completions/rollout-ls.fish')));
  const bash = pathOf(join(home, 'data'), ['bash']);
  t.equal(postinstall({ ...env, PATH: bash, XDG_DATA_HOME: join(home, 'data'), BASH_COMPLETION_USER_DIR: join(home, 'bc') }).code, 0);
  t.ok(existsSync(join(home, 'bc/completions/rollout-ls')));
  t.notOk(existsSync(join(home, 'not-here')), 'HOME is not used when the variables say where');
});

t.test('only the shells on PATH', async (t) => {
  const home = tmpDir(t);
  const r = postinstall({ npm_config_global: 'true', HOME: home, PATH: pathOf(home, ['bash']) });
  t.equal(r.code, 0);
  t.ok(existsSync(join(home, '.local/share/bash-completion/completions/rollout-cat')));
  t.notOk(existsSync(join(home, '.local/share/zsh')), 'no zsh');
  t.notOk(existsSync(join(home, '.config')), 'no fish');
});

t.test('not a global install (npm ci in a checkout): nothing', async (t) => {
  const home = tmpDir(t);
  for (const global of [undefined, '', 'false']) {
    const r = postinstall({ npm_config_global: global, HOME: home, PATH: pathOf(tmpDir(t), ['bash', 'zsh', 'fish']) });
    t.equal(r.code, 0);
    t.equal(r.out + r.err, '', 'says nothing');
    t.same(readdirSync(home), [], 'writes nothing');
  }
});

t.test('a failure is said, and the install goes on', async (t) => {
  const home = tmpDir(t);
  writeFileSync(join(home, 'a-file'), '');
  const r = postinstall({ npm_config_global: 'true', HOME: home, XDG_DATA_HOME: join(home, 'a-file'), PATH: pathOf(home, ['bash']) });
  t.equal(r.code, 0);
  t.match(r.err, /^rollout: shell completion not installed: .*a-file/);
});

t.test('the package ships the postinstall', async (t) => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
  t.ok(files.includes(pkg.scripts.postinstall.replace(/^node /, '')), 'the script');
  for (const bin of binaries) t.ok(files.includes(pkg.bin[bin]), `${bin}, which writes the scripts`);
});

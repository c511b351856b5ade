// `npm install -g`: each binary's shell completion, written where bash (bash-completion), zsh and fish
// look for it, for each of those shells on PATH. The binaries write the scripts themselves
// (`--completion SHELL`), so they are always those of the version installed. Anything but a global
// install (`npm ci` in a checkout) is left alone, and a failure here never fails the install: the
// scripts can still be loaded by hand (README, "Shell completion").
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const env = process.env;

/** An XDG base directory: the variable when it holds an absolute path (the spec ignores any other), else the default. */
const xdg = (name, fallback) => (env[name] && isAbsolute(env[name]) ? env[name] : join(env.HOME || homedir(), fallback));

/** Where each shell loads a command's completion from without being told. */
const PLACES = {
  bash: {
    dir: env.BASH_COMPLETION_USER_DIR
      ? join(env.BASH_COMPLETION_USER_DIR, 'completions')
      : join(xdg('XDG_DATA_HOME', '.local/share'), 'bash-completion/completions'),
    file: (bin) => bin,
  },
  zsh: { dir: join(xdg('XDG_DATA_HOME', '.local/share'), 'zsh/site-functions'), file: (bin) => `_${bin}` },
  fish: { dir: join(xdg('XDG_CONFIG_HOME', '.config'), 'fish/completions'), file: (bin) => `${bin}.fish` },
};

const onPath = (command) =>
  (env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

function install() {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  for (const [shell, place] of Object.entries(PLACES)) {
    if (!onPath(shell)) continue;
    mkdirSync(place.dir, { recursive: true });
    for (const [name, file] of Object.entries(bin)) {
      const r = spawnSync(process.execPath, [join(root, file), '--completion', shell], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${name} --completion ${shell}: ${r.stderr.trim() || `exit ${r.status}`}`);
      writeFileSync(join(place.dir, place.file(name)), r.stdout);
    }
    // zsh alone reads only the folders its fpath names, and this one is not among them by default.
    const hint = shell === 'zsh' ? ' (zsh: put it in fpath before compinit runs)' : '';
    process.stdout.write(`rollout: ${shell} completion installed in ${place.dir}${hint}\n`);
  }
}

if (env.npm_config_global === 'true') {
  try {
    install();
  } catch (err) {
    process.stderr.write(`rollout: shell completion not installed: ${err.message}\n`);
  }
}

// A throwaway PostgreSQL server per test: its own cluster in a temp directory, on a free loopback
// port, trust auth for the `postgres` role. Debian's server binaries are used as they are (no
// pg_ctlcluster), so nothing outside the temp directory is touched.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface Postgres {
  port: number;
  /** postgresql://postgres@127.0.0.1:PORT/postgres */
  url: string;
  /** The temp directory: data/, log, and the Unix socket. */
  dir: string;
  /** Runs `sql` with psql (ON_ERROR_STOP, unaligned, tuples only) and returns its stdout; throws with its stderr. */
  psql(sql: string, opts?: { input?: string | Buffer }): string;
  /** psql's argv (path first) connected to the server, for spawning it with `-c '\copy ...'` and stdin. */
  psqlArgs(): string[];
  /** Stops the server and removes the directory; safe to call twice. */
  stop(): Promise<void>;
}

/** The directory holding initdb, pg_ctl and psql: Debian's highest version, else the PATH's. */
function serverBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin/initdb'))) : [];
  versions.sort((a, b) => parseFloat(b) - parseFloat(a));
  if (versions.length) return join(root, versions[0], 'bin');
  const onPath = (process.env.PATH ?? '').split(delimiter).find((d) => d && existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
  if (onPath) return onPath;
  throw new Error("PostgreSQL's server is not installed (no initdb): `make test` installs the Debian package postgresql");
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a new server; `stop()` it in teardown (an exit handler stops it anyway if the test does not). */
export async function startPostgres(): Promise<Postgres> {
  const bin = serverBin();
  const psqlBin = existsSync(join(bin, 'psql')) ? join(bin, 'psql') : 'psql';
  const dir = mkdtempSync(join(tmpdir(), 'rollout-pg-'));
  const data = join(dir, 'data');
  // initdb refuses to run as root; Debian's package creates the `postgres` user for this.
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    const argv = asRoot ? ['runuser', '-u', 'postgres', '--', join(bin, cmd), ...args] : [join(bin, cmd), ...args];
    // cwd: the server's user may not be able to enter the test's own.
    return spawnSync(argv[0], argv.slice(1), { cwd: dir, encoding: 'utf8' });
  };
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stopSync);
    if (existsSync(join(data, 'postmaster.pid'))) run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    rmSync(dir, { recursive: true, force: true });
  };
  // Registered before anything starts, so a failure halfway (or a test that never stops it) leaves no server behind.
  process.on('exit', stopSync);
  const fail = (what: string, r: { stdout: string; stderr: string }) => {
    const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : '';
    stopSync();
    throw new Error(`${what} failed:\n${r.stdout}${r.stderr}${log}`);
  };

  chmodSync(dir, 0o755);
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, id('-u'), id('-g'));
  }
  const init = ['-D', data, '--auth=trust', '-U', 'postgres', '--encoding=UTF8'];
  let r = run('initdb', [...init, '--locale=C.UTF-8']);
  // A system without the C.UTF-8 locale: byte-order collation is what the tests expect anyway.
  if (r.status !== 0) r = run('initdb', [...init, '--no-locale']);
  if (r.status !== 0) fail('initdb', r);

  const port = await freePort();
  // fsync=off: the cluster is thrown away, and durability costs most of a test's time.
  r = run('pg_ctl', ['-D', data, '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`, '-l', join(dir, 'log'), '-w', 'start']);
  if (r.status !== 0) fail('pg_ctl start', r);

  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const psqlArgs = () => [psqlBin, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', url];
  return {
    port,
    url,
    dir,
    psqlArgs,
    psql(sql, opts = {}) {
      const [cmd, ...args] = psqlArgs();
      const p = spawnSync(cmd, [...args, '-c', sql], { input: opts.input ?? '', encoding: 'utf8', maxBuffer: 1 << 28 });
      if (p.status !== 0) throw new Error(`psql failed (${p.status ?? p.signal}): ${p.stderr || p.error?.message}`);
      return p.stdout;
    },
    stop: async () => stopSync(),
  };
}

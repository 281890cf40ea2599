// A throwaway PostgreSQL server for the tests and benchmarks: Debian's postgresql binaries
// (installed by .ci/run), a new cluster in a temporary directory, listening on loopback only
// on a port the OS picked, trust authentication, stopped and removed by `stop()`. As root (CI),
// the server runs as the `postgres` user that Debian's package creates: PostgreSQL refuses root.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The directory of initdb and pg_ctl: PG_BIN, else the newest /usr/lib/postgresql/<n>/bin. */
export function postgresBinaries() {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      "PostgreSQL's server is not installed (no /usr/lib/postgresql/<version>/bin/initdb): the ledger's PostgreSQL tests need it.\n" +
        'Install it with `apt-get install -y postgresql` (.ci/run does), set PG_BIN to its bin directory,\n' +
        'or point TESTS_OF_DEPLOYER_POSTGRES_URL at a server the tests may create databases on.',
    );
  }
  return path.join(root, versions[0], 'bin');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a new cluster; resolves to `{ url, stop }`, `url` naming its `postgres` database.
 * `durable: false` (the tests) turns fsync off: a crash of the machine may lose the cluster, which
 * is thrown away anyway. The benchmarks keep PostgreSQL's defaults.
 */
export async function startPostgres({ durable = false } = {}) {
  const bin = postgresBinaries();
  const asRoot = process.getuid?.() === 0;
  // Outside the tests' own TMPDIR, whose 0700 directory the postgres user cannot enter.
  const dir = mkdtempSync(path.join(process.env.PG_TMP ?? '/tmp', 'deployer-postgres-'));
  const data = path.join(dir, 'data');
  let owner;
  if (asRoot) {
    owner = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, owner, Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()));
  }
  chmodSync(dir, 0o700);
  const run = (cmd, args) =>
    execFileSync(asRoot ? 'runuser' : path.join(bin, cmd), asRoot ? ['-u', 'postgres', '--', path.join(bin, cmd), ...args] : args, {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
  const port = await freePort();
  const settings = [`-c listen_addresses=127.0.0.1`, `-p ${port}`, `-k ${dir}`, '-c max_connections=200'];
  if (!durable) settings.push('-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off');
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync']);
    run('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-o', settings.join(' '), '-w', '-t', '60', 'start']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start PostgreSQL from ${bin}: ${err.stderr || err.message}`);
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url,
    owner,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export const TEST_POSTGRES_ENV = 'TESTS_OF_DEPLOYER_POSTGRES_URL';

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where Debian's PostgreSQL 15 puts its server programs (installed by .ci/install-postgres.sh). */
export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * Whether a private PostgreSQL cluster can be made here (initdb, pg_ctl, postgres). In CI their
 * absence fails the run loudly; elsewhere the caller skips with a warning.
 */
export function privatePostgresAvailable(): boolean {
  const present = ['initdb', 'pg_ctl', 'postgres'].every((p) => existsSync(join(PG_BIN, p)));
  if (present) return true;
  if (process.env.CI) throw new Error(`PostgreSQL server programs not found in ${PG_BIN}: CI must run the fault tests (see .ci/install-postgres.sh).`);
  console.warn(`PostgreSQL server programs not found in ${PG_BIN} (PG_BIN): the database fault tests are skipped.`);
  return false;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PrivatePostgres {
  /** Superuser URL of the cluster's `postgres` database. */
  url: string;
  port: number;
  /** A shutdown and start: `fast` (clients told, transactions rolled back) or `immediate` (a crash: WAL recovery at start). */
  restart(mode: 'fast' | 'immediate'): Promise<void>;
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster and deletes its folder. */
  destroy(): Promise<void>;
}

/**
 * A PostgreSQL cluster of its own, for tests that stop and restart the server: in a temporary
 * folder, on a free port, never touching the shared server. initdb refuses to run as root, so as
 * root the cluster belongs to the `postgres` OS user and its programs run as that user.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'helpdesk-pg-'));
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser'].find((p) => existsSync(p)) ?? 'runuser';
  const pg = (program: string, args: string[]) =>
    asRoot ? run(runuser, ['-u', 'postgres', '--', join(PG_BIN, program), ...args]) : run(join(PG_BIN, program), args);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const port = await freePort();
  await pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  await appendFile(
    join(data, 'postgresql.conf'),
    [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      // A process crash (immediate stop) keeps what the kernel was given; an OS crash is not tested.
      'fsync = off',
      'max_connections = 60',
      '',
    ].join('\n'),
  );
  const start = async () => {
    await pg('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', 'start']);
  };
  const stop = async (mode: 'fast' | 'immediate') => {
    await pg('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async restart(mode) {
      await stop(mode);
      await start();
    },
    stop,
    start,
    async destroy() {
      await stop('immediate').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

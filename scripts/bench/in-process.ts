import { createServer } from 'node:net';
import { join } from 'node:path';

/** A TCP port nobody listens on right now (the OS picks it): for URLs that must be known before a server starts. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolvePort(port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * The environment of a product started in-process by a bench: its port, a scratch data folder, the
 * repository's knowledge base (not watched), silent logs (BENCH_LOG_LEVEL to see them), and
 * PostgreSQL when given. Channel variables are added by each bench.
 */
export function benchEnv(options: { port: number; dataDir: string; repoRoot: string; databaseUrl?: string | undefined }): Record<string, string> {
  return {
    PORT: String(options.port),
    HOST: '127.0.0.1',
    DATA_DIR: options.dataDir,
    KNOWLEDGE_DIR: join(options.repoRoot, 'knowledge'),
    KB_WATCH: 'false',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
    // The bench plays every customer from one address: the per-client limits would count them as one.
    RATE_LIMIT_CLIENT_CONVERSATIONS: '1000000',
    RATE_LIMIT_CLIENT_MESSAGES: '1000000',
    RATE_LIMIT_GLOBAL_CONVERSATIONS: '10000000',
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
  };
}

import { resolve } from 'node:path';
import { openDatabase } from '../src/adapters/postgres/db/database.js';
import { loadConfig } from '../src/config.js';

// Applies the drizzle migrations to the configured database (PGlite in DATA_DIR, or DATABASE_URL).
const config = loadConfig(process.env);
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: resolve(config.dataDir) });
try {
  await database.migrate();
  console.log(`migrations applied (${database.engine})`);
} finally {
  await database.close();
}

/**
 * Moves every content key and sealed payload under the newest content master key and forgets the
 * others (see README, "Erasure that holds against the files"):
 *
 *   npm run keys:rotate
 *
 * With a key file (CONTENT_KEY_FILE) a new version is made first. With CONTENT_MASTER_KEY, add the
 * new version to the variable (on every instance) before, and remove the versions this names after.
 */
import { resolve } from 'node:path';
import { rotateContentKeys } from '../src/adapters/postgres/stores/content-key-rotation.js';
import { loadContentKeys } from '../src/adapters/postgres/db/content-keys.js';
import { openDatabase } from '../src/adapters/postgres/db/database.js';
import { loadConfig } from '../src/config.js';

const config = loadConfig(process.env);
const contentKeys = loadContentKeys({ text: config.turnLog.contentMasterKey, file: resolve(config.turnLog.contentKeyFile) }).keys;
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: resolve(config.dataDir), contentKeys });
try {
  await database.migrate();
  const r = await rotateContentKeys(database.db, contentKeys);
  console.log(`content master key now v${r.version}: ${r.rewrapped} keys re-wrapped, ${r.resealed} payloads re-sealed`);
  if (r.retired.length > 0) {
    console.log(
      contentKeys.source === 'env'
        ? `remove v${r.retired.join(', v')} from CONTENT_MASTER_KEY on every instance`
        : `v${r.retired.join(', v')} forgotten (${contentKeys.source})`,
    );
  }
} finally {
  await database.close();
}

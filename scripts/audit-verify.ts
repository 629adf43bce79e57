/**
 * `npm run audit:verify [-- --checkpoints DIR] [--key VERIFIER_KEY] [--json]`
 *
 * Streams the whole turn log of the configured database (PGlite in DATA_DIR or DATABASE_URL; on
 * PostgreSQL a large log is checked by one worker thread per core, in one snapshot) and
 * checks every entry, every conversation's chain, every turn's content (present, or erased by a
 * logged erasure), the stored checkpoints and the checkpoints published to LOG_CHECKPOINT_DIR (or
 * --checkpoints). Prints each violation with its first failing index; exits 0 only when intact.
 * The public key comes from --key, else from the configured signing key.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadContentKeys } from '../src/adapters/postgres/db/content-keys.js';
import { openDatabase } from '../src/adapters/postgres/db/database.js';
import { loadSigningKey, readPublishedCheckpoints } from '../src/adapters/postgres/turn-log/log-checkpoint-files.js';
import { createPgTurnLog } from '../src/adapters/postgres/turn-log/pg-turn-log.js';
import { loadConfig } from '../src/config.js';

const { values: args } = parseArgs({ options: { checkpoints: { type: 'string' }, key: { type: 'string' }, json: { type: 'boolean' } } });
const config = loadConfig(process.env);
const keyFile = resolve(config.turnLog.signingKeyFile);
let verifierKey = args.key;
if (!verifierKey) {
  if (!config.turnLog.signingKey && !existsSync(keyFile)) {
    console.error(`No public key: pass --key "<name+id+key>" (GET /log/public-key) or configure LOG_SIGNING_KEY / ${keyFile}.`);
    process.exit(2);
  }
  verifierKey = loadSigningKey({ key: config.turnLog.signingKey, file: keyFile, name: config.turnLog.origin, createIfMissing: false }).signer.verifierKey;
}
const checkpointDir = resolve(args.checkpoints ?? config.turnLog.checkpointDir);
const published = readPublishedCheckpoints(checkpointDir);

// Content keys are unwrapped to check each turn's content; without the master key every turn would look shredded.
const contentKeyFile = resolve(config.turnLog.contentKeyFile);
if (!config.turnLog.contentMasterKey && !existsSync(contentKeyFile)) {
  console.error(`No content master key: configure CONTENT_MASTER_KEY or ${contentKeyFile} (the server creates it on first start).`);
  process.exit(2);
}
const contentKeys = loadContentKeys({ text: config.turnLog.contentMasterKey, file: contentKeyFile }).keys;
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: resolve(config.dataDir), contentKeys });
let ok = false;
try {
  await database.migrate();
  const log = createPgTurnLog({ database, origin: config.turnLog.origin, verifierKey, audit: { databaseUrl: config.databaseUrl } });
  const started = performance.now();
  const report = await log.verify({ published });
  const seconds = (performance.now() - started) / 1000;
  ok = report.ok;
  if (args.json) {
    console.log(JSON.stringify({ ...report, seconds, publishedCheckpoints: published.length, checkpointDir }, null, 2));
  } else {
    console.log(`turn log ${config.turnLog.origin} (${database.engine})`);
    console.log(`  entries ${report.entries}, turns ${report.turns}, conversations ${report.conversations}, erased turns ${report.erasedTurns}`);
    console.log(`  root ${report.root}`);
    console.log(`  checkpoints checked ${report.checkpointsChecked} (${published.length} published in ${checkpointDir})`);
    console.log(`  verified in ${seconds.toFixed(2)} s`);
    if (published.length === 0) console.log('  warning: no published checkpoints found: a truncated log with a rolled-back head would go unnoticed');
    for (const v of report.violations) console.log(`  ✘ ${v.idx === null ? '-' : `#${v.idx}`}: ${v.reason}`);
    console.log(report.ok ? 'INTACT' : `VIOLATIONS: ${report.violations.length}, first failing index ${report.firstFailingIndex ?? '-'}`);
  }
} finally {
  await database.close();
}
process.exit(ok ? 0 : 1);

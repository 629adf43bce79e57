/**
 * `npm run kb:export`: writes the knowledge base's published entries (the database is the source
 * of truth) to the Markdown folder for review in git, and deletes the files of removed entries.
 * A file changed on disk since it was last imported or exported is left alone and named: run
 * `npm run kb:sync` to import it (a clash with a console edit becomes a conflict shown in the
 * console). Exits 0 when everything was written, 1 when something was left alone.
 */
import { resolve } from 'node:path';
import { writeKnowledgeFiles } from '../src/adapters/knowledge-files/write-knowledge-files.js';
import { openDatabase } from '../src/adapters/postgres/db/database.js';
import { createPgKnowledgeIndex } from '../src/adapters/postgres/knowledge-index/pg-knowledge-index.js';
import { createPgSecurityEventLog } from '../src/adapters/postgres/stores/pg-security-events.js';
import { createPassageSplitter } from '../src/adapters/local/passage-splitter.js';
import { loadConfig } from '../src/config.js';
import { createStoredKnowledgeBase } from '../src/create-console.js';
import { createOfficialAllowlist } from '../src/core/index.js';
import { createEmbedder } from '../src/create-embedder.js';

const config = loadConfig(process.env);
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: resolve(config.dataDir) });
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
try {
  await database.migrate();
  const knowledge = createStoredKnowledgeBase({
    database,
    index: createPgKnowledgeIndex(database),
    embedder: createEmbedder(config),
    splitPassages: createPassageSplitter(),
    allowlist: createOfficialAllowlist(config.safety.official),
    setKnowledgeLinks: () => undefined,
    record: (event) => createPgSecurityEventLog(database.db).record(event),
    logger: quiet,
  });
  const plan = await knowledge.exportPlan();
  const dir = resolve(config.knowledgeDir);
  const result = await writeKnowledgeFiles(dir, plan);
  await knowledge.markExported({ written: result.written, removed: result.removed });
  for (const w of result.written) console.log(`wrote   ${w.source} (${w.entryId} v${w.version})`);
  for (const id of result.removed) console.log(`removed ${plan.remove.find((r) => r.entryId === id)?.source ?? id}`);
  for (const source of result.changedOnDisk) console.error(`left alone ${source}: it changed on disk; run npm run kb:sync to import it first`);
  for (const s of plan.skipped) console.error(`skipped ${s.entryId}: ${s.reason}`);
  console.log(
    `knowledge base exported to ${dir}: ${result.written.length} written, ${result.removed.length} removed, ${result.changedOnDisk.length + plan.skipped.length} left alone`,
  );
  process.exitCode = result.changedOnDisk.length + plan.skipped.length > 0 ? 1 : 0;
} finally {
  await database.close();
}

/**
 * `npm run kb:sync`: imports the Markdown folder into the knowledge base (the database is the
 * source of truth). New and changed files become published versions, deleted files remove their
 * entries; a file that clashes with an edit made in the console since is kept as a conflict, to
 * settle in the console, never overwriting either side. Only changed entries are re-embedded.
 */
import { resolve } from 'node:path';
import { readKnowledgeFiles } from '../src/adapters/knowledge-files/read-knowledge-files.js';
import { createPassageSplitter } from '../src/adapters/local/passage-splitter.js';
import { openDatabase } from '../src/adapters/postgres/db/database.js';
import { createPgKnowledgeIndex } from '../src/adapters/postgres/knowledge-index/pg-knowledge-index.js';
import { createPgSecurityEventLog } from '../src/adapters/postgres/stores/pg-security-events.js';
import { loadConfig } from '../src/config.js';
import { createStoredKnowledgeBase } from '../src/create-console.js';
import { createOfficialAllowlist } from '../src/core/index.js';
import { createEmbedder } from '../src/create-embedder.js';

const config = loadConfig(process.env);
const embedder = createEmbedder(config);
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: resolve(config.dataDir) });
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
try {
  await database.migrate();
  const knowledge = createStoredKnowledgeBase({
    database,
    index: createPgKnowledgeIndex(database),
    embedder,
    splitPassages: createPassageSplitter(),
    allowlist: createOfficialAllowlist(config.safety.official),
    setKnowledgeLinks: () => undefined,
    record: (event) => createPgSecurityEventLog(database.db).record(event),
    logger: quiet,
  });
  await knowledge.prepare();
  const report = await knowledge.importFiles(await readKnowledgeFiles(resolve(config.knowledgeDir)));
  for (const problem of report.problems) console.error(`skipped ${problem.source}: ${problem.reason}`);
  for (const id of report.conflicts) console.error(`conflict ${id}: the file and a console edit differ; settle it in the console (File conflicts)`);
  for (const id of report.stale) console.error(`stale ${id}: the file holds an older version than the knowledge base; run npm run kb:export`);
  console.log(
    `knowledge base synced with ${embedder.id}: ${report.added.length} added, ${report.updated.length} updated, ` +
      `${report.removed.length} removed, ${report.unchanged} unchanged, ${report.conflicts.length} conflicts, ` +
      `${report.problems.length} skipped`,
  );
  process.exitCode = report.problems.length + report.conflicts.length > 0 ? 1 : 0;
} finally {
  await database.close();
}

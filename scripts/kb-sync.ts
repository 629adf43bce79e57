import { resolve } from 'node:path';
import { readKnowledgeFiles } from '../src/adapters/knowledge-files/read-knowledge-files.js';
import { createPassageSplitter } from '../src/adapters/local/passage-splitter.js';
import { openDatabase } from '../src/adapters/postgres/database.js';
import { createPgKnowledgeIndex } from '../src/adapters/postgres/pg-knowledge-index.js';
import { loadConfig } from '../src/config.js';
import { createOfficialAllowlist, rejectUnlistedContacts, syncKnowledgeFiles } from '../src/core/index.js';
import { createEmbedder } from '../src/create-embedder.js';

// Syncs knowledge/ into the configured database: only changed entries are re-embedded.
const config = loadConfig(process.env);
const embedder = createEmbedder(config);
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: resolve(config.dataDir) });
try {
  await database.migrate();
  // An entry naming a contact that is not on the official allowlist is reported and skipped.
  const files = rejectUnlistedContacts(await readKnowledgeFiles(resolve(config.knowledgeDir)), createOfficialAllowlist(config.safety.official)).files;
  const report = await syncKnowledgeFiles(files, {
    index: createPgKnowledgeIndex(database.db),
    embedder,
    splitPassages: createPassageSplitter(),
  });
  for (const problem of report.problems) console.error(`skipped ${problem.source}: ${problem.reason}`);
  console.log(
    `knowledge base synced with ${embedder.id}: ${report.added.length} added, ${report.updated.length} updated, ` +
      `${report.removed.length} removed, ${report.unchanged} unchanged, ${report.chunksEmbedded} chunks embedded, ` +
      `${report.problems.length} skipped`,
  );
  process.exitCode = report.problems.length > 0 ? 1 : 0;
} finally {
  await database.close();
}

/**
 * Admin command for erasure requests and legal holds (all of them logged in the turn log):
 *
 *   npm run erase:customer -- --conversation ID [--reason CODE]      erase (crypto-shred) the content
 *   npm run erase:customer -- --channel telegram --external-id 123    find the conversation by customer
 *   npm run erase:customer -- --conversation ID --hold "open dispute #42"   defer erasures (legal hold)
 *   npm run erase:customer -- --conversation ID --release                   lift the hold
 *
 * Under a legal hold an erasure is deferred, and the deferral logged. Exits 0 when done.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { and, eq } from 'drizzle-orm';
import { openDatabase } from '../src/adapters/postgres/database.js';
import { createPgTurnLog } from '../src/adapters/postgres/pg-turn-log.js';
import { conversation } from '../src/adapters/postgres/schema/index.js';
import { loadConfig } from '../src/config.js';

const { values: args } = parseArgs({
  options: {
    conversation: { type: 'string' },
    channel: { type: 'string' },
    'external-id': { type: 'string' },
    reason: { type: 'string', default: 'customer_request' },
    hold: { type: 'string' },
    release: { type: 'boolean' },
  },
});
if (!args.conversation && !(args.channel && args['external-id'])) {
  console.error('usage: npm run erase:customer -- (--conversation ID | --channel web|telegram --external-id ID) [--reason CODE | --hold REASON | --release]');
  process.exit(2);
}
if (!/^[a-z_]{1,40}$/.test(args.reason ?? '')) {
  console.error('--reason is a code (lowercase letters and _), e.g. customer_request: it is written to the public log');
  process.exit(2);
}
const config = loadConfig(process.env);
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: resolve(config.dataDir) });
let code = 0;
try {
  await database.migrate();
  const db = database.db;
  let id = args.conversation;
  if (!id) {
    const [row] = await db
      .select({ id: conversation.id })
      .from(conversation)
      .where(and(eq(conversation.channel, args.channel as string), eq(conversation.externalId, args['external-id'] as string)));
    id = row?.id;
  }
  if (!id) {
    console.error('no such conversation');
    code = 1;
  } else {
    // Erasure and holds are log entries; they need no signing key (the next checkpoint covers them).
    const log = createPgTurnLog({ db, origin: config.turnLog.origin });
    if (args.hold) {
      const idx = await log.placeLegalHold(id, args.hold);
      console.log(`legal hold placed on ${id} (log entry #${idx}); erasure requests are deferred until --release`);
    } else if (args.release) {
      const idx = await log.releaseLegalHold(id);
      console.log(`legal hold on ${id} released (log entry #${idx})`);
    } else {
      const result = await log.erase(id, args.reason);
      if (result.status === 'erased') console.log(`erased ${result.turnsErased} turns of ${id} (log entry #${result.entryIdx})`);
      else {
        console.log(`erasure of ${id} deferred: ${result.reason} (logged as entry #${result.entryIdx})`);
        code = 3;
      }
    }
  }
} finally {
  await database.close();
}
process.exit(code);

/**
 * Admin command for erasure requests and legal holds (all of them logged in the turn log):
 *
 *   npm run erase:customer -- --conversation ID [--reason CODE]      erase (crypto-shred) one conversation
 *   npm run erase:customer -- --channel telegram --user 123           every conversation of a Telegram user (private chat and groups)
 *   npm run erase:customer -- --channel web --external-id ID          a web customer
 *   npm run erase:customer -- --channel telegram --external-id 123    the conversation with this exact external id
 *   npm run erase:customer -- --conversation ID --hold "open dispute #42"   defer erasures (legal hold)
 *   npm run erase:customer -- --conversation ID --release                   lift the hold
 *
 * An erasure destroys the conversations' content keys, purges what the channels kept, then moves
 * every remaining key under a new master key (the old one is forgotten), so copies of the data
 * folder made before cannot be read for the erased customer. The bot's messages in the agents'
 * Slack thread are redacted by the server once it runs. Under a legal hold an erasure is deferred,
 * and the deferral logged. Exits 0 when done, 3 when something was deferred or the key rotation is
 * left to the operator.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadContentKeys } from '../src/adapters/postgres/db/content-keys.js';
import { openDatabase } from '../src/adapters/postgres/db/database.js';
import { type ErasureTarget, eraseCustomer, findCustomerConversations } from '../src/adapters/postgres/stores/pg-erasure.js';
import { createPgTurnLog } from '../src/adapters/postgres/turn-log/pg-turn-log.js';
import { loadConfig } from '../src/config.js';

const { values: args } = parseArgs({
  options: {
    conversation: { type: 'string' },
    channel: { type: 'string' },
    'external-id': { type: 'string' },
    user: { type: 'string' },
    reason: { type: 'string', default: 'customer_request' },
    hold: { type: 'string' },
    release: { type: 'boolean' },
  },
});
const usage =
  'usage: npm run erase:customer -- (--conversation ID | --channel telegram --user ID | --channel web|telegram --external-id ID) [--reason CODE | --hold REASON | --release]';
let target: ErasureTarget | undefined;
if (args.conversation) target = { conversationId: args.conversation };
else if (args.channel === 'telegram' && args.user) target = { channel: 'telegram', userId: args.user };
else if (args.channel && args['external-id']) target = { channel: args.channel, externalId: args['external-id'] };
if (!target) {
  console.error(usage);
  process.exit(2);
}
if (!/^[a-z_]{1,40}$/.test(args.reason ?? '')) {
  console.error('--reason is a code (lowercase letters and _), e.g. customer_request: it is written to the public log');
  process.exit(2);
}
const config = loadConfig(process.env);
const contentKeys = loadContentKeys({ text: config.turnLog.contentMasterKey, file: resolve(config.turnLog.contentKeyFile), createIfMissing: true }).keys;
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: resolve(config.dataDir), contentKeys });
let code = 0;
try {
  await database.migrate();
  const db = database.db;
  // Erasure and holds are log entries; they need no signing key (the next checkpoint covers them).
  const log = createPgTurnLog({ database, origin: config.turnLog.origin });
  if (args.hold || args.release) {
    const ids = await findCustomerConversations(db, target);
    if (ids.length === 0) code = notFound();
    for (const id of ids) {
      if (args.hold) {
        const idx = await log.placeLegalHold(id, args.hold);
        console.log(`legal hold placed on ${id} (log entry #${idx}); erasure requests are deferred until --release`);
      } else {
        const idx = await log.releaseLegalHold(id);
        console.log(`legal hold on ${id} released (log entry #${idx})`);
      }
    }
  } else {
    const erasure = await eraseCustomer(db, log, target, args.reason);
    if (erasure.conversations.length === 0) code = notFound();
    for (const { conversationId: id, result } of erasure.conversations) {
      if (result.status === 'erased') console.log(`erased ${result.turnsErased} turns of ${id} (log entry #${result.entryIdx})`);
      else {
        console.log(`erasure of ${id} deferred: ${result.reason} (logged as entry #${result.entryIdx})`);
        code = 3;
      }
    }
    if (erasure.rotation) {
      const r = erasure.rotation;
      console.log(
        `content master key rotated to v${r.version}: ${r.rewrapped} keys re-wrapped, ${r.resealed} payloads re-sealed, v${r.retired.join(', v')} forgotten`,
      );
    } else if (erasure.rotationPending) {
      console.error(`NOT YET HOLDING AGAINST OLDER COPIES: ${erasure.rotationPending}`);
      code = 3;
    }
  }
} finally {
  await database.close();
}
process.exit(code);

function notFound(): number {
  console.error('no such conversation');
  return 1;
}

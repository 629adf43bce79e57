import { loadContentKeys } from '../../src/adapters/postgres/db/content-keys.js';
import { openDatabase } from '../../src/adapters/postgres/db/database.js';
import { createPgConversationStore } from '../../src/adapters/postgres/stores/conversation/pg-conversation-store.js';
import { eraseCustomer } from '../../src/adapters/postgres/stores/pg-erasure.js';
import { createPgTurnLog } from '../../src/adapters/postgres/turn-log/pg-turn-log.js';
import { createFirewall } from '../../src/core/index.js';
import { percentile, round } from './stats.js';

const firewall = createFirewall({ maxMessageChars: 4000 });

/**
 * What an erasure costs on PostgreSQL with `conversations` conversations stored (each with a
 * handle and 4 turns): one conversation erased, the channel copies purged and the master key
 * rotated (every other key re-wrapped, every handle re-sealed), `rounds` times.
 */
export async function benchErasure(databaseUrl: string, options: { conversations: number; rounds: number; log: (m: string) => void }) {
  const database = await openDatabase({ databaseUrl, dataDir: 'unused', contentKeys: loadContentKeys({}).keys });
  try {
    await database.migrate();
    const store = createPgConversationStore(database);
    const log = createPgTurnLog({ database, origin: 'bench.example/erasure' });
    const ids: string[] = [];
    const text = firewall.screen({ text: '我的提现一直没有到账，请帮我查一下 withdrawal pending' }).text;
    for (let i = 0; i < options.conversations; i += 200) {
      const opened = await Promise.all(
        Array.from({ length: Math.min(200, options.conversations - i) }, (_, j) =>
          store.open({
            channel: 'telegram',
            externalId: String(1_000_000 + i + j),
            language: 'zh',
            tokenHash: null,
            customerHandle: firewall.screenName(`@trader_${i + j}`),
          }),
        ),
      );
      await Promise.all(
        opened.map(({ conversation }) =>
          store.append(conversation.id, [
            { role: 'customer', kind: 'message', text, language: 'zh' },
            { role: 'bot', kind: 'answer', text: '请稍等', language: 'zh' },
            { role: 'customer', kind: 'message', text, language: 'zh' },
            { role: 'bot', kind: 'answer', text: '请稍等', language: 'zh' },
          ]),
        ),
      );
      ids.push(...opened.map((o) => o.conversation.id));
    }
    options.log(`erasure: ${ids.length} conversations stored`);
    const erase: number[] = [];
    const rotate: number[] = [];
    for (let r = 0; r < options.rounds; r++) {
      const started = performance.now();
      const result = await eraseCustomer(database.db, log, { conversationId: ids[r] as string });
      const total = performance.now() - started;
      if (!result.rotation) throw new Error(`no rotation: ${result.rotationPending}`);
      erase.push(total);
      rotate.push(result.rotation.rewrapped);
    }
    return {
      conversations: ids.length,
      rounds: options.rounds,
      eraseAndRotateMs: {
        p50: round(
          percentile(
            [...erase].sort((a, b) => a - b),
            50,
          ),
        ),
        max: round(Math.max(...erase)),
      },
      keysRewrappedPerRotation: rotate[0],
    };
  } finally {
    await database.close();
  }
}

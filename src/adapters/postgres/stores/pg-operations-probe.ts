import { and, desc, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import type { OperationsProbe, OperationsSnapshot } from '../../../core/index.js';
import type { Db } from '../db/database.js';
import { channelOutbox, channelUpdate, handoff, logCheckpoint, logHead } from '../schema/index.js';

/** Seconds since a timestamp column's smallest value, by the database's clock (the same for every instance). */
const ageSeconds = (column: typeof channelOutbox.createdAt | typeof channelUpdate.receivedAt | typeof handoff.escalatedAt) =>
  sql<string | number | null>`extract(epoch from now() - min(${column}))`;
const toSeconds = (v: string | number | null | undefined) => (v === null || v === undefined ? 0 : Math.max(0, Number(v)));

/**
 * The operations snapshot from PostgreSQL / PGlite: pending outbox and inbox items (their partial
 * indexes cover these counts), the log head and latest checkpoint (one row each), open handoffs.
 */
export function createPgOperationsProbe(db: Db): OperationsProbe {
  return {
    async read(): Promise<OperationsSnapshot> {
      const outbox = await db
        .select({ name: channelOutbox.channel, pending: sql<number>`count(*)::int`, age: ageSeconds(channelOutbox.createdAt) })
        .from(channelOutbox)
        .where(eq(channelOutbox.status, 'pending'))
        .groupBy(channelOutbox.channel);
      const inbox = await db
        .select({ name: channelUpdate.source, pending: sql<number>`count(*)::int`, age: ageSeconds(channelUpdate.receivedAt) })
        .from(channelUpdate)
        .where(eq(channelUpdate.status, 'pending'))
        .groupBy(channelUpdate.source);
      const [head] = await db.select({ size: logHead.size }).from(logHead).limit(1);
      const [checkpoint] = await db
        .select({ size: logCheckpoint.size, age: sql<string | number>`extract(epoch from now() - ${logCheckpoint.createdAt})` })
        .from(logCheckpoint)
        .orderBy(desc(logCheckpoint.size))
        .limit(1);
      const [unclaimed] = await db
        .select({ count: sql<number>`count(*)::int`, age: ageSeconds(handoff.escalatedAt) })
        .from(handoff)
        .where(and(eq(handoff.open, true), isNull(handoff.claimedBy)));
      const [claimed] = await db
        .select({ count: sql<number>`count(*)::int` })
        .from(handoff)
        .where(and(eq(handoff.open, true), isNotNull(handoff.claimedBy)));
      const toQueue = (r: { name: string; pending: number; age: string | number | null }) => ({
        name: r.name,
        pending: Number(r.pending),
        oldestAgeSeconds: toSeconds(r.age),
      });
      return {
        outbox: outbox.map(toQueue),
        inbox: inbox.map(toQueue),
        turnLog: {
          size: Number(head?.size ?? 0),
          checkpointSize: Number(checkpoint?.size ?? 0),
          checkpointAgeSeconds: checkpoint ? toSeconds(checkpoint.age) : null,
        },
        handoffs: {
          unclaimed: Number(unclaimed?.count ?? 0),
          claimed: Number(claimed?.count ?? 0),
          oldestUnclaimedAgeSeconds: toSeconds(unclaimed?.age),
        },
      };
    },
  };
}

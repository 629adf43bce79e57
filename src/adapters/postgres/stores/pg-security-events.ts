import { and, desc, eq, type SQL } from 'drizzle-orm';
import type { RecordedSecurityEvent, SecurityEventLog, SecurityEventType } from '../../../core/index.js';
import type { Db } from '../db/database.js';
import { securityEvent } from '../schema/index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Security events in PostgreSQL (append-only table `security_event`). */
export function createPgSecurityEventLog(db: Db): SecurityEventLog {
  return {
    async record(event) {
      await db.insert(securityEvent).values({
        type: event.type,
        channel: event.channel ?? null,
        conversationId: event.conversationId && UUID.test(event.conversationId) ? event.conversationId : null,
        detail: event.detail,
      });
    },
    async list(options = {}) {
      const where: SQL[] = [];
      if (options.type) where.push(eq(securityEvent.type, options.type));
      if (options.conversationId) {
        if (!UUID.test(options.conversationId)) return [];
        where.push(eq(securityEvent.conversationId, options.conversationId));
      }
      const rows = await db
        .select()
        .from(securityEvent)
        .where(where.length > 0 ? and(...where) : undefined)
        .orderBy(desc(securityEvent.id))
        .limit(Math.min(Math.max(options.limit ?? 100, 1), 1000));
      return rows.map(
        (r): RecordedSecurityEvent => ({
          id: r.id,
          type: r.type as SecurityEventType,
          channel: r.channel,
          conversationId: r.conversationId,
          detail: r.detail as RecordedSecurityEvent['detail'],
          createdAt: r.createdAt,
        }),
      );
    },
  };
}

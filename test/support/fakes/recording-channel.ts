import type { Conversation, CustomerChannel, Turn } from '../../../src/core/index.js';

/**
 * A customer's channel that records what the desk hands it, call by call (a test checks that each
 * turn arrived once). `failNext(n)` makes the next n deliveries fail as an unreachable channel does.
 */
export function createRecordingChannel() {
  const deliveries: Array<{ conversationId: string; turns: Turn[] }> = [];
  let failures = 0;
  const channel: CustomerChannel & {
    deliveries: typeof deliveries;
    /** The turns handed over for a conversation, in order, each as often as it was handed over. */
    deliveredTo(conversationId: string): Turn[];
    failNext(n: number): void;
  } = {
    deliveries,
    async deliver(conversation: Conversation, turns: Turn[]) {
      if (failures > 0) {
        failures -= 1;
        throw new Error('channel unreachable');
      }
      deliveries.push({ conversationId: conversation.id, turns: structuredClone(turns) });
    },
    deliveredTo(conversationId) {
      return deliveries.filter((d) => d.conversationId === conversationId).flatMap((d) => d.turns);
    },
    failNext(n) {
      failures = n;
    },
  };
  return channel;
}

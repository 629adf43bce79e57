import { vi } from 'vitest';
import type { Database } from '../../src/adapters/postgres/db/database.js';
import { createPgConversationStore } from '../../src/adapters/postgres/stores/conversation/pg-conversation-store.js';
import type { Channel, EscalationReason, Language, Priority, Role, TurnData, TurnKind } from '../../src/core/index.js';
import { screened } from './screened.js';

const ALICE = { agentId: 'U1', author: 'Alice' };
const BOB = { agentId: 'U2', author: 'Bob' };
/** Words only a customer would write: they must never reach a plain column. */
export const CUSTOMER_WORDS = '我的提现一直没有到账';

/**
 * A scripted history with exact times, written through the conversation store as the product
 * writes it: content sealed, the row keeping only its plain metadata. The clock (Date only) is
 * set to each turn's time. Range under test: 2026-03-02 to 2026-03-04 (UTC). The expected figures
 * of test/integration/stats-api.test.ts are worked out by hand from this script (docs/stats.md).
 */
export async function writeHistory(database: Database) {
  const store = createPgConversationStore(database);
  const ids: Record<string, string> = {};
  vi.useFakeTimers({ toFake: ['Date'] });
  try {
    await script(async (name: string, channel: Channel, language: Language) => {
      const { conversation: c } = await store.open({
        channel,
        externalId: `customer-${name}`,
        language,
        tokenHash: null,
        customerHandle: screened(`@customer_${name}`),
      });
      ids[name] = c.id;
      return async (
        role: Role,
        kind: TurnKind,
        at: string,
        extra: { language?: Language; data?: TurnData; reason?: EscalationReason; priority?: Priority } = {},
      ) => {
        vi.setSystemTime(new Date(at));
        const text = `${CUSTOMER_WORDS} ${name} ${role} ${kind}`;
        const base = { kind, language: extra.language ?? language, data: extra.data ?? {} };
        const escalation = extra.reason ? { reason: extra.reason, priority: extra.priority ?? 'normal', detail: `${CUSTOMER_WORDS} detail` } : null;
        await store.append(c.id, [role === 'customer' ? { ...base, role, text: screened(text) } : { ...base, role, text, escalation }]);
      };
    });
  } finally {
    vi.useRealTimers();
  }
  return ids;
}

type Say = (
  role: Role,
  kind: TurnKind,
  at: string,
  extra?: { language?: Language; data?: TurnData; reason?: EscalationReason; priority?: Priority },
) => Promise<void>;

async function script(open: (name: string, channel: Channel, language: Language) => Promise<Say>) {
  const cite = (...ids: string[]): TurnData => ({ citations: ids.map((id) => ({ id, title: id, version: 1 })) });
  const agent = (who: typeof ALICE, extra: TurnData = {}): TurnData => ({ ...who, ...extra });

  // A: answered, then marked solved: resolved by the bot.
  const a = await open('a', 'web', 'en');
  await a('bot', 'greeting', '2026-03-02T10:00:00Z');
  await a('customer', 'message', '2026-03-02T10:00:05Z');
  await a('bot', 'answer', '2026-03-02T10:00:06Z', { data: cite('faq-withdrawal') });
  await a('customer', 'action', '2026-03-02T10:01:00Z', { data: { action: 'solved' } });
  await a('bot', 'notice', '2026-03-02T10:01:01Z');
  // B: answered on two days, in Chinese then in English; never marked solved.
  const b = await open('b', 'telegram', 'zh');
  await b('customer', 'message', '2026-03-02T11:00:00Z');
  await b('bot', 'answer', '2026-03-02T11:00:01Z', { data: cite('faq-withdrawal', 'faq-kyc') });
  await b('customer', 'message', '2026-03-03T09:00:00Z', { language: 'en' });
  await b('bot', 'answer', '2026-03-03T09:00:01Z', { language: 'en', data: cite('faq-kyc') });
  // C: escalated, claimed, replied to after 600 s, resolved after 1800 s by Alice, rated 5.
  const c = await open('c', 'web', 'en');
  await c('customer', 'message', '2026-03-02T12:00:00Z');
  await c('system', 'escalation', '2026-03-02T12:00:00Z', { reason: 'low_confidence', priority: 'normal' });
  await c('agent', 'handoff', '2026-03-02T12:05:00Z', { data: agent(ALICE, { handoff: 'claimed' }) });
  await c('agent', 'message', '2026-03-02T12:10:00Z', { data: agent(ALICE) });
  await c('agent', 'handoff', '2026-03-02T12:30:00Z', { data: agent(ALICE, { handoff: 'resolved' }) });
  await c('customer', 'rating', '2026-03-02T12:31:00Z', { data: { rating: 5 } });
  // D: an urgent scam report; Bob's internal note is not a reply; reply after 120 s, resolved after 1200 s, rated 3.
  const d = await open('d', 'telegram', 'en');
  await d('customer', 'message', '2026-03-03T08:00:00Z');
  await d('system', 'escalation', '2026-03-03T08:00:00Z', { reason: 'scam_report', priority: 'urgent' });
  await d('agent', 'note', '2026-03-03T08:01:00Z', { data: agent(BOB, { internal: true }) });
  await d('agent', 'message', '2026-03-03T08:02:00Z', { data: agent(BOB) });
  await d('agent', 'handoff', '2026-03-03T08:20:00Z', { data: agent(BOB, { handoff: 'resolved' }) });
  await d('customer', 'rating', '2026-03-03T08:21:00Z', { data: { rating: 3 } });
  // E: asked for a human, nobody answered, then marked solved (no human turn: resolved by the bot).
  const e = await open('e', 'web', 'zh');
  await e('customer', 'action', '2026-03-03T14:00:00Z', { data: { action: 'human' } });
  await e('system', 'escalation', '2026-03-03T14:00:01Z', { reason: 'customer_requested_human', priority: 'normal' });
  await e('customer', 'action', '2026-03-03T15:00:00Z', { data: { action: 'solved' } });
  // F: asked in the last second of the range; the answer falls after it.
  const f = await open('f', 'web', 'en');
  await f('customer', 'message', '2026-03-04T23:59:59.500Z');
  await f('bot', 'answer', '2026-03-05T00:00:00.200Z', { data: cite('faq-fees') });
  // G: escalated before the range; an agent's reply inside it does not make G a conversation of the range.
  const g = await open('g', 'web', 'en');
  await g('customer', 'message', '2026-03-01T23:00:00Z');
  await g('system', 'escalation', '2026-03-01T23:00:01Z', { reason: 'sensitive_topic', priority: 'urgent' });
  await g('agent', 'message', '2026-03-02T00:10:00Z', { data: agent(ALICE) });
  // H: answered, escalated, Alice replies (240 s) and hands back; escalated again, Bob replies (60 s), resolves (600 s), rated 4.
  const h = await open('h', 'web', 'en');
  await h('customer', 'message', '2026-03-04T09:59:00Z');
  await h('bot', 'answer', '2026-03-04T09:59:01Z', { data: cite('faq-fees') });
  await h('customer', 'message', '2026-03-04T10:00:00Z');
  await h('system', 'escalation', '2026-03-04T10:00:01Z', { reason: 'low_confidence', priority: 'normal' });
  await h('agent', 'message', '2026-03-04T10:04:01Z', { data: agent(ALICE) });
  await h('agent', 'handoff', '2026-03-04T10:05:00Z', { data: agent(ALICE, { handoff: 'handed_back' }) });
  await h('customer', 'message', '2026-03-04T10:06:00Z');
  await h('system', 'escalation', '2026-03-04T10:06:01Z', { reason: 'customer_unsatisfied', priority: 'normal' });
  await h('agent', 'message', '2026-03-04T10:07:01Z', { data: agent(BOB) });
  await h('agent', 'handoff', '2026-03-04T10:16:01Z', { data: agent(BOB, { handoff: 'resolved' }) });
  await h('customer', 'rating', '2026-03-04T10:17:00Z', { data: { rating: 4 } });
}

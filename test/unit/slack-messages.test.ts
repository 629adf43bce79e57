import { describe, expect, it } from 'vitest';
import { toRootMessage } from '../../src/adapters/slack/slack-messages.js';
import type { HandoffRecord, HandoffSummary } from '../../src/core/index.js';

const summary = (over: Partial<HandoffSummary>): HandoffSummary => ({
  conversationId: '00000000-0000-4000-8000-000000000001',
  channel: 'telegram',
  customerHandle: null,
  language: 'en',
  priority: 'normal',
  escalation: { reason: 'customer_requested_human', priority: 'normal', detail: 'asked' },
  summary: 'help',
  lastTurns: [],
  triedEntries: [],
  confidence: null,
  ...over,
});

describe('Slack thread root', () => {
  it('escapes customer words in the fallback text, so <!channel>, <!everyone> and links cannot ping or link', () => {
    const root = toRootMessage(
      summary({ customerHandle: 'Mallory <!everyone>', summary: '<!channel> urgent <https://evil.example|support> & more' }),
      undefined,
    );
    expect(root.text).not.toMatch(/<!channel>|<!everyone>|<https:/);
    expect(root.text).toContain('&lt;!channel&gt; urgent &lt;https://evil.example|support&gt; &amp; more');
    expect(root.text).toContain('Mallory &lt;!everyone&gt;');
    // The blocks were already escaped; they stay so.
    expect(JSON.stringify(root.blocks)).not.toMatch(/<!channel>/);
  });

  it('names a holder from another desk by name and a Slack user by mention', () => {
    const record = (claimedBy: string, claimedName: string): HandoffRecord => ({
      conversationId: '00000000-0000-4000-8000-000000000001',
      open: true,
      openedSeq: 3,
      escalatedAt: new Date(0),
      claimedBy,
      claimedName,
      remindedAt: null,
      deliveredSeq: 3,
    });
    const inbox = JSON.stringify(toRootMessage(summary({}), record('console:bob', 'bob <!here>')).blocks);
    expect(inbox).toContain('Claimed by bob &lt;!here&gt;');
    expect(inbox).not.toContain('<@console:');
    expect(JSON.stringify(toRootMessage(summary({}), record('UALICE', 'Alice')).blocks)).toContain('Claimed by <@UALICE>');
  });
});

import { describe, expect, it } from 'vitest';
import { toRootMessage } from '../../src/adapters/slack/slack-messages.js';
import type { HandoffSummary } from '../../src/core/index.js';

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
});

import { describe, expect, it } from 'vitest';
import { createPrivateLinks } from '../../src/adapters/telegram/private-links.js';

describe('links from a group to a private chat', () => {
  const links = createPrivateLinks('123456:TOKEN');
  const payloadOf = (link: string) => new URL(link).searchParams.get('start') as string;

  it("continue what they name for the member they were made for, within Telegram's 64 characters", () => {
    const transcript = links.link('examplex_support_bot', { topic: 'transcript' }, -1001234567890, 4242);
    expect(transcript).toMatch(/^https:\/\/t\.me\/examplex_support_bot\?start=[A-Za-z0-9_-]{1,64}$/);
    expect(links.read(payloadOf(transcript), 4242)).toEqual({ topic: 'transcript', groupId: -1001234567890 });
    const handoff = links.link('examplex_support_bot', { topic: 'handoff', escalation: { reason: 'sensitive_topic', priority: 'urgent' } }, -42, 4242);
    expect(links.read(payloadOf(handoff), 4242)).toEqual({ topic: 'handoff', groupId: -42, escalation: { reason: 'sensitive_topic', priority: 'urgent' } });
  });

  it('open nothing for another user, for a changed group or topic, or with another bot token', () => {
    const payload = payloadOf(links.link('b', { topic: 'transcript' }, -1001234567890, 4242));
    expect(links.isLink(payload)).toBe(true);
    expect(links.read(payload, 4243)).toBeUndefined();
    expect(links.read(payload.replace(/_n[0-9a-z]+_/, `_n${(1001234567891).toString(36)}_`), 4242)).toBeUndefined();
    expect(links.read(`h0n${payload.slice(1)}`, 4242)).toBeUndefined();
    expect(createPrivateLinks('123456:OTHER').read(payload, 4242)).toBeUndefined();
    expect(links.read('hello', 4242)).toBeUndefined();
  });
});

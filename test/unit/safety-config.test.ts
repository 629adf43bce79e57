import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

describe('safety configuration', () => {
  it('defaults to the starter knowledge base contacts, no phone, 20 messages a minute, admin closed', () => {
    const { safety } = loadConfig({});
    expect(safety.official).toEqual({
      urls: ['https://www.examplex.example', 'https://support.examplex.example', 'https://status.examplex.example'],
      telegramHandles: ['@ExampleXSupportBot', '@ExampleXAnnouncements'],
      emails: ['support@examplex.example'],
      phones: [],
    });
    expect(safety.rateLimit).toEqual({ limit: 20, windowMs: 60_000 });
    expect(safety.adminToken).toBeUndefined();
  });

  it('reads comma-separated lists and the limits', () => {
    const { safety } = loadConfig({
      OFFICIAL_TELEGRAM_HANDLES: ' @A_bot , ,@B_news ',
      OFFICIAL_PHONES: '+1 555 0100',
      RATE_LIMIT_MESSAGES: '5',
      RATE_LIMIT_WINDOW_SECONDS: '10',
      ADMIN_TOKEN: 'a-long-enough-admin-token',
    });
    expect(safety.official.telegramHandles).toEqual(['@A_bot', '@B_news']);
    expect(safety.official.phones).toEqual(['+1 555 0100']);
    expect(safety.rateLimit).toEqual({ limit: 5, windowMs: 10_000 });
    expect(safety.adminToken).toBe('a-long-enough-admin-token');
  });

  it('refuses a short admin token without echoing it, and a zero rate limit', () => {
    expect(() => loadConfig({ ADMIN_TOKEN: 'short-secret', RATE_LIMIT_MESSAGES: '0' })).toThrow(
      /RATE_LIMIT_MESSAGES[\s\S]*ADMIN_TOKEN: expected at least 16 characters \(got "\*\*\*"\)/,
    );
    try {
      loadConfig({ ADMIN_TOKEN: 'short-secret' });
    } catch (error) {
      expect(String(error)).not.toContain('short-secret');
    }
  });
});

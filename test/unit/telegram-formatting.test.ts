import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../src/adapters/telegram/format-html.js';
import { splitMessage, TELEGRAM_MAX_MESSAGE_CHARS } from '../../src/adapters/telegram/split-message.js';
import { toTelegramMessages } from '../../src/adapters/telegram/to-telegram-messages.js';
import type { Turn } from '../../src/core/index.js';
import { parseTelegramHtml } from '../stand-ins/fake-telegram.js';

const turn = (over: Partial<Turn>): Turn =>
  ({ id: 't1', conversationId: 'c1', seq: 3, role: 'bot', kind: 'answer', text: '', language: 'en', data: {}, createdAt: new Date(0), ...over }) as Turn;

describe('splitMessage', () => {
  it('keeps a short reply in one message, trimmed', () => {
    expect(splitMessage('  Hello there.  ')).toEqual(['Hello there.']);
  });

  it('cuts at the last paragraph break that fits', () => {
    const a = 'a'.repeat(60);
    const b = 'b'.repeat(30);
    expect(splitMessage(`${a}\n\n${b}`, 80)).toEqual([a, b]);
  });

  it('cuts after a sentence end when no paragraph break fits, in English and Chinese', () => {
    const english = `${'First sentence is long enough. '.repeat(3)}Second part without end`;
    const parts = splitMessage(english, 100);
    expect(parts.every((p) => p.length <= 100)).toBe(true);
    expect(parts[0]).toMatch(/\.$/);
    expect(parts.join(' ')).toBe(english.replace(/\s+/g, ' ').trim());

    const chinese = `${'这是第一句话，内容比较长。'.repeat(5)}这是最后一句`;
    const zh = splitMessage(chinese, 40);
    expect(zh.every((p) => p.length <= 40)).toBe(true);
    expect(zh.slice(0, -1).every((p) => p.endsWith('。'))).toBe(true);
    expect(zh.join('')).toBe(chinese);
  });

  it('falls back to spaces, then a hard cut that never splits a surrogate pair', () => {
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const parts = splitMessage(words, 50);
    expect(parts.every((p) => p.length <= 50 && !p.startsWith(' '))).toBe(true);
    expect(parts.join(' ')).toBe(words);

    const emoji = '😀'.repeat(30); // 60 UTF-16 units, no boundary
    const hard = splitMessage(emoji, 25);
    expect(hard.every((p) => p.length <= 25 && !/[\ud800-\udbff]$/.test(p))).toBe(true);
    expect(hard.join('')).toBe(emoji);
  });

  it('splits a 6,000-character answer into messages within Telegram limit, losing nothing', () => {
    const paragraph = `${'Withdrawals are reviewed for security. '.repeat(10).trim()}`;
    const text = Array.from({ length: 20 }, () => paragraph).join('\n\n');
    expect(text.length).toBeGreaterThan(6000);
    const parts = splitMessage(text);
    expect(parts.length).toBe(2);
    expect(parts.every((p) => p.length <= TELEGRAM_MAX_MESSAGE_CHARS)).toBe(true);
    expect(parts.join('\n\n')).toBe(text);
  });
});

describe('escapeHtml', () => {
  it('escapes the three characters Telegram HTML reserves and nothing else', () => {
    expect(escapeHtml('a < b && c > d "q" \'s\' *_[]()~`#+-=|{}.!')).toBe('a &lt; b &amp;&amp; c &gt; d "q" \'s\' *_[]()~`#+-=|{}.!');
  });

  it('produces text Telegram parses back to the original, whatever the input', () => {
    for (const text of ['<script>alert(1)</script>', 'fee < 0.1% & > 0', '&amp; already escaped', '</b><b>', '<a href="x">y</a>']) {
      expect(parseTelegramHtml(escapeHtml(text))).toBe(text);
    }
  });
});

describe('toTelegramMessages', () => {
  it('shows an agent reply under the agent display name in bold, text escaped', () => {
    const [message, ...rest] = toTelegramMessages(
      turn({ role: 'agent', kind: 'message', text: 'Use <Settings> & Security', data: { author: 'Alice <Ops>' } }),
      { chatId: '42' },
    );
    expect(rest).toEqual([]);
    expect(message?.text).toBe('<b>Alice &lt;Ops&gt;</b>:\nUse &lt;Settings&gt; &amp; Security');
    expect(parseTelegramHtml(message?.text ?? '')).toBe('Alice <Ops>:\nUse <Settings> & Security');
  });

  it('keeps every message of a long signed agent reply within the limit', () => {
    const text = 'x'.repeat(9000);
    const messages = toTelegramMessages(turn({ role: 'agent', kind: 'message', text, data: { author: 'Bob' } }), { chatId: '42' });
    expect(messages.map((m) => parseTelegramHtml(m.text).length).every((n) => n <= TELEGRAM_MAX_MESSAGE_CHARS)).toBe(true);
    expect(
      messages
        .map((m) => parseTelegramHtml(m.text))
        .join('')
        .replace('Bob:\n', ''),
    ).toBe(text);
  });

  it('does not sign handoff notices, which already name the agent', () => {
    const [message] = toTelegramMessages(
      turn({
        role: 'agent',
        kind: 'handoff',
        text: 'Alice from our support team is now handling your request.',
        data: { author: 'Alice', handoff: 'claimed' },
      }),
      { chatId: '42' },
    );
    expect(message?.text).toBe('Alice from our support team is now handling your request.');
  });

  it('names cited entries at the end and puts the buttons on the last message only', () => {
    const text = `${'a'.repeat(50)}\n\n${'b'.repeat(50)}`;
    const messages = toTelegramMessages(
      turn({
        text,
        data: {
          citations: [{ id: 'fees-en', title: 'Fees & limits', score: 0.9 }] as never,
          actions: [
            { id: 'resolved', label: 'This solved it' },
            { id: 'human', label: 'Talk to a human' },
          ] as never,
        },
      }),
      { chatId: '42', limit: 60 },
    );
    // The footer does not fit after the last piece (50 + 2 + 21 > 60): it gets its own message.
    expect(messages).toHaveLength(3);
    expect(messages.at(-1)?.text).toBe('<b>Source:</b> Fees &amp; limits');
    expect(messages.slice(0, -1).every((m) => m.reply_markup === undefined)).toBe(true);
    expect(messages.at(-1)?.reply_markup?.inline_keyboard[0]?.map((b) => b.text)).toEqual(['This solved it', 'Talk to a human']);
    const roomy = toTelegramMessages(turn({ text, data: { citations: [{ id: 'fees-en', title: 'Fees & limits', score: 0.9 }] as never } }), {
      chatId: '42',
      limit: 80,
    });
    expect(roomy.map((m) => m.text)).toEqual(['a'.repeat(50), `${'b'.repeat(50)}\n\n<b>Source:</b> Fees &amp; limits`]);
  });
});

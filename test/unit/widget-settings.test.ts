import { describe, expect, it } from 'vitest';
import { readScriptOptions } from '../../src/adapters/web/widget/mount.js';
import { shouldPoll, type PollingState } from '../../src/adapters/web/widget/poll.js';
import { counterThreshold } from '../../src/adapters/web/widget/settings.js';
import { chooseLanguage, CONVERSATION_KEY, createStore, loadConversation, saveConversation } from '../../src/adapters/web/widget/storage.js';
import { createTexts } from '../../src/adapters/web/widget/texts.js';

/** A browser's Storage over a Map; `blocked` throws on every access, as sandboxed iframes and privacy modes do. */
function storage(blocked = false): Storage {
  const map = new Map<string, string>();
  const guard = () => {
    if (blocked) throw new DOMException('The operation is insecure.', 'SecurityError');
  };
  return {
    get length() {
      return map.size;
    },
    clear: () => map.clear(),
    key: (i) => [...map.keys()][i] ?? null,
    getItem: (k) => (guard(), map.get(k) ?? null),
    setItem: (k, v) => (guard(), void map.set(k, v)),
    removeItem: (k) => (guard(), void map.delete(k)),
  };
}

describe("the widget's texts carry the product's name and message limit", () => {
  it('names the exchange in the title, the assistant and the launcher, in both languages', () => {
    const texts = createTexts({ exchangeName: 'Acme', maxMessageChars: 1200 });
    expect(texts.en).toMatchObject({ title: 'Acme Support', bot: 'Acme Assistant', open: 'Open Acme support chat' });
    expect(texts.zh).toMatchObject({ title: 'Acme 客服', bot: 'Acme 智能助手', open: '打开 Acme 在线客服' });
    expect(JSON.stringify(Object.values(texts).map((t) => [t.title, t.bot, t.open]))).not.toContain('ExampleX');
  });

  it('counts characters against the configured limit and shows the counter from 7/8 of it', () => {
    const texts = createTexts({ exchangeName: 'Acme', maxMessageChars: 1200 });
    expect(texts.en.counter(1100)).toBe('1100 / 1200');
    expect(texts.zh.counter(1201)).toBe('1201 / 1200');
    expect(counterThreshold(4000)).toBe(3500);
    expect(counterThreshold(1200)).toBe(1050);
  });

  it('has the same texts in Chinese and English', () => {
    const texts = createTexts({ exchangeName: 'Acme', maxMessageChars: 1200 });
    expect(Object.keys(texts.zh).sort()).toEqual(Object.keys(texts.en).sort());
    expect(texts.en.unread(1)).toBe('1 new message');
    expect(texts.en.unread(3)).toBe('3 new messages');
    expect(texts.zh.unread(3)).toBe('3 条新消息');
  });
});

describe('the widget remembers the conversation in the browser', () => {
  it('keeps the conversation and reads it back; a corrupt or foreign entry counts as none', () => {
    const browser = storage();
    const store = createStore(() => browser);
    expect(loadConversation(store)).toBeNull();
    saveConversation(store, { id: 'c-1', token: 'tok', lastSeq: 7 });
    expect(loadConversation(store)).toEqual({ id: 'c-1', token: 'tok', lastSeq: 7 });
    browser.setItem(CONVERSATION_KEY, '{"id":"c-1","token":"tok","lastSeq":"7"}');
    expect(loadConversation(store)).toEqual({ id: 'c-1', token: 'tok', lastSeq: 0 });
    for (const bad of ['{not json', '"c-1"', '[]', '{"id":1,"token":"tok"}', 'null']) {
      browser.setItem(CONVERSATION_KEY, bad);
      expect(loadConversation(store), bad).toBeNull();
    }
    saveConversation(store, null);
    expect(browser.getItem(CONVERSATION_KEY)).toBeNull();
  });

  it('still works for the page when the browser refuses storage', () => {
    const store = createStore(() => storage(true));
    saveConversation(store, { id: 'c-2', token: 'tok', lastSeq: 1 });
    expect(loadConversation(store)).toEqual({ id: 'c-2', token: 'tok', lastSeq: 1 });
    saveConversation(store, null);
    expect(loadConversation(store)).toBeNull();
  });

  it("chooses the page's language, then the customer's saved choice, then the browser's", () => {
    expect(chooseLanguage('en', 'zh', ['zh-CN'])).toBe('en');
    expect(chooseLanguage(null, 'zh', ['en-US'])).toBe('zh');
    expect(chooseLanguage('fr', 'xx', ['zh-TW', 'en'])).toBe('zh');
    expect(chooseLanguage(null, null, ['en-GB', 'zh-CN'])).toBe('en');
    expect(chooseLanguage(null, null, [])).toBe('en');
  });
});

describe('the widget polls for replies only when one can come and be seen', () => {
  const open: PollingState = { hasConversation: true, starting: false, hidden: false, conversationState: 'bot', embedded: true, open: true };

  it('polls an open conversation on a visible page', () => {
    expect(shouldPoll(open)).toBe(true);
    expect(shouldPoll({ ...open, embedded: false })).toBe(true);
  });

  it('does not poll without a conversation, while one starts, on a hidden page or once it is closed', () => {
    expect(shouldPoll({ ...open, hasConversation: false })).toBe(false);
    expect(shouldPoll({ ...open, starting: true })).toBe(false);
    expect(shouldPoll({ ...open, hidden: true })).toBe(false);
    // While an agent may reply, a hidden page still polls: the reply changes the tab's title.
    expect(shouldPoll({ ...open, hidden: true, conversationState: 'escalated' })).toBe(true);
    expect(shouldPoll({ ...open, conversationState: 'closed' })).toBe(false);
  });

  it('polls a closed embedded panel only while a human agent may reply (for the unread badge)', () => {
    expect(shouldPoll({ ...open, open: false })).toBe(false);
    expect(shouldPoll({ ...open, open: false, conversationState: 'escalated' })).toBe(true);
  });
});

describe('the widget reads its set-up from its script tag', () => {
  const attributes =
    (values: Record<string, string>) =>
    (name: string): string | null =>
      values[name] ?? null;

  it('embeds by default and talks to the origin it was loaded from, with the stylesheet beside the script', () => {
    expect(readScriptOptions(attributes({}), 'https://help.example.com/assets/widget.js?v=2', 'https://shop.example.org/page')).toEqual({
      mode: 'embed',
      apiBase: 'https://help.example.com',
      cssUrl: 'https://help.example.com/assets/widget.css',
      language: null,
      mountSelector: null,
      openAtStart: false,
    });
  });

  it('takes data-mode, data-api (without trailing slashes), data-lang, data-mount and data-open', () => {
    const options = readScriptOptions(
      attributes({ 'data-mode': 'page', 'data-api': '/helpdesk//', 'data-lang': 'zh', 'data-mount': '#chat', 'data-open': 'true' }),
      'https://help.example.com/widget.js',
      'https://shop.example.org/support/',
    );
    expect(options).toMatchObject({ mode: 'page', apiBase: 'https://shop.example.org/helpdesk', language: 'zh', mountSelector: '#chat', openAtStart: true });
  });

  it('falls back to the script origin for a data-api that is not a URL, and to the page for a missing src', () => {
    expect(readScriptOptions(attributes({ 'data-api': 'http://[bad' }), 'https://help.example.com/widget.js', 'https://shop.example.org/').apiBase).toBe(
      'https://help.example.com',
    );
    expect(readScriptOptions(attributes({}), null, 'https://help.example.com/')).toMatchObject({
      apiBase: 'https://help.example.com',
      cssUrl: 'https://help.example.com/widget.css',
    });
  });
});

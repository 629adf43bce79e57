import { isLanguage, type Language } from './texts.js';

/** Where the widget keeps the customer's conversation and language choice. */
export const CONVERSATION_KEY = 'examplex-helpdesk';
export const LANGUAGE_KEY = 'examplex-helpdesk-lang';

export interface KeyValueStore {
  get(key: string): string | null;
  set(key: string, value: string): void;
  remove(key: string): void;
}

/**
 * localStorage when the browser lets the page use it, memory otherwise (sandboxed iframes and
 * privacy modes throw on access): the widget then works for the page's lifetime.
 */
export function createStore(storage: () => Storage): KeyValueStore {
  const memory = new Map<string, string>();
  return {
    get(key) {
      try {
        return storage().getItem(key);
      } catch {
        return memory.get(key) ?? null;
      }
    },
    set(key, value) {
      try {
        storage().setItem(key, value);
      } catch {
        memory.set(key, value);
      }
    },
    remove(key) {
      try {
        storage().removeItem(key);
      } catch {
        // nothing stored there
      }
      memory.delete(key);
    },
  };
}

export interface StoredConversation {
  id: string;
  token: string;
  /** The last turn the widget has shown. */
  lastSeq: number;
}

/** The stored conversation, or null when there is none or the entry is not one (corrupt, foreign). */
export function loadConversation(store: KeyValueStore): StoredConversation | null {
  try {
    const value: unknown = JSON.parse(store.get(CONVERSATION_KEY) ?? 'null');
    if (value && typeof value === 'object') {
      const { id, token, lastSeq } = value as Record<string, unknown>;
      if (typeof id === 'string' && typeof token === 'string') {
        return { id, token, lastSeq: typeof lastSeq === 'number' ? lastSeq : 0 };
      }
    }
  } catch {
    // not JSON
  }
  return null;
}

export function saveConversation(store: KeyValueStore, conversation: StoredConversation | null): void {
  if (!conversation) store.remove(CONVERSATION_KEY);
  else store.set(CONVERSATION_KEY, JSON.stringify({ id: conversation.id, token: conversation.token, lastSeq: conversation.lastSeq }));
}

/** The page's choice (data-lang) first, then the customer's saved one, then the browser's first language. */
export function chooseLanguage(forced: string | null, saved: string | null, browserLanguages: readonly string[]): Language {
  if (isLanguage(forced)) return forced;
  if (isLanguage(saved)) return saved;
  return /^zh/i.test(browserLanguages[0] ?? '') ? 'zh' : 'en';
}

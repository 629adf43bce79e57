import { h } from '../widget/dom.js';
import { renderTurn } from '../widget/render.js';
import { createTexts } from '../widget/texts.js';
import type { TurnView as WidgetTurnView } from '../widget/api.js';
import { SETTINGS } from './settings.js';
import type { Lang, TurnView } from './types.js';

const WIDGET_TEXTS = createTexts({ exchangeName: SETTINGS.exchangeName, maxMessageChars: 4000 });

/**
 * Turns drawn by the widget's own renderer with the widget's own stylesheet, in a shadow root:
 * what the console shows is what a customer sees (text only: nothing in an entry is ever HTML).
 */
export function chatPreview(turns: TurnView[], language: Lang): HTMLElement {
  const host = h('div', { class: 'chat-preview', 'data-testid': 'chat-preview' });
  const root = host.attachShadow({ mode: 'open' });
  const list = h('ol', { class: 'exh-messages preview-messages' });
  for (const turn of turns) {
    list.appendChild(
      renderTurn(turn as unknown as WidgetTurnView, {
        texts: WIDGET_TEXTS[language],
        language,
        textsOf: (lang) => WIDGET_TEXTS[lang === 'zh' ? 'zh' : 'en'],
        onAction: () => undefined,
        onChoice: () => undefined,
        onRate: () => undefined,
      }),
    );
  }
  root.append(h('link', { rel: 'stylesheet', href: '/widget.css' }), h('div', { class: 'exh-root', lang: language === 'zh' ? 'zh-CN' : 'en' }, [list]));
  return host;
}

/** An entry's answer as the bot would send it: the body, citing the entry. */
export function answerPreview(entry: { id: string; title: string; body: string; lang: Lang }, version: number | null): HTMLElement {
  return chatPreview(
    [
      {
        seq: 1,
        role: 'bot',
        kind: 'answer',
        text: entry.body,
        language: entry.lang,
        createdAt: '',
        citations: [{ id: entry.id, title: entry.title, version: version ?? 0 }],
        actions: [],
      },
    ],
    entry.lang,
  );
}

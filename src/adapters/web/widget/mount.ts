import { createApi } from './api.js';
import { createChat } from './chat.js';
import { schedulePolling } from './poll.js';
import type { WidgetSettings } from './settings.js';
import { chooseLanguage, createStore, LANGUAGE_KEY, loadConversation } from './storage.js';
import type { Mode } from './view.js';

/** How the page set the widget up, from its script tag. */
export interface ScriptOptions {
  mode: Mode;
  /** The product's web API: data-api, or the origin the script came from. */
  apiBase: string;
  /** The stylesheet beside the script (embedded mode loads it into the shadow root). */
  cssUrl: string;
  /** data-lang: the page's choice of language, before the customer's. */
  language: string | null;
  /** data-mount: where the full page puts the chat. */
  mountSelector: string | null;
  /** data-open="true": the embedded panel starts open. */
  openAtStart: boolean;
}

/**
 * Reads the script tag's attributes: data-mode="page" (default: embed), data-api, data-lang,
 * data-mount, data-open. scriptSrc is the script's own URL, pageUrl the page's.
 */
export function readScriptOptions(attribute: (name: string) => string | null, scriptSrc: string | null, pageUrl: string): ScriptOptions {
  let scriptUrl: URL;
  try {
    scriptUrl = new URL(scriptSrc || pageUrl, pageUrl);
  } catch {
    scriptUrl = new URL(pageUrl);
  }
  let apiBase = scriptUrl.origin;
  const api = attribute('data-api');
  if (api) {
    try {
      apiBase = new URL(api, pageUrl).href.replace(/\/+$/, '');
    } catch {
      // not a URL: the script's origin
    }
  }
  return {
    mode: attribute('data-mode') === 'page' ? 'page' : 'embed',
    apiBase,
    cssUrl: new URL('widget.css', scriptUrl).href,
    language: attribute('data-lang'),
    mountSelector: attribute('data-mount'),
    openAtStart: attribute('data-open') === 'true',
  };
}

/** The widget's own script tag: the one running, or else the last one loaded from a …/widget.js URL. */
export function findScript(): HTMLScriptElement | null {
  if (document.currentScript instanceof HTMLScriptElement) return document.currentScript;
  const scripts = Array.from(document.querySelectorAll<HTMLScriptElement>('script[src]'));
  return scripts.reverse().find((s) => /\/widget\.js(?:[?#]|$)/.test(s.src)) ?? null;
}

function queryOrNull(selector: string | null): Element | null {
  if (!selector) return null;
  try {
    return document.querySelector(selector);
  } catch {
    return null; // not a valid selector
  }
}

/** Until the stylesheet has loaded (or failed, or this long), the embedded widget stays invisible. */
const STYLESHEET_WAIT_MS = 4000;

/** Embedded pages can drive the widget through window.ExampleXHelpdesk. */
export interface WidgetControls {
  open(): void;
  close(): void;
  toggle(): void;
}

/**
 * Puts the chat on the page. Full page: into data-mount, #examplex-helpdesk or <body>, styled by the
 * page's own stylesheet link. Embedded: a launcher and panel in an open shadow root (the host page's
 * styles cannot reach in, the widget's cannot leak out), styled by widget.css from the script's origin.
 */
export function mount(options: ScriptOptions, settings: WidgetSettings): void {
  const store = createStore(() => window.localStorage);
  const browserLanguages = navigator.languages?.length ? navigator.languages : [navigator.language];
  const chat = createChat({
    mode: options.mode,
    settings,
    api: createApi(options.apiBase),
    store,
    language: chooseLanguage(options.language, store.get(LANGUAGE_KEY), browserLanguages),
  });
  const { ui } = chat;

  if (options.mode === 'page') {
    const target = queryOrNull(options.mountSelector) ?? document.getElementById('examplex-helpdesk') ?? document.body;
    target.appendChild(ui.root);
    chat.autosize();
    chat.start();
    chat.focusInput();
  } else {
    const host = document.createElement('div');
    host.id = 'examplex-helpdesk-widget';
    host.setAttribute('data-testid', 'helpdesk-host');
    const shadow = host.attachShadow({ mode: 'open' });
    // No flash of unstyled content: visible once the stylesheet is in.
    ui.root.style.visibility = 'hidden';
    const reveal = () => (ui.root.style.visibility = '');
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = options.cssUrl;
    css.addEventListener('load', reveal, { once: true });
    css.addEventListener('error', reveal, { once: true });
    window.setTimeout(reveal, STYLESHEET_WAIT_MS);
    shadow.append(css, ui.root);
    document.body.appendChild(host);
    ui.panel.hidden = true;

    // Escape closes the panel while the focus is in the widget (or was lost to the page's body).
    document.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape' || !chat.open) return;
      const active = document.activeElement;
      if (active !== host && active !== document.body && active !== null) return;
      chat.setOpen(false);
      ui.launcher?.focus();
    });
    if (options.openAtStart) chat.setOpen(true);
    // Resume quietly, so that an agent's reply can raise the unread badge.
    else if (loadConversation(store)) chat.start();
    const controls: WidgetControls = {
      open: () => chat.setOpen(true),
      close: () => chat.setOpen(false),
      toggle: () => chat.setOpen(!chat.open),
    };
    (window as Window & { ExampleXHelpdesk?: WidgetControls }).ExampleXHelpdesk = controls;
  }
  schedulePolling(() => chat.poll());
}

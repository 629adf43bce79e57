import { type Child, h, type Props } from '../widget/dom.js';
import { ApiError } from './api.js';
import { t, type TextKey } from './i18n.js';

export { h };

/** A small label with a tone: status, translation state, decision. */
export function badge(text: string, tone: 'ok' | 'warn' | 'bad' | 'info' | 'muted', extra: Props = {}): HTMLSpanElement {
  return h('span', { class: `badge badge-${tone}`, ...extra, text });
}

/** A button; `primary` for the main action of a view. */
export function button(text: string, onclick: (event: Event) => void, props: Props = {}): HTMLButtonElement {
  return h('button', { type: 'button', class: 'btn', ...props, onclick }, [text]);
}

/** The words for a failed call: the server's own message, or ours. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return t('errorNetwork');
    if (error.message) return error.message;
  }
  return t('errorGeneric');
}

let liveRegion: HTMLElement | undefined;
let toastTimer: ReturnType<typeof setTimeout> | undefined;

/** Says something to everyone (screen readers too) for a few seconds. */
export function announce(message: string, tone: 'ok' | 'bad' = 'ok'): void {
  if (!liveRegion) {
    liveRegion = h('div', { class: 'toast', role: 'status', 'aria-live': 'polite', 'data-testid': 'toast' });
    document.body.appendChild(liveRegion);
  }
  const region = liveRegion;
  region.textContent = message;
  region.className = `toast toast-${tone} toast-shown`;
  if (toastTimer) clearTimeout(toastTimer);
  toastTimer = setTimeout(() => region.classList.remove('toast-shown'), 6000);
}

/** A modal dialog (the native one: focus kept inside, Escape closes); resolves with the chosen value. */
export function dialog<T>(title: string, body: Child[], actions: Array<{ label: string; value: T; primary?: boolean }>, cancel: T): Promise<T> {
  return new Promise((resolve) => {
    const el = h('dialog', { class: 'dialog', 'aria-labelledby': 'dialog-title' }, [
      h('h2', { id: 'dialog-title', class: 'dialog-title', text: title }),
      h('div', { class: 'dialog-body' }, body),
      h(
        'div',
        { class: 'dialog-actions' },
        actions.map((a) =>
          button(
            a.label,
            () => {
              el.close();
              resolve(a.value);
            },
            { class: a.primary ? 'btn btn-primary' : 'btn' },
          ),
        ),
      ),
    ]);
    el.addEventListener('cancel', () => resolve(cancel));
    el.addEventListener('close', () => el.remove());
    document.body.appendChild(el);
    el.showModal();
  });
}

export function confirmDialog(message: string): Promise<boolean> {
  return dialog(
    message,
    [],
    [
      { label: t('cancel'), value: false },
      { label: t('ok'), value: true, primary: true },
    ],
    false,
  );
}

/** A view's loading and failure states around an async render. */
export async function loadInto(container: HTMLElement, render: () => Promise<Node>): Promise<void> {
  container.replaceChildren(h('p', { class: 'muted', role: 'status', text: t('loading') }));
  try {
    container.replaceChildren(await render());
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    container.replaceChildren(
      h('div', { class: 'error-box', role: 'alert' }, [h('p', { text: errorText(error) }), button(t('retry'), () => void loadInto(container, render))]),
    );
  }
}

export function label(key: TextKey, params?: Record<string, string | number>): string {
  return t(key, params);
}

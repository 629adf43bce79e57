import { h } from '../widget/dom.js';
import { ApiError, call, onSessionExpired, type SessionInfo, useSession } from './api.js';
import { setUiLanguage, t, type TextKey, uiLanguage, type UiLanguage } from './i18n.js';
import { SETTINGS } from './settings.js';
import { button, errorText, loadInto } from './ui.js';

/** What a page gets: where it is, who is signed in, and ways to move on. */
export interface PageContext {
  /** The path's groups (e.g. the entry id of #/entries/:id). */
  params: string[];
  query: URLSearchParams;
  session: SessionInfo;
  can(permission: string): boolean;
  navigate(hash: string): void;
  /** A page with unsaved work says so (`dirty` true): leaving it then asks first. */
  setLeaveGuard(dirty: (() => boolean) | null): void;
  /** Runs when the page is left or drawn again (to close a live stream, stop a timer). */
  onLeave(cleanup: () => void): void;
}

/**
 * A page of the console: its address (a hash path), the permission it needs and, when it is in
 * the navigation, its label. The dashboard and the agents' inbox are pages like these.
 */
export interface Page {
  path: RegExp;
  permission: string;
  nav?: { key: TextKey; href: string };
  render(ctx: PageContext): Promise<HTMLElement> | HTMLElement;
}

let session: SessionInfo | null = null;
let leaveGuard: (() => boolean) | null = null;
const cleanups: Array<() => void> = [];
let shownHash = '';
let pages: Page[] = [];
const app = () => document.getElementById('app') as HTMLElement;

const can = (permission: string) => session?.permissions.includes(permission) ?? false;

function languageSwitch(onChange: () => void): HTMLElement {
  const select = h('select', { class: 'lang-switch', 'aria-label': t('language'), 'data-testid': 'ui-language' }, [
    h('option', { value: 'zh', text: '中文' }),
    h('option', { value: 'en', text: 'English' }),
  ]);
  select.value = uiLanguage();
  select.addEventListener('change', () => {
    setUiLanguage(select.value as UiLanguage);
    onChange();
  });
  return select;
}

/** The sign-in form; `inline` for the dialog shown when a session expired mid-work. */
function loginForm(onDone: (s: SessionInfo) => void, options: { inline?: boolean } = {}): HTMLFormElement {
  const user = h('input', {
    id: 'login-user',
    name: 'user',
    autocomplete: 'username',
    required: true,
    maxlength: 64,
    autocapitalize: 'none',
    spellcheck: 'false',
  });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: 200 });
  const message = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'login-error' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: t('signIn') });
  const form = h('form', { class: 'login-form', 'data-testid': 'login-form' }, [
    h('label', { for: 'login-user', text: t('user') }),
    user,
    h('label', { for: 'login-password', text: t('password') }),
    password,
    message,
    submit,
  ]);
  if (session?.user.name && options.inline) user.value = session.user.name;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    submit.disabled = true;
    submit.textContent = t('signingIn');
    try {
      const reply = await call<SessionInfo>('POST', '/api/admin/login', { body: { user: user.value, password: password.value } });
      password.value = '';
      onDone(reply.data);
    } catch (error) {
      message.textContent = errorText(error);
      password.select();
    } finally {
      submit.disabled = false;
      submit.textContent = t('signIn');
    }
  });
  return form;
}

function showLogin(): void {
  leaveGuard = null;
  const draw = () => {
    app().replaceChildren(
      h('main', { id: 'main', class: 'login-page' }, [
        h('div', { class: 'login-card' }, [
          h('div', { class: 'login-top' }, [h('p', { class: 'brand', text: `${SETTINGS.exchangeName} · ${t('appName')}` }), languageSwitch(draw)]),
          h('h1', { text: t('signInTitle') }),
          loginForm((s) => {
            start(s);
          }),
          h('p', { class: 'muted small', text: t('signInHint') }),
        ]),
      ]),
    );
    document.title = `${t('signIn')} · ${SETTINGS.exchangeName}`;
    (document.getElementById('login-user') as HTMLInputElement | null)?.focus();
  };
  draw();
}

let reloginOpen = false;

/** The session ended while working: sign in again over the page, which keeps its state. */
function showRelogin(): void {
  if (reloginOpen || !session) return;
  reloginOpen = true;
  const el = h('dialog', { class: 'dialog', 'aria-labelledby': 'relogin-title', 'data-testid': 'relogin' });
  const form = loginForm(
    (s) => {
      useSession(s);
      session = s;
      reloginOpen = false;
      el.close();
    },
    { inline: true },
  );
  el.append(h('h2', { id: 'relogin-title', class: 'dialog-title', text: t('sessionExpired') }), form);
  // Escape does not close it: without a session nothing else works.
  el.addEventListener('cancel', (event) => event.preventDefault());
  el.addEventListener('close', () => el.remove());
  document.body.appendChild(el);
  el.showModal();
  (form.querySelector('input[type=password]') as HTMLInputElement | null)?.focus();
}

function header(): HTMLElement {
  const current = location.hash || '#/entries';
  const links = pages
    .filter((p) => p.nav && can(p.permission))
    .map((p) => {
      const nav = p.nav as NonNullable<Page['nav']>;
      const active = current === nav.href || current.startsWith(`${nav.href}/`) || current.startsWith(`${nav.href}?`);
      return h('a', { href: nav.href, class: active ? 'nav-link nav-active' : 'nav-link', 'aria-current': active ? 'page' : null, text: t(nav.key) });
    });
  const role = session ? t(`role_${session.user.role}` as TextKey) : '';
  return h('header', { class: 'topbar' }, [
    h('a', { class: 'brand', href: '#/entries' }, [
      h('span', { class: 'brand-mark', 'aria-hidden': 'true', text: '◆' }),
      `${SETTINGS.exchangeName} · ${t('appName')}`,
    ]),
    h('nav', { class: 'nav', 'aria-label': t('nav') }, links),
    h('div', { class: 'user' }, [
      h('span', { class: 'user-name', 'data-testid': 'signed-in', text: session ? t('signedInAs', { name: session.user.name, role }) : '' }),
      languageSwitch(() => render(true)),
      button(t('signOut'), () => void signOut(), { 'data-testid': 'sign-out' }),
    ]),
  ]);
}

/** Whether the page may be left: nothing unsaved, or the user says so. */
const mayLeave = () => !leaveGuard?.() || window.confirm(t('unsavedChanges'));

async function signOut(): Promise<void> {
  if (!mayLeave()) return;
  await call('POST', '/api/admin/logout').catch(() => undefined);
  for (const cleanup of cleanups.splice(0)) cleanup();
  session = null;
  useSession(null);
  showLogin();
}

/** Draws the page of the current address (again, with `force`, e.g. after a language switch). */
async function render(force = false): Promise<void> {
  if (!session) return;
  const hash = location.hash || '#/entries';
  if (!force && hash === shownHash) return;
  shownHash = hash;
  const [path = '', queryText = ''] = hash.slice(1).split('?');
  for (const cleanup of cleanups.splice(0)) cleanup();
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  app().replaceChildren(header(), main);
  const page = pages.find((p) => p.path.test(path));
  leaveGuard = null;
  if (!page) {
    main.append(h('p', { class: 'error-box', text: t('notFound') }));
    return;
  }
  if (!can(page.permission)) {
    main.append(h('p', { class: 'error-box', role: 'alert', text: t('notAllowed') }));
    return;
  }
  const params = (page.path.exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p ?? ''));
  const ctx: PageContext = {
    params,
    query: new URLSearchParams(queryText),
    session: session as SessionInfo,
    can,
    navigate: (target) => {
      location.hash = target;
    },
    setLeaveGuard: (dirty) => {
      leaveGuard = dirty;
    },
    onLeave: (cleanup) => {
      cleanups.push(cleanup);
    },
  };
  await loadInto(main, async () => page.render(ctx));
  document.title = `${main.querySelector('h1')?.textContent ?? t('appName')} · ${SETTINGS.exchangeName}`;
}

function start(s: SessionInfo): void {
  session = s;
  useSession(s);
  shownHash = '';
  void render(true).then(() => (document.getElementById('main') as HTMLElement | null)?.focus());
}

/** Boots the console: the session if there is one (else the sign-in page), then the page of the address. */
export async function startConsole(registered: Page[]): Promise<void> {
  pages = registered;
  setUiLanguage(uiLanguage());
  onSessionExpired(showRelogin);
  window.addEventListener('hashchange', () => {
    if (!session) return;
    if ((location.hash || '#/entries') !== shownHash && !mayLeave()) {
      history.replaceState(null, '', shownHash);
      return;
    }
    void render();
  });
  window.addEventListener('beforeunload', (event) => {
    if (leaveGuard?.()) event.preventDefault();
  });
  try {
    const reply = await call<SessionInfo>('GET', '/api/admin/session');
    start(reply.data);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) showLogin();
    else app().replaceChildren(h('p', { class: 'error-box', role: 'alert', text: errorText(error) }));
  }
}

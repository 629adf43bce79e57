import { Hono } from 'hono';
import { bundlePage, type PageAssets } from '../browser-bundle.js';
import { ENTRY_LIMITS } from '../../../core/index.js';
import type { ConsoleSettings } from '../console/settings.js';

const CONSOLE_DIR = new URL('../console/', import.meta.url);

/** The console's page, script and stylesheet, as served. */
export type ConsoleAssets = PageAssets;

/** The console bundled like the widget (see bundlePage), with its name and entry limits written in. */
export function bundleConsole(options: { exchangeName: string }): Promise<ConsoleAssets> {
  const settings: ConsoleSettings = { exchangeName: options.exchangeName, limits: ENTRY_LIMITS };
  return bundlePage({ dir: CONSOLE_DIR, script: 'console.ts', stylesheet: 'console.css', settingsGlobal: '__CONSOLE_SETTINGS__', settings });
}

// The console runs only its own script and style: nothing inline, nothing from elsewhere, never framed.
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** GET /admin (and every /admin/… page: the console routes in the browser), its script and stylesheet. */
export function createConsoleRoutes(assets: ConsoleAssets): Hono {
  const app = new Hono();
  const page = () => new Response(assets.html, { headers: { 'content-type': 'text/html; charset=utf-8', ...PAGE_HEADERS } });
  app.get('/admin/console.js', (c) => c.body(assets.js, 200, { 'content-type': 'text/javascript; charset=utf-8', 'x-content-type-options': 'nosniff' }));
  app.get('/admin/console.css', (c) => c.body(assets.css, 200, { 'content-type': 'text/css; charset=utf-8', 'x-content-type-options': 'nosniff' }));
  app.get('/admin', page);
  app.get('/admin/', page);
  return app;
}

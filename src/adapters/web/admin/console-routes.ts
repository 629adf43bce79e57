import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Hono } from 'hono';
import { ENTRY_LIMITS } from '../../../core/index.js';
import type { ConsoleSettings } from '../console/settings.js';

const CONSOLE_DIR = new URL('../console/', import.meta.url);

/** The console's page, script and stylesheet, as served. */
export interface ConsoleAssets {
  html: string;
  js: string;
  css: string;
}

const built = new Map<string, Promise<ConsoleAssets>>();

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function buildAssets(settings: ConsoleSettings): Promise<ConsoleAssets> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('console.ts', CONSOLE_DIR)), fileURLToPath(new URL('console.css', CONSOLE_DIR))],
    bundle: true,
    write: false,
    outdir: fileURLToPath(CONSOLE_DIR),
    format: 'iife',
    // Staff browsers are current ones; the level the console is type-checked for (its tsconfig.json).
    target: 'es2020',
    minify: true,
    charset: 'utf8',
    legalComments: 'none',
    define: { __CONSOLE_SETTINGS__: JSON.stringify(settings) },
    logLevel: 'silent',
  });
  const output = (extension: string) => {
    const file = result.outputFiles.find((f) => f.path.endsWith(extension));
    if (!file) throw new Error(`the console bundle has no ${extension} output`);
    return file.text;
  };
  const page = await readFile(new URL('index.html', CONSOLE_DIR), 'utf8');
  return { html: page.replaceAll('%EXCHANGE_NAME%', escapeHtml(settings.exchangeName)), js: output('.js'), css: output('.css') };
}

/**
 * Bundles the console's TypeScript modules (and its stylesheet) with esbuild, in memory, as the
 * widget is bundled (docs/decisions/widget-bundle.md): no build step, no generated file. Built
 * once per settings per process.
 */
export function bundleConsole(options: { exchangeName: string }): Promise<ConsoleAssets> {
  const settings: ConsoleSettings = { exchangeName: options.exchangeName, limits: ENTRY_LIMITS };
  const key = JSON.stringify(settings);
  let assets = built.get(key);
  if (!assets) {
    assets = buildAssets(settings);
    built.set(key, assets);
    assets.catch(() => built.delete(key));
  }
  return assets;
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

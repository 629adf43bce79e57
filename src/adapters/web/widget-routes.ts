import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Hono } from 'hono';
import type { WidgetSettings } from './widget/settings.js';
import { VERIFY_INPUT_MAX_CHARS } from './web-app.js';

const WIDGET_DIR = new URL('./widget/', import.meta.url);

/** The chat page, the widget's script and its stylesheet, as served. */
export interface WidgetAssets {
  html: string;
  js: string;
  css: string;
}

export interface WidgetOptions {
  exchangeName: string;
  maxMessageChars: number;
}

const built = new Map<string, Promise<WidgetAssets>>();

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function buildAssets(settings: WidgetSettings): Promise<WidgetAssets> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('widget.ts', WIDGET_DIR)), fileURLToPath(new URL('widget.css', WIDGET_DIR))],
    bundle: true,
    write: false,
    outdir: fileURLToPath(WIDGET_DIR),
    format: 'iife',
    // The level the widget is type-checked for (its tsconfig.json); customers' browsers, not ours.
    target: 'es2020',
    minify: true,
    charset: 'utf8',
    legalComments: 'none',
    define: { __WIDGET_SETTINGS__: JSON.stringify(settings) },
    logLevel: 'silent',
  });
  const output = (extension: string) => {
    const file = result.outputFiles.find((f) => f.path.endsWith(extension));
    if (!file) throw new Error(`the widget bundle has no ${extension} output`);
    return file.text;
  };
  const page = await readFile(new URL('index.html', WIDGET_DIR), 'utf8');
  return { html: page.replaceAll('%EXCHANGE_NAME%', escapeHtml(settings.exchangeName)), js: output('.js'), css: output('.css') };
}

/**
 * Bundles the widget's TypeScript modules into one script (and its stylesheet) with esbuild, in
 * memory, with the product's name and limits written in: the same esbuild that runs the server's
 * TypeScript (tsx), so there is no build step and no generated file to go stale. Built once per
 * settings per process (docs/decisions/widget-bundle.md).
 */
export function bundleWidget(options: WidgetOptions): Promise<WidgetAssets> {
  const settings: WidgetSettings = { ...options, verifyMaxChars: VERIFY_INPUT_MAX_CHARS };
  const key = JSON.stringify(settings);
  let assets = built.get(key);
  if (!assets) {
    assets = buildAssets(settings);
    built.set(key, assets);
    // A failed build is not kept: the next start tries again.
    assets.catch(() => built.delete(key));
  }
  return assets;
}

/** GET / (the chat as a page), /widget.js (the embeddable script) and /widget.css. */
export function createWidgetRoutes(assets: WidgetAssets): Hono {
  const app = new Hono();
  app.get('/', (c) => c.html(assets.html));
  app.get('/widget.js', (c) => c.body(assets.js, 200, { 'content-type': 'text/javascript; charset=utf-8', 'access-control-allow-origin': '*' }));
  app.get('/widget.css', (c) => c.body(assets.css, 200, { 'content-type': 'text/css; charset=utf-8', 'access-control-allow-origin': '*' }));
  return app;
}

import { Hono } from 'hono';
import { bundlePage, type PageAssets } from './browser-bundle.js';
import type { WidgetSettings } from './widget/settings.js';
import { MAX_UPLOAD_BYTES } from './upload-limits.js';
import { VERIFY_INPUT_MAX_CHARS } from './web-app.js';

const WIDGET_DIR = new URL('./widget/', import.meta.url);

/** The chat page, the widget's script and its stylesheet, as served. */
export type WidgetAssets = PageAssets;

export interface WidgetOptions {
  exchangeName: string;
  maxMessageChars: number;
}

/** The widget bundled with the product's name and limits written in (see bundlePage). */
export function bundleWidget(options: WidgetOptions): Promise<WidgetAssets> {
  const settings: WidgetSettings = { ...options, verifyMaxChars: VERIFY_INPUT_MAX_CHARS, maxUploadBytes: MAX_UPLOAD_BYTES };
  return bundlePage({ dir: WIDGET_DIR, script: 'widget.ts', stylesheet: 'widget.css', settingsGlobal: '__WIDGET_SETTINGS__', settings });
}

/** GET / (the chat as a page), /widget.js (the embeddable script) and /widget.css. */
export function createWidgetRoutes(assets: WidgetAssets): Hono {
  const app = new Hono();
  app.get('/', (c) => c.html(assets.html));
  app.get('/widget.js', (c) => c.body(assets.js, 200, { 'content-type': 'text/javascript; charset=utf-8', 'access-control-allow-origin': '*' }));
  app.get('/widget.css', (c) => c.body(assets.css, 200, { 'content-type': 'text/css; charset=utf-8', 'access-control-allow-origin': '*' }));
  return app;
}

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** A browser app as served: its page, script and stylesheet. */
export interface PageAssets {
  html: string;
  js: string;
  css: string;
}

export interface PageBundle {
  /** The folder holding `index.html`, the script entry and the stylesheet. */
  dir: URL;
  /** File names in `dir`. */
  script: string;
  stylesheet: string;
  /** The global the script reads its settings from (declared in the app's settings module). */
  settingsGlobal: string;
  settings: { exchangeName: string };
}

const built = new Map<string, Promise<PageAssets>>();

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function buildAssets(bundle: PageBundle): Promise<PageAssets> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(bundle.script, bundle.dir)), fileURLToPath(new URL(bundle.stylesheet, bundle.dir))],
    bundle: true,
    write: false,
    outdir: fileURLToPath(bundle.dir),
    format: 'iife',
    // The level the apps are type-checked for (their tsconfig.json files).
    target: 'es2020',
    minify: true,
    charset: 'utf8',
    legalComments: 'none',
    define: { [bundle.settingsGlobal]: JSON.stringify(bundle.settings) },
    logLevel: 'silent',
  });
  const output = (extension: string) => {
    const file = result.outputFiles.find((f) => f.path.endsWith(extension));
    if (!file) throw new Error(`the bundle of ${bundle.script} has no ${extension} output`);
    return file.text;
  };
  const page = await readFile(new URL('index.html', bundle.dir), 'utf8');
  return { html: page.replaceAll('%EXCHANGE_NAME%', escapeHtml(bundle.settings.exchangeName)), js: output('.js'), css: output('.css') };
}

/**
 * Bundles a browser app's TypeScript modules (and its stylesheet) with esbuild, in memory, with
 * its settings written in: the same esbuild that runs the server's TypeScript (tsx), so there is
 * no build step and no generated file to go stale (docs/decisions/widget-bundle.md). Built once per
 * app and settings per process; a failed build is not kept, so the next start tries again.
 */
export function bundlePage(bundle: PageBundle): Promise<PageAssets> {
  const key = JSON.stringify([bundle.dir.href, bundle.script, bundle.settings]);
  let assets = built.get(key);
  if (!assets) {
    assets = buildAssets(bundle);
    built.set(key, assets);
    assets.catch(() => built.delete(key));
  }
  return assets;
}

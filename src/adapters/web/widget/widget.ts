/**
 * The chat widget's entry point, bundled by the server into /widget.js (see ../widget-routes.ts).
 *
 *   Full page:  <script src="/widget.js" data-mode="page"></script> (the product's own page, /)
 *   Embedded:   <script src="https://helpdesk.example.com/widget.js" async></script>
 *
 * Optional attributes: data-api (API base URL; default: the script's origin), data-lang ("zh" or
 * "en"; default: the customer's saved choice, then the browser's language), data-mount (full page:
 * a selector), data-open="true" (embedded: open at once). See mount.ts.
 */
import { findScript, mount, readScriptOptions } from './mount.js';
import type { WidgetSettings } from './settings.js';

/** The product's settings, written into the bundle by the server. */
declare const __WIDGET_SETTINGS__: WidgetSettings;

const page = window as Window & { __examplexHelpdeskLoaded?: boolean };
// A page that includes the script twice gets one widget.
if (!page.__examplexHelpdeskLoaded) {
  page.__examplexHelpdeskLoaded = true;
  // document.currentScript is only set while the script first runs: read the tag now.
  const script = findScript();
  const options = readScriptOptions((name) => script?.getAttribute(name) ?? null, script?.src || null, window.location.href);
  const settings = __WIDGET_SETTINGS__;
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => mount(options, settings));
  else mount(options, settings);
}

/**
 * Headless Chromium for the end-to-end suites: Debian's chromium (CHROMIUM_PATH, default
 * /usr/bin/chromium) driven by playwright-core. Without it a suite is skipped locally with a
 * warning, and fails in CI, which must run every suite.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM_PATH);
const IN_CI = Boolean(process.env.CI);
// No network of its own (QUIC, component updates, sync): the machines here reach no internet.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A suite that needs Chromium: run where it is, skipped with a warning locally, failed in CI. */
export function describeInChromium(title: string, suite: () => void): void {
  if (!HAS_CHROMIUM) {
    const missing = `Chromium not found at ${CHROMIUM_PATH} (set CHROMIUM_PATH or install chromium)`;
    if (IN_CI) {
      describe(`${title}: prerequisites`, () => {
        it('has a Chromium executable in CI', () => {
          expect.fail(`${missing}: CI must run this suite.`);
        });
      });
    } else {
      console.warn(`${missing}: "${title}" is skipped.`);
    }
  }
  describe.skipIf(!HAS_CHROMIUM)(title, suite);
}

export const launchChromium = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });

/**
 * Starts something (the product, a test server) while Chromium launches, both taking seconds. When
 * either fails, the other is undone (`stop`, the browser closed) and the failure thrown, so that
 * nothing is left running for the suite's clean-up to miss.
 */
export async function startWithChromium<T>(start: Promise<T>, stop?: (started: T) => Promise<unknown>): Promise<[T, Browser]> {
  const [started, launched] = await Promise.allSettled([start, launchChromium()]);
  if (started.status === 'fulfilled' && launched.status === 'fulfilled') return [started.value, launched.value];
  if (launched.status === 'fulfilled') await launched.value.close().catch(() => undefined);
  if (started.status === 'fulfilled') await stop?.(started.value).catch(() => undefined);
  throw started.status === 'rejected' ? started.reason : (launched as PromiseRejectedResult).reason;
}

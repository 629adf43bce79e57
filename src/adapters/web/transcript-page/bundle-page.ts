import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('./page.ts', import.meta.url));

let bundled: Promise<string> | undefined;

/**
 * The /verify-transcript page's script: page.ts with the core transcript verifier, bundled for
 * browsers by esbuild (a local binary, nothing fetched) on first use and kept. The page and the
 * command line so run one verifier, from one source.
 */
export function transcriptPageScript(): Promise<string> {
  bundled ??= build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: ['es2022'],
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
  }).then(
    (result) => (result.outputFiles[0] as { text: string }).text,
    (error: unknown) => {
      bundled = undefined;
      throw error;
    },
  );
  return bundled;
}

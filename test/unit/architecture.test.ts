import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}
const importsOf = (path: string) => [...readFileSync(path, 'utf8').matchAll(/from\s+'([^']+)'/g)].map((m) => m[1] as string);

describe('the dependency rule', () => {
  it('keeps core free of adapters, configuration and SDKs', () => {
    for (const file of files(join(SRC, 'core'))) {
      for (const spec of importsOf(file)) {
        // The BIP-39 wordlists are plain data arrays (no I/O, no SDK): the secret firewall needs them in core.
        // So are OpenCC's conversion dictionaries (opencc-js): Traditional and Simplified Chinese.
        const data = spec.startsWith('@scure/bip39/wordlists/') || spec === 'opencc-js' || spec.startsWith('opencc-js/dict/');
        const allowed = spec.startsWith('.')
          ? !spec.includes('adapters/') && !spec.includes('config') && !spec.includes('main')
          : spec.startsWith('node:') || spec === 'zod' || data;
        expect(allowed, `${relative(SRC, file)} imports ${spec}`).toBe(true);
      }
    }
  });

  it('keeps adapters from importing one another, configuration or tests', () => {
    for (const file of files(join(SRC, 'adapters'))) {
      const own = relative(join(SRC, 'adapters'), file).split('/')[0];
      for (const spec of importsOf(file).filter((s) => s.startsWith('.'))) {
        const target = relative(join(SRC, 'adapters'), join(file, '..', spec));
        const crossesAdapter = !target.startsWith('..') && target.split('/')[0] !== own;
        expect(crossesAdapter || /config|main|test\//.test(spec), `${relative(SRC, file)} imports ${spec}`).toBe(false);
      }
    }
  });

  it('keeps the PostgreSQL adapter in its folders by concern, reaching the driver only through openDatabase', () => {
    const POSTGRES = join(SRC, 'adapters/postgres');
    const folders = new Set(files(POSTGRES).map((f) => relative(POSTGRES, f).split('/')[0]));
    expect([...folders].sort()).toEqual(['db', 'knowledge-index', 'schema', 'stores', 'turn-log']);
    // Layers: db/ and schema/ below everything; the turn log and the knowledge index below the stores.
    const below: Record<string, string[]> = { db: ['db', 'schema'], schema: ['schema'], 'turn-log': ['db', 'schema', 'turn-log'] };
    below['knowledge-index'] = ['db', 'schema', 'turn-log', 'knowledge-index'];
    for (const file of files(POSTGRES)) {
      // drizzle's session and client fields are private: the driver is kept beside the handle instead.
      expect(readFileSync(file, 'utf8'), relative(SRC, file)).not.toMatch(/\.session\??\.client\b|\$client\b/);
      const folder = relative(POSTGRES, file).split('/')[0] as string;
      for (const spec of importsOf(file).filter((s) => s.startsWith('.'))) {
        const target = relative(POSTGRES, join(file, '..', spec));
        if (target.startsWith('..') || !below[folder]) continue;
        expect(below[folder], `${relative(SRC, file)} imports ${spec}`).toContain(target.split('/')[0]);
      }
    }
  });

  it('keeps the transcript verifier and its rendering free of Node built-ins, so that browsers run the same code', () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      expect(source, relative(SRC, file)).not.toMatch(/\bBuffer\b|\bprocess\./);
      for (const spec of importsOf(file)) {
        expect(spec.startsWith('.'), `${relative(SRC, file)} imports ${spec}`).toBe(true);
        visit(join(file, '..', spec.replace(/\.js$/, '.ts')));
      }
    };
    visit(join(SRC, 'core/audit/transcript.ts'));
    visit(join(SRC, 'core/audit/transcript-text.ts'));
    expect(seen.size).toBeGreaterThan(5);
  });

  it('reads the environment only in the composition root and scripts', () => {
    for (const file of files(SRC).filter((f) => !f.endsWith('main.ts'))) {
      expect(readFileSync(file, 'utf8'), relative(SRC, file)).not.toMatch(/process\.env/);
    }
  });

  it('makes ScreenedText only in the secret firewall: no other file of the product, scripts or tests casts to it', () => {
    const ROOT = fileURLToPath(new URL('../..', import.meta.url));
    const everything = [...files(SRC), ...files(join(ROOT, 'scripts')), ...files(join(ROOT, 'test'))].filter((f) => !f.endsWith('architecture.test.ts'));
    const casting = everything.filter((file) => /as\s+ScreenedText\b|<ScreenedText>/.test(readFileSync(file, 'utf8')));
    expect(casting.map((file) => relative(ROOT, file))).toEqual(['src/core/safety/firewall.ts']);
  });
});

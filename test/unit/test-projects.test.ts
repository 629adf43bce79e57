import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import config from '../../vitest.config.js';

const ROOT = join(import.meta.dirname, '../..');

async function testFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? testFiles(join(dir, e.name)) : Promise.resolve(e.name.endsWith('.test.ts') ? [join(dir, e.name)] : []))),
  );
  return nested.flat();
}

describe('vitest projects', () => {
  it('run every test file of the repository (a file outside every project would never run)', async () => {
    const projects = (config.test?.projects ?? []) as Array<{ test: { include: string[] } }>;
    const folders = projects.flatMap((p) => p.test.include.map((glob) => glob.replace(/\*\*\/\*\.test\.ts$/, '')));
    const files = (await testFiles(join(ROOT, 'test'))).map((f) => relative(ROOT, f));
    const orphans = files.filter((f) => !folders.some((folder) => f.startsWith(folder)));
    expect(files.length).toBeGreaterThan(40);
    expect(orphans).toEqual([]);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadContentKeys } from '../../src/adapters/postgres/db/content-keys.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Two processes' views of one key file. */
function twoProcesses() {
  const dir = mkdtempSync(join(tmpdir(), 'content-keys-'));
  dirs.push(dir);
  const file = join(dir, 'content-master.key');
  const first = loadContentKeys({ file, createIfMissing: true }).keys;
  const second = loadContentKeys({ file }).keys;
  return { first, second };
}

describe('content master keys shared by processes through the key file', () => {
  it('opens at once what another process sealed under a version it just added, and seals under that version itself soon after', async () => {
    const { first, second } = twoProcesses();
    expect(first.versionOf(first.seal(Buffer.from('a'), 'ctx'))).toBe(1);
    expect(second.addVersion()).toBe(2);
    const sealedThere = second.seal(Buffer.from('写于另一进程'), 'ctx');
    const wrappedThere = second.wrap(Buffer.alloc(32, 7), 'conv');
    expect(first.versionOf(sealedThere)).toBe(2);
    expect(first.open(sealedThere, 'ctx').toString('utf8')).toBe('写于另一进程');
    expect(first.unwrap(wrappedThere, 'conv')).toEqual(Buffer.alloc(32, 7));
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(first.versionOf(first.seal(Buffer.from('b'), 'ctx'))).toBe(2);
  });

  it('reads the file again before a rotation of its own, so that it never writes back a version another process retired', () => {
    const { first, second } = twoProcesses();
    first.seal(Buffer.from('a'), 'ctx');
    expect(second.addVersion()).toBe(2);
    second.retireBelow(2);
    expect(first.addVersion()).toBe(3);
    expect(first.fingerprints().map((f) => f.version)).toEqual([2, 3]);
  });
});

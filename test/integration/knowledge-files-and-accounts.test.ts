import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKnowledgeFiles } from '../../src/adapters/knowledge-files/read-knowledge-files.js';
import { writeKnowledgeFiles } from '../../src/adapters/knowledge-files/write-knowledge-files.js';
import { createLocalEmbedder } from '../../src/adapters/local/local-embedder.js';
import { createPassageSplitter } from '../../src/adapters/local/passage-splitter.js';
import { createPgKnowledgeIndex } from '../../src/adapters/postgres/knowledge-index/pg-knowledge-index.js';
import { createStoredKnowledgeBase } from '../../src/create-console.js';
import type { KnowledgeBase } from '../../src/core/index.js';
import { createTestDatabase } from '../support/databases.js';
import { KNOWLEDGE_DIR, silentLogger } from '../support/helpdesk.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs a script of the repo as a user runs it (npm run …): its exit code and output. */
function run(script: string, args: string[], env: Record<string, string>, timeoutMs = 90_000) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('npm run admin:user', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'helpdesk-accounts-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('adds accounts with a given or generated password, lists them, refuses a duplicate or bad role, and removes one', async () => {
    const env = { DATA_DIR: dataDir };
    const given = await run('scripts/admin-user.ts', ['add', 'carol', '--role', 'kb_editor', '--password', 'carol-password-1'], env);
    expect(given.code, given.output).toBe(0);
    expect(given.output).toContain('added carol (kb_editor)');
    expect(given.output).not.toContain('carol-password-1');

    const generated = await run('scripts/admin-user.ts', ['add', 'dave', '--role', 'lead'], env);
    expect(generated.code, generated.output).toBe(0);
    expect(generated.output).toMatch(/password: \S{16,}/);

    const duplicate = await run('scripts/admin-user.ts', ['add', 'carol', '--role', 'admin', '--password', 'another-password'], env);
    expect(duplicate.code).toBe(1);
    expect(duplicate.output).toContain('exists already');
    const badRole = await run('scripts/admin-user.ts', ['add', 'erin', '--role', 'root', '--password', 'erin-password-1'], env);
    expect(badRole.code).toBe(1);
    expect(badRole.output).toContain('The role is admin, kb_editor, agent or lead');

    const list = await run('scripts/admin-user.ts', ['list'], env);
    expect(list.output).toMatch(/carol\s+kb_editor/);
    expect(list.output).toMatch(/dave\s+lead/);

    expect((await run('scripts/admin-user.ts', ['remove', 'carol'], env)).code).toBe(0);
    const after = await run('scripts/admin-user.ts', ['list'], env);
    expect(after.output).not.toContain('carol');
    expect((await run('scripts/admin-user.ts', ['remove', 'carol'], env)).code).toBe(1);
  }, 240_000);
});

describe('the database as the source of truth, the Markdown folder imported and exported', () => {
  let dir: string;
  let knowledge: KnowledgeBase;
  let drop: () => Promise<void>;
  const by = { name: 'alice', origin: 'console' as const };
  const fileOf = (id: string) => join(dir, 'en', `${id.replace(/-en$/, '')}.md`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'helpdesk-kb-files-'));
    await cp(KNOWLEDGE_DIR, dir, { recursive: true });
    const test = await createTestDatabase('pglite');
    drop = test.drop;
    knowledge = createStoredKnowledgeBase({
      database: test.database,
      index: createPgKnowledgeIndex(test.database),
      embedder: createLocalEmbedder(),
      splitPassages: createPassageSplitter(),
      allowlist: undefined,
      setKnowledgeLinks: () => undefined,
      record: async () => undefined,
      logger: silentLogger,
    });
    const report = await knowledge.importFiles(await readKnowledgeFiles(dir));
    expect(report.problems).toEqual([]);
    expect(report.added.length).toBeGreaterThan(10);
  }, 240_000);
  afterAll(async () => {
    await drop?.();
    await rm(dir, { recursive: true, force: true });
  });

  it('exports a console edit to its Markdown file, which the next import finds unchanged', async () => {
    const view = await knowledge.get('2fa-lost-en');
    if (!view) throw new Error('starter entry missing');
    const content = view.head.content;
    await knowledge.save('2fa-lost-en', { ...content, body: `${content.body}\n\nEdited in the console.` }, { by, publish: true, expected: view.version });
    const result = await writeKnowledgeFiles(dir, await knowledge.exportPlan());
    await knowledge.markExported(result);
    expect(result.written.map((w) => w.entryId)).toEqual(['2fa-lost-en']);
    expect(await readFile(fileOf('2fa-lost-en'), 'utf8')).toContain('Edited in the console.');
    const again = await knowledge.importFiles(await readKnowledgeFiles(dir));
    expect(again.updated).toEqual([]);
    expect(again.conflicts).toEqual([]);
    expect((await knowledge.exportPlan()).write).toEqual([]);
  });

  it('keeps both sides when a file and a console edit change the same entry: a conflict, shown and settled, never overwritten', async () => {
    const view = await knowledge.get('2fa-lost-en');
    if (!view) throw new Error('entry missing');
    await knowledge.save('2fa-lost-en', { ...view.head.content, body: 'Console version of the answer.' }, { by, publish: true, expected: view.version });
    const path = fileOf('2fa-lost-en');
    const original = await readFile(path, 'utf8');
    await writeFile(path, original.replace('Edited in the console.', 'Edited in git.'));

    const report = await knowledge.importFiles(await readKnowledgeFiles(dir));
    expect(report.conflicts).toEqual(['2fa-lost-en']);
    expect((await knowledge.get('2fa-lost-en'))?.live?.content.body).toBe('Console version of the answer.');
    expect((await knowledge.conflicts()).map((c) => c.entryId)).toEqual(['2fa-lost-en']);

    // The export does not overwrite the file while the conflict waits.
    const plan = await knowledge.exportPlan();
    expect(plan.skipped.map((s) => s.entryId)).toEqual(['2fa-lost-en']);
    expect(await readFile(path, 'utf8')).toContain('Edited in git.');

    // Keeping the console's version: the next export writes it to the file.
    const current = await knowledge.get('2fa-lost-en');
    await knowledge.resolveConflict('2fa-lost-en', 'console', { by, expected: current?.version });
    const written = await writeKnowledgeFiles(dir, await knowledge.exportPlan());
    await knowledge.markExported(written);
    expect(await readFile(path, 'utf8')).toContain('Console version of the answer.');
    expect(await knowledge.conflicts()).toEqual([]);
  });

  it('leaves a file alone on export when it changed on disk since it was last seen', async () => {
    const view = await knowledge.get('2fa-lost-en');
    if (!view) throw new Error('entry missing');
    await knowledge.save('2fa-lost-en', { ...view.head.content, body: 'Third console version.' }, { by, publish: true, expected: view.version });
    const path = fileOf('2fa-lost-en');
    await writeFile(path, (await readFile(path, 'utf8')).replace('Console version of the answer.', 'Uncommitted local edit.'));
    const result = await writeKnowledgeFiles(dir, await knowledge.exportPlan());
    expect(result.changedOnDisk).toEqual(['en/2fa-lost.md']);
    expect(await readFile(path, 'utf8')).toContain('Uncommitted local edit.');
  });
});

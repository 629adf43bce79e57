import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function runEval(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/eval.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;

describe('npm run eval', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'eval-'));
    const kb = [
      { id: 'withdrawal_pending', questions: ['my withdrawal is still pending', '提现一直没到账', 'why is my withdrawal not arrived'], answer: '' },
      { id: 'password_reset', questions: ['how do I reset my password', '忘记密码怎么办', 'forgot password'], answer: 'Use "Forgot password".' },
      { id: 'deposit_memo', questions: ['I forgot the memo on my XRP deposit', '充值忘记填写标签', 'deposit without tag'], answer: '' },
    ];
    await writeFile(join(dir, 'kb.jsonl'), kb.map((e) => JSON.stringify(e)).join('\n'));
    const covered = [
      { text: 'withdrawal pending for hours', label: 'withdrawal_pending' },
      { text: '密码忘了', label: 'password_reset' },
      { text: 'XRP deposit missing tag', label: 'deposit_memo' },
    ];
    await writeFile(join(dir, 'covered.jsonl'), covered.map((q) => JSON.stringify(q)).join('\n'));
    const mixed = [...covered, { text: 'what is the weather in Paris', label: null }, { text: '', label: null }];
    await writeFile(join(dir, 'mixed.jsonl'), mixed.map((q) => JSON.stringify(q)).join('\n'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints the figures as one JSON object on the last line, with the peer beside them', async () => {
    const result = await runEval(['--kb', join(dir, 'kb.jsonl'), '--queries', join(dir, 'mixed.jsonl'), '--compare', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const figures = lastJson(result.stdout);
    expect(figures.queries).toBe(5);
    for (const key of ['top1', 'recall5', 'mrr', 'auroc', 'answeredCorrectly', 'escalated', 'harmful']) {
      expect(typeof figures[key], key).toBe('number');
      expect(figures[key] as number, key).toBeGreaterThanOrEqual(0);
      expect(figures[key] as number, key).toBeLessThanOrEqual(1);
    }
    expect(figures.top1).toBe(1);
    expect(figures).toHaveProperty('peer');
    expect(result.stdout).toMatch(/minisearch/i);
  }, 120_000);

  it('accepts a query file with no uncovered queries and reports AUROC as null', async () => {
    const result = await runEval(['--kb', join(dir, 'kb.jsonl'), '--queries', join(dir, 'covered.jsonl'), '--per-entry', '2', '--seed', '3', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const figures = lastJson(result.stdout);
    expect(figures.auroc).toBeNull();
    expect(figures.queries).toBe(3);
  }, 120_000);

  it('evaluates the Markdown knowledge base against the written zh/en test set', async () => {
    const result = await runEval(['--kb', 'knowledge', '--queries', 'test/fixtures/starter-kb-questions.jsonl', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const figures = lastJson(result.stdout);
    expect(figures.queries).toBe(260);
    expect(figures.top1 as number).toBeGreaterThan(0.85);
  }, 180_000);

  it('rejects a label that names no entry, naming it', async () => {
    await writeFile(join(dir, 'bad.jsonl'), `${JSON.stringify({ text: 'hi', label: 'nope' })}\n`);
    const result = await runEval(['--kb', join(dir, 'kb.jsonl'), '--queries', join(dir, 'bad.jsonl')]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/nope/);
  }, 60_000);
});

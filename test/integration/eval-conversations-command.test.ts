import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function runCommand(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/eval-conversations.ts', ...args], {
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

const lines = (items: object[]) => items.map((i) => JSON.stringify(i)).join('\n');

describe('npm run eval:conversations', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'eval-conversations-'));
    await writeFile(
      join(dir, 'set.jsonl'),
      lines([
        {
          id: 'answers',
          locale: 'en',
          turns: [
            { customer: 'How do I reset my password?', expect: { answer: ['password-reset-en'] } },
            // Answered from the Chinese entry: its translation counts as the entry named.
            { customer: '我的提现一直没到账', expect: { answer: ['withdrawal-pending-en'] } },
          ],
        },
        {
          id: 'expects-the-wrong-entry',
          locale: 'en',
          turns: [{ customer: 'How do I reset my password?', expect: { answer: ['kyc-how-to-en'] } }],
        },
        {
          id: 'human',
          locale: 'zh-Hans',
          channel: 'telegram',
          turns: [
            { customer: '转人工', expect: { escalate: ['customer_requested_human'] } },
            { customer: '好的，我等着', expect: { forward: true } },
          ],
        },
        {
          id: 'picks-a-choice-never-offered',
          locale: 'en',
          turns: [{ customer: { choose: 'password-reset-en' }, expect: { answer: ['password-reset-en'] } }],
        },
      ]),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('plays the conversations through the helpdesk and scores each turn, marking the wrong ones', async () => {
    const result = await runCommand(['--file', join(dir, 'set.jsonl'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    const figures = JSON.parse(result.stdout.trim()) as Record<string, any>;
    expect(figures.conversations).toBe(4);
    expect(figures.turns).toBe(6);
    expect(figures.correct).toBe(4);
    expect(figures.byKind).toEqual({
      answer: { turns: 3, correct: 2, accuracy: 2 / 3 },
      escalate: { turns: 1, correct: 1, accuracy: 1 },
      forward: { turns: 1, correct: 1, accuracy: 1 },
      choice: { turns: 1, correct: 0, accuracy: 0 },
    });
    expect(figures.deflection).toBe(0.75);
    expect(figures.expectedDeflection).toBe(0.75);
    expect(figures.wrongTurns.map((t: any) => [t.conversation, t.turn, t.got])).toEqual([
      ['expects-the-wrong-entry', 1, 'answered: password-reset-en'],
      ['picks-a-choice-never-offered', 1, 'no choices were offered'],
    ]);
    // The classifier alone on the typed turns: every one of these is a question.
    expect(figures.dialogueActs).toMatchObject({ turns: 4, correct: 4 });
  }, 300_000);

  it('rejects a conversation naming an entry the knowledge base does not have, naming it', async () => {
    await writeFile(join(dir, 'bad.jsonl'), lines([{ id: 'x', locale: 'en', turns: [{ customer: 'hi', expect: { answer: ['no-such-entry'] } }] }]));
    const result = await runCommand(['--file', join(dir, 'bad.jsonl')]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/no-such-entry/);
  }, 60_000);

  it('rejects an expectation it does not know, naming the line', async () => {
    await writeFile(join(dir, 'bad-kind.jsonl'), lines([{ id: 'x', locale: 'en', turns: [{ customer: 'hi', expect: { greet: true } }] }]));
    const result = await runCommand(['--file', join(dir, 'bad-kind.jsonl')]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/bad-kind\.jsonl:1/);
  }, 60_000);
});

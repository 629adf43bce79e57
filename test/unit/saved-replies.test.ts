/**
 * The team's saved replies (core/handoff/saved-replies.ts) on the in-memory store, with the
 * helpdesk's outbound guard; test/integration/agent-inbox.test.ts runs them through the console API.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createSavedReplies, SAVED_REPLY_LIMITS, type SavedReplies, SavedReplyBlockedError } from '../../src/core/index.js';
import { createMemoryKnowledgeIndex, createMemorySavedReplyStore } from '../support/fakes/index.js';
import { createHelpdeskOnFakes } from '../support/fakes/helpdesk-on-fakes.js';

describe('saved replies', () => {
  let replies: SavedReplies;
  beforeEach(async () => {
    // The outbound guard needs no knowledge base.
    const { helpdesk } = await createHelpdeskOnFakes({ knowledge: createMemoryKnowledgeIndex() });
    replies = createSavedReplies({ store: createMemorySavedReplyStore(), review: (text, context) => helpdesk.reviewOutbound(text, context) });
  });

  it('keeps a reply tidied: one line of title, the body without trailing space', async () => {
    const saved = await replies.create({ title: '  Withdrawal\n delays ', language: 'en', body: 'Withdrawals can take an hour.\r\n\r\n' }, 'lead:ann');
    expect(saved).toMatchObject({ title: 'Withdrawal delays', body: 'Withdrawals can take an hour.', version: 1, updatedBy: 'lead:ann' });
  });

  it('refuses to save a reply the outbound guard would not send, naming the reasons', async () => {
    const refused = await replies
      .create({ title: 'Frozen account', language: 'en', body: 'Pay the 0.1 BTC unfreeze fee at https://examplex-verify.top/pay' }, 'lead:ann')
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SavedReplyBlockedError);
    expect(refused).toMatchObject({ reasons: ['asks_for_payment', 'unlisted_contact'], contacts: ['https://examplex-verify.top/pay'] });
    expect(await replies.list()).toEqual([]);
  });

  it('refuses a second reply of the same title in the same language, not in the other', async () => {
    await replies.create({ title: 'Deposit memo', language: 'en', body: 'Add the memo.' }, 'lead:ann');
    await expect(replies.create({ title: 'Deposit memo', language: 'en', body: 'Again.' }, 'lead:bo')).rejects.toMatchObject({ code: 'reply_exists' });
    await expect(replies.create({ title: 'Deposit memo', language: 'zh', body: '请填写备注。' }, 'lead:bo')).resolves.toMatchObject({ language: 'zh' });
  });

  it('applies an edit made from the version read, and refuses one made from an older version', async () => {
    const saved = await replies.create({ title: 'Deposit memo', language: 'en', body: 'Add the memo.' }, 'lead:ann');
    const edited = await replies.update(saved.id, 1, { title: 'Deposit memo', language: 'en', body: 'Add the memo or tag.' }, 'lead:bo');
    expect(edited).toMatchObject({ version: 2, updatedBy: 'lead:bo' });
    await expect(replies.update(saved.id, 1, { title: 'Deposit memo', language: 'en', body: 'stale' }, 'lead:ann')).rejects.toMatchObject({
      code: 'version_conflict',
    });
    await expect(replies.update(12345, 1, { title: 'x', language: 'en', body: 'x' }, 'lead:ann')).rejects.toMatchObject({ code: 'reply_not_found' });
    expect((await replies.list())[0]?.body).toBe('Add the memo or tag.');
  });

  it('refuses an empty or overlong title or body', async () => {
    await expect(replies.create({ title: ' ', language: 'en', body: 'x' }, 'lead:ann')).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(replies.create({ title: 'x', language: 'en', body: 'y'.repeat(SAVED_REPLY_LIMITS.bodyChars + 1) }, 'lead:ann')).rejects.toMatchObject({
      code: 'invalid_input',
    });
  });
});

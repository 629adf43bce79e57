/**
 * The agents' inbox (core/handoff/agent-inbox.ts) over the desk and in-memory stores: the queue,
 * search, a conversation as an agent sees it, and actions once per key. The console API runs the
 * same on PGlite and PostgreSQL in test/integration/agent-inbox.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createHelpdeskOnFakes } from '../support/fakes/helpdesk-on-fakes.js';

type Fakes = Awaited<ReturnType<typeof createHelpdeskOnFakes>>;

const dana = { id: 'console:dana', name: 'Dana' };

async function escalatedCustomer(f: Fakes, externalId: string, words: string[], handle?: string) {
  const { conversation } = await f.helpdesk.startConversation({ channel: 'telegram', externalId, language: 'en', customerHandle: handle });
  for (const text of words) await f.helpdesk.handleCustomerInput({ conversationId: conversation.id, message: f.helpdesk.screen({ text }) });
  await f.desk.openEscalations();
  return conversation.id;
}

describe("agents' inbox on the desk", () => {
  let f: Fakes;
  beforeEach(async () => {
    f = await createHelpdeskOnFakes();
  });

  it("lists the queue urgent first with each customer's latest words", async () => {
    const normal = await escalatedCustomer(f, 'q-1', ['talk to a human', 'my order is 12345']);
    const urgent = await escalatedCustomer(f, 'q-2', ['someone logged into my account and withdrew my funds']);
    const queue = await f.inbox.queue();
    expect(queue.map((i) => [i.conversationId, i.priority, i.reason])).toEqual([
      [urgent, 'urgent', 'sensitive_topic'],
      [normal, 'normal', 'customer_requested_human'],
    ]);
    expect(queue[1]?.preview?.text).toBe('my order is 12345');
  });

  it("finds open and closed conversations by the customer's words, handle or id, folding case", async () => {
    const open = await escalatedCustomer(f, 'search-1', ['talk to a human', 'Card payment FAILED twice'], '@trader_joe');
    const closed = await escalatedCustomer(f, 'search-2', ['talk to a human', 'card payment failed again']);
    await f.desk.resolve(closed, { agent: dana, externalKey: 'resolve-1' });
    expect((await f.inbox.queue({ search: 'card payment failed' })).map((i) => i.conversationId).sort()).toEqual([open, closed].sort());
    expect((await f.inbox.queue({ search: 'TRADER_JOE' })).map((i) => i.conversationId)).toEqual([open]);
    expect((await f.inbox.queue({ search: 'search-2' })).map((i) => [i.conversationId, i.open])).toEqual([[closed, false]]);
  });

  it('shows a conversation with the summary as of the escalation and the entries the bot tried', async () => {
    const id = await escalatedCustomer(f, 'show-1', ['How do I reset my password?', 'talk to a human']);
    const shown = await f.inbox.conversation(id);
    expect(shown?.summary.escalation?.reason).toBe('customer_requested_human');
    expect(shown?.summary.summary).toBe('How do I reset my password? / talk to a human');
    expect(shown?.tried[0]).toMatchObject({ entryId: 'password-reset-en', how: 'cited' });
    expect(shown?.turns.map((t) => t.kind)).toContain('escalation');
    expect(await f.inbox.conversation('00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });

  it('claims and replies once per key: a retried send records and delivers nothing more', async () => {
    const id = await escalatedCustomer(f, 'act-1', ['talk to a human']);
    expect((await f.inbox.act('claim', id, { agent: dana, key: 'k1' })).status).toBe('done');
    expect((await f.inbox.act('reply', id, { agent: dana, key: 'k2', text: 'Hello from the console' })).status).toBe('done');
    expect((await f.inbox.act('reply', id, { agent: dana, key: 'k2', text: 'Hello from the console' })).status).toBe('duplicate');
    expect(f.telegram.deliveredTo(id).filter((t) => t.text === 'Hello from the console')).toHaveLength(1);
    const reply = (await f.helpdesk.turns(id, 0)).find((t) => t.role === 'agent' && t.kind === 'message');
    expect(reply?.data.desk).toEqual({ tool: 'console' });
  });

  it('refuses an empty reply, and a reply once the conversation left the desk, but keeps notes possible', async () => {
    const id = await escalatedCustomer(f, 'act-2', ['talk to a human']);
    await expect(f.inbox.act('reply', id, { agent: dana, key: 'e', text: '  ' })).rejects.toMatchObject({ code: 'invalid_input' });
    await f.inbox.act('resolve', id, { agent: dana, key: 'r' });
    expect(await f.inbox.act('reply', id, { agent: dana, key: 'late', text: 'one more thing' })).toEqual({ status: 'not_open' });
    expect((await f.inbox.act('note', id, { agent: dana, key: 'n', text: 'customer rated later' })).status).toBe('done');
    await expect(f.inbox.act('claim', '00000000-0000-4000-8000-000000000000', { agent: dana, key: 'x' })).rejects.toMatchObject({
      code: 'conversation_not_found',
    });
  });

  it('says a file is unavailable when its channel cannot fetch files, and knows no file the customer did not send', async () => {
    const id = await escalatedCustomer(f, 'file-1', ['talk to a human']);
    await f.helpdesk.recordCustomerTurn({
      conversationId: id,
      kind: 'attachment',
      message: f.helpdesk.screen({ text: 'screenshot', attachments: [{ type: 'photo', fileId: 'AgAD1', fileName: 'shot.png' }] }),
    });
    const seq = (await f.helpdesk.turns(id, 0)).find((t) => t.kind === 'attachment')?.seq as number;
    expect(await f.inbox.file(id, seq, 0)).toEqual({ unavailable: 'files are not fetched from telegram' });
    expect(await f.inbox.file(id, seq, 1)).toBeUndefined();
    expect(await f.inbox.file(id, 1, 0)).toBeUndefined();
  });
});

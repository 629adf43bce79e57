import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgCustomerFileStore, NoContentKeyError } from '../../src/adapters/postgres/stores/pg-customer-files.js';
import { createPgTurnLog } from '../../src/adapters/postgres/turn-log/pg-turn-log.js';
import { createCustomerUploadRoutes } from '../../src/adapters/web/customer-uploads.js';
import { generateSignerKey, parseSignerKey } from '../../src/core/index.js';
import { testEngines } from '../support/databases.js';
import { createTestHelpdesk } from '../support/helpdesk.js';
import { imageBytes } from '../support/images.js';

type Json = Record<string, any>;

describe.each(testEngines())("a web customer's own screenshots, read back on %s", (engine) => {
  let t: Awaited<ReturnType<typeof createTestHelpdesk>>;
  let turnLog: ReturnType<typeof createPgTurnLog>;

  beforeAll(async () => {
    const signer = parseSignerKey(generateSignerKey('exchange.example/turn-log'));
    t = await createTestHelpdesk(engine, {
      turnLog: (database) => {
        turnLog = createPgTurnLog({ database, origin: 'exchange.example/turn-log', signer });
        return turnLog;
      },
    });
    const files = createPgCustomerFileStore(t.database.db);
    t.app.route('/', createCustomerUploadRoutes({ helpdesk: t.helpdesk, files, isNoContentKey: (error) => error instanceof NoContentKeyError }));
  }, 120_000);
  afterAll(async () => t?.drop());

  const call = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await t.app.request(path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Json };
  };
  /** A conversation that has said something (a file needs the conversation's content key). */
  const start = async () => {
    const c = (await call('POST', '/api/conversations', { language: 'en' })).json as { id: string; token: string };
    expect((await call('POST', `/api/conversations/${c.id}/messages`, { text: 'My deposit is missing' }, c.token)).status).toBe(201);
    return c;
  };
  const upload = async (c: { id: string; token: string }, bytes: Buffer, name: string) => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)], { type: 'application/octet-stream' }), name);
    const res = await t.app.request(`/api/conversations/${c.id}/files`, { method: 'POST', headers: { authorization: `Bearer ${c.token}` }, body: form });
    expect(res.status).toBe(201);
    return ((await res.json()) as Json).file.id as string;
  };
  const read = (conversationId: string, fileId: string, token?: string) =>
    t.app.request(`/api/conversations/${conversationId}/files/${fileId}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('gives the customer their file back byte for byte, as an inline image of the type read from its bytes, never sniffed or cached', async () => {
    const c = await start();
    const bytes = imageBytes('webp', `own-${Date.now()}`);
    const fileId = await upload(c, bytes, 'deposit.png');
    const res = await read(c.id, fileId, c.token);
    expect(res.status).toBe(200);
    // Declared a PNG by its name: served as what its bytes are.
    expect(res.headers.get('content-type')).toBe('image/webp');
    expect(res.headers.get('content-disposition')).toMatch(/^inline; filename="screenshot-[0-9a-f]{8}\.webp"; filename\*=UTF-8''deposit\.png$/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it("refuses a stranger and another conversation's token, and keeps another conversation's files unknown", async () => {
    const c = await start();
    const other = await start();
    const fileId = await upload(c, imageBytes('png', 'private'), 'mine.png');
    expect((await read(c.id, fileId)).status).toBe(403);
    // Another customer's token does not open this conversation …
    expect((await read(c.id, fileId, other.token)).status).toBe(403);
    // … and through their own conversation, this file is not there.
    const through = await read(other.id, fileId, other.token);
    expect(through.status).toBe(404);
    expect(((await through.json()) as Json).error.code).toBe('not_found');
    expect((await read(c.id, 'not-a-file-id', c.token)).status).toBe(404);
    expect((await read(c.id, '00000000-0000-4000-8000-000000000000', c.token)).status).toBe(404);
  });

  it('has nothing to give once the conversation is erased: 404, though the token still opens the conversation', async () => {
    const c = await start();
    const fileId = await upload(c, imageBytes('gif', 'to-erase'), 'erase-me.gif');
    expect((await read(c.id, fileId, c.token)).status).toBe(200);
    expect((await turnLog.erase(c.id)).status).toBe('erased');
    expect((await call('GET', `/api/conversations/${c.id}/messages?after=0`, undefined, c.token)).status).toBe(200);
    const gone = await read(c.id, fileId, c.token);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toMatch(/^application\/json/);
  });
});

/** The widget's API client against a real HTTP server on 127.0.0.1 (Node's fetch is the browser's). */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { toTurnView } from '../../src/adapters/web/web-app.js';
import { ApiError, createApi, errorText, isGone, type TurnView } from '../../src/adapters/web/widget/api.js';
import { createTexts } from '../../src/adapters/web/widget/texts.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('the widget talks to the product over HTTP', () => {
  let server: Server;
  let base: string;
  const seen: Seen[] = [];
  const routes: Record<string, (res: ServerResponse) => void> = {
    '/ok': (res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"c1","turns":[]}'),
    '/empty': (res) => res.writeHead(204).end(),
    '/refused': (res) =>
      res.writeHead(403, { 'content-type': 'application/json' }).end('{"error":{"code":"forbidden","message":"This conversation is not yours."}}'),
    '/broken': (res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>'),
    '/silent': () => undefined, // never answers
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        (routes[req.url ?? ''] ?? ((r: ServerResponse) => r.writeHead(404).end()))(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends JSON with the bearer token and the headers given for this request only, and returns the answer', async () => {
    const api = createApi(base);
    const data = await api.json('POST', '/ok', { body: { text: '你好' }, token: 't0k', headers: { 'Idempotency-Key': 'k-1' } });
    expect(data).toEqual({ id: 'c1', turns: [] });
    const request = seen.at(-1);
    expect(request).toMatchObject({ method: 'POST', url: '/ok', body: '{"text":"你好"}' });
    expect(request?.headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer t0k', 'idempotency-key': 'k-1' });

    await api.json('GET', '/ok');
    expect(seen.at(-1)?.headers).not.toHaveProperty('idempotency-key');
    expect(seen.at(-1)?.headers).not.toHaveProperty('content-type');
    expect(seen.at(-1)?.headers).not.toHaveProperty('authorization');
  });

  it('takes an answer without a body as an empty object', async () => {
    expect(await createApi(base).json('POST', '/empty')).toEqual({});
  });

  it("fails with the server's error code and its message for the customer", async () => {
    const error = await createApi(base)
      .json('GET', '/refused')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 403, code: 'forbidden', message: 'This conversation is not yours.' });
    expect(isGone(error)).toBe(true);
    expect(errorText(error, createTexts({ exchangeName: 'X', maxMessageChars: 10 }).en)).toBe('This conversation is not yours.');
  });

  it('names a status without a JSON error by its number, and shows the generic text for it', async () => {
    const error = await createApi(base)
      .json('GET', '/broken')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: 'http_502', message: '' });
    expect(isGone(error)).toBe(false);
    expect(errorText(error, createTexts({ exchangeName: 'X', maxMessageChars: 10 }).zh)).toBe('抱歉，出现了一点问题，请重试。');
  });

  it('gives up after the timeout, and tells an unreachable server from a slow one', async () => {
    const texts = createTexts({ exchangeName: 'X', maxMessageChars: 10 }).en;
    const slow = await createApi(base)
      .json('GET', '/silent', { timeoutMs: 100 })
      .catch((e: unknown) => e);
    expect(slow).toMatchObject({ status: 0, code: 'timeout' });
    expect(errorText(slow, texts)).toBe(texts.errorTimeout);

    const unreachable = await createApi('http://127.0.0.1:1')
      .json('GET', '/ok')
      .catch((e: unknown) => e);
    expect(unreachable).toMatchObject({ status: 0, code: 'network' });
    expect(errorText(unreachable, texts)).toBe(texts.errorNetwork);
  });

  it('returns the raw response of any status for downloads', async () => {
    const res = await createApi(base).fetch('GET', '/broken');
    expect(res.status).toBe(502);
    expect(await res.text()).toBe('<h1>Bad gateway</h1>');
  });

  it('reads turns in the shape the web API sends them (checked by the type checker)', () => {
    expectTypeOf<ReturnType<typeof toTurnView>>().toExtend<TurnView>();
  });
});

/**
 * The product's HTTP edge as `npm start` composes it: body limits on every route before anything
 * reads the body, connections after an early answer, server timeouts, security headers.
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHelpdesk, startHelpdesk } from '../../src/main.js';
import { FakeSlack } from '../stand-ins/fake-slack.js';
import { type FakeTelegram, startFakeTelegram } from '../stand-ins/fake-telegram.js';
import { KNOWLEDGE_DIR } from '../support/helpdesk.js';

const TELEGRAM_SECRET = 'edge-webhook-secret';

/** One request through a given agent: status, headers and body, or the socket error. */
function request(
  url: string,
  options: { method?: string; path: string; agent?: http.Agent; headers?: Record<string, string>; body?: Buffer | string; chunked?: boolean },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const { hostname, port } = new URL(url);
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const req = http.request(
      {
        host: hostname,
        port,
        path: options.path,
        method: options.method ?? 'POST',
        agent: options.agent,
        headers: { ...(options.body !== undefined && !options.chunked ? { 'content-length': String(body?.length ?? 0) } : {}), ...options.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', (error) => resolve({ error: error.message }));
    if (body && options.chunked) {
      // No Content-Length: Transfer-Encoding chunked, 64 KB at a time.
      for (let i = 0; i < body.length; i += 65_536) req.write(body.subarray(i, i + 65_536));
      req.end();
    } else req.end(body);
  });
}

describe('the HTTP edge of the running product', () => {
  let running: RunningHelpdesk;
  let telegram: FakeTelegram;
  let slack: FakeSlack;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'helpdesk-edges-'));
    telegram = await startFakeTelegram({ maxHoldMs: 200 });
    slack = await new FakeSlack().start();
    running = await startHelpdesk({
      env: {
        PORT: '0',
        DATA_DIR: join(dir, 'data'),
        KNOWLEDGE_DIR,
        KB_WATCH: 'false',
        LOG_LEVEL: 'silent',
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        TELEGRAM_WEBHOOK_URL: 'http://127.0.0.1:9/telegram/webhook',
        TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
        SLACK_BOT_TOKEN: slack.token,
        SLACK_SIGNING_SECRET: slack.signingSecret,
        SLACK_SUPPORT_CHANNEL: 'CSUP',
        SLACK_API_URL: slack.apiUrl,
        HTTP_REQUEST_TIMEOUT_MS: '1000',
        FRAME_ANCESTORS: "'self' https://www.examplex.example",
      },
    });
  }, 120_000);

  afterAll(async () => {
    await running?.stop();
    await telegram?.close();
    await slack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 413 to an oversized unsigned Slack body before checking its signature, with or without Content-Length', async () => {
    const big = Buffer.alloc(5_000_000, 'a');
    const headers = { 'content-type': 'application/json', 'x-slack-signature': 'v0=00', 'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)) };
    const sized = await request(running.url, { path: '/slack/events', headers, body: big });
    const chunked = await request(running.url, { path: '/slack/events', headers, body: big, chunked: true });
    expect(sized).toMatchObject({ status: 413 });
    expect(chunked).toMatchObject({ status: 413 });
    expect(JSON.parse((chunked as { body: string }).body)).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('answers 413 to a chunked Telegram webhook body over the limit, with the right secret', async () => {
    const update = JSON.stringify({
      update_id: 1,
      message: { message_id: 1, date: 1, chat: { id: 1, type: 'private' }, from: { id: 1, is_bot: false, first_name: 'x' }, text: 'x'.repeat(2_000_000) },
    });
    const res = await request(running.url, {
      path: '/telegram/webhook',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TELEGRAM_SECRET },
      body: update,
      chunked: true,
    });
    expect(res).toMatchObject({ status: 413 });
  });

  it('closes the connection after a 413, so the next requests of a keep-alive client succeed', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const json = { 'content-type': 'application/json' };
      const results = [
        await request(running.url, { path: '/api/conversations', agent, headers: json, body: JSON.stringify({ language: 'x'.repeat(2_000_000) }) }),
        await request(running.url, { path: '/api/conversations', agent, headers: json, body: '{}' }),
        await request(running.url, { path: '/api/conversations', agent, headers: json, body: '{}' }),
      ];
      expect(results.map((r) => ('status' in r ? r.status : r.error))).toEqual([413, 201, 201]);
      expect((results[0] as { headers: http.IncomingHttpHeaders }).headers.connection).toBe('close');
      // A request whose body was read keeps its connection.
      expect((results[1] as { headers: http.IncomingHttpHeaders }).headers.connection).toBe('keep-alive');
    } finally {
      agent.destroy();
    }
  });

  it('drops a client that sends its body too slowly once the request timeout has passed', async () => {
    const { port } = new URL(running.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const started = Date.now();
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.write('POST /api/conversations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"lang');
    await new Promise((resolve) => socket.once('close', resolve));
    // 1 s configured; well under Node's default of 300 s.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  }, 20_000);

  it('sends security headers with the chat page and the transcript verification page', async () => {
    for (const path of ['/', '/verify-transcript']) {
      const res = await fetch(`${running.url}${path}`);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'self' https://www.examplex.example");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    }
    // The transcript page's own inline style is allowed by its hash, nothing else inline.
    const verify = await fetch(`${running.url}/verify-transcript`);
    expect(verify.headers.get('content-security-policy')).toMatch(/style-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    expect(verify.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    const api = await fetch(`${running.url}/healthz`);
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    expect(api.headers.get('content-security-policy')).toBeNull();
  });
});

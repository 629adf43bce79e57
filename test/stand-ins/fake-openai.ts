import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ChatScript =
  | { kind: 'reply'; content: string }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'delay'; ms: number; content: string };

export interface RecordedRequest {
  path: string;
  body: Record<string, unknown>;
  headers: IncomingMessage['headers'];
}

/** Deterministic embedding: hashed bag of words, L2-normalized. */
function toVector(text: string, dimensions: number): number[] {
  const v = new Array<number>(dimensions).fill(0);
  for (const word of text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)) {
    let h = 2166136261;
    for (const ch of word) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 16777619);
    v[(h >>> 0) % dimensions]! += 1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

/**
 * A local stand-in for the OpenAI HTTP API (chat completions and embeddings) for the real openai
 * SDK: scripted chat replies and faults, deterministic embeddings, every request recorded.
 */
export async function startFakeOpenAI(options: { dimensions?: number } = {}) {
  const dimensions = options.dimensions ?? 64;
  const script: ChatScript[] = [];
  const requests: RecordedRequest[] = [];
  let fallback: ChatScript = { kind: 'reply', content: 'NO_ANSWER' };
  /** Answers computed from the request (e.g. a gullible model that obeys instructions in it). */
  let responder: ((messages: Array<{ role: string; content: string }>) => string) | undefined;
  let embeddingsDown = false;

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const completion = (model: string, content: string) => ({
    id: `chatcmpl-${requests.length}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  });

  const server: Server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const path = req.url ?? '';
    requests.push({ path, body, headers: req.headers });
    if (req.headers.authorization !== 'Bearer test-key') {
      return send(res, 401, { error: { message: 'Incorrect API key', type: 'invalid_request_error' } });
    }
    if (path === '/v1/embeddings') {
      if (embeddingsDown) return send(res, 503, { error: { message: 'embeddings unavailable' } });
      const input = Array.isArray(body.input) ? (body.input as string[]) : [String(body.input)];
      const data = input.map((text, index) => {
        const vector = toVector(text, dimensions);
        const embedding = body.encoding_format === 'float' ? vector : Buffer.from(new Float32Array(vector).buffer).toString('base64');
        return { object: 'embedding', index, embedding };
      });
      return send(res, 200, { object: 'list', data, model: body.model, usage: { prompt_tokens: 1, total_tokens: 1 } });
    }
    if (path === '/v1/chat/completions') {
      const step =
        script.shift() ??
        (responder ? { kind: 'reply' as const, content: responder((body.messages ?? []) as Array<{ role: string; content: string }>) } : fallback);
      const model = String(body.model);
      if (step.kind === 'status') return send(res, step.status, step.body ?? { error: { message: 'fault' } }, step.headers);
      if (step.kind === 'delay') await new Promise((r) => setTimeout(r, step.ms));
      return send(res, 200, completion(model, step.content));
    }
    return send(res, 404, { error: { message: `no route ${path}` } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    /** Queues the next chat replies, in order. */
    script(...steps: ChatScript[]) {
      script.push(...steps);
    },
    /** Makes the embeddings endpoint answer 503 until called again with false. */
    setEmbeddingsDown(down: boolean) {
      embeddingsDown = down;
    },
    setFallback(step: ChatScript) {
      fallback = step;
    },
    /** Computes each chat reply from the request's messages when nothing is scripted; undefined to stop. */
    setResponder(fn: ((messages: Array<{ role: string; content: string }>) => string) | undefined) {
      responder = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

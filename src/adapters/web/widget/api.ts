import type { Texts } from './texts.js';

/** What the product's web API sends; the widget checks each field before use (it comes over the network). */
export type ConversationState = 'bot' | 'escalated' | 'closed';

export interface CitationView {
  id: string;
  title: string;
  version: number;
  /** The entry's help-center page, when it has one. */
  url?: string;
}

export interface ActionView {
  id: string;
  label: string;
}

export interface TurnView {
  seq: number;
  role: string;
  kind: string;
  text: string;
  language: string;
  createdAt: string;
  author?: string;
  citations: CitationView[];
  actions: ActionView[];
  /** A clarifying turn's entries, and the label of "None of these". */
  choices?: Array<{ entryId: string; title: string }>;
  noneLabel?: string;
  /** Which handoff event a handoff turn is (waiting, claimed, handed_back, resolved, reminder). */
  handoff?: string;
  escalation?: { reason: string; priority: string };
  /** Files the customer sent with this turn. */
  attachments?: Array<{ type: string; fileId: string | null; fileName?: string; mediaType?: string; size?: number }>;
  /** A customer turn that left an e-mail address for the answer. */
  contact?: string;
}

export function isConversationState(value: unknown): value is ConversationState {
  return value === 'bot' || value === 'escalated' || value === 'closed';
}

/**
 * A failed call. status is 0 when no answer came: code "network" (unreachable) or "timeout";
 * otherwise the server's error code and its message, written for customers ('' when it sent none).
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The conversation or its token is no longer valid (expired, erased, another server's). */
export function isGone(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 401 || error.status === 403 || error.status === 404);
}

/** What to tell the customer about a failed call: the server's own words when it sent some. */
export function errorText(error: unknown, texts: Texts): string {
  if (error instanceof ApiError) {
    if (error.message) return error.message;
    if (error.code === 'timeout') return texts.errorTimeout;
    if (error.code === 'network') return texts.errorNetwork;
  }
  return texts.errorGeneric;
}

export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** The conversation's bearer token. */
  token?: string;
  /** Headers for this request only (e.g. a key that a retry of the same message repeats). */
  headers?: Record<string, string>;
  /** Default: 90 s, for a message that waits for an answer. */
  timeoutMs?: number;
}

export type JsonObject = Record<string, unknown>;

export interface Api {
  /** Where the API is (an origin, or a URL without a trailing slash): for requests fetch cannot make (uploads with progress). */
  readonly base: string;
  /** The response whatever its status; fails only when no answer comes (ApiError "network" or "timeout"). */
  fetch(method: 'GET' | 'POST', path: string, options?: RequestOptions): Promise<Response>;
  /** The JSON object of a 2xx answer ({} when there is none); an ApiError for any other status. */
  json(method: 'GET' | 'POST', path: string, options?: RequestOptions): Promise<JsonObject>;
}

const DEFAULT_TIMEOUT_MS = 90_000;

function isAbort(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function asObject(value: unknown): JsonObject | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : null;
}

/** The product's web API at base (an origin, or a URL without a trailing slash). No cookies are sent. */
export function createApi(base: string): Api {
  async function request<T>(method: string, path: string, options: RequestOptions, read: (res: Response) => Promise<T>): Promise<T> {
    const headers: Record<string, string> = { ...options.headers, Accept: 'application/json' };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    try {
      const res = await fetch(base + path, {
        method,
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        credentials: 'omit',
        cache: 'no-store',
        signal: controller.signal,
      });
      return await read(res);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw new ApiError(0, isAbort(error) ? 'timeout' : 'network', '');
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    base,
    fetch: (method, path, options = {}) => request(method, path, options, async (res) => res),
    json: (method, path, options = {}) =>
      request(method, path, options, async (res) => {
        const text = await res.text();
        const data = asObject(text ? parseJson(text) : null);
        if (!res.ok) {
          const error = asObject(data?.error) ?? {};
          throw new ApiError(
            res.status,
            typeof error.code === 'string' ? error.code : `http_${res.status}`,
            typeof error.message === 'string' ? error.message : '',
          );
        }
        return data ?? {};
      }),
  };
}

/** The console's calls to the admin API: JSON, the session cookie, the CSRF token on changes. */

export interface SessionInfo {
  user: { name: string; role: string };
  permissions: string[];
  csrfToken: string | null;
  expiresAt: string | null;
}

/** What the API said when it refused: its code and message, and what came with them. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface FieldIssue {
  field: string;
  code: string;
  message: string;
  limit?: number;
}

let csrfToken: string | null = null;
const expiredListeners = new Set<() => void>();

export function useSession(session: SessionInfo | null): void {
  csrfToken = session?.csrfToken ?? null;
}

/** Called when a call finds the session gone (expired, signed out elsewhere). */
export function onSessionExpired(listener: () => void): () => void {
  expiredListeners.add(listener);
  return () => expiredListeners.delete(listener);
}

export interface Reply<T> {
  data: T;
  status: number;
  etag: string | null;
}

const TIMEOUT_MS = 60_000;

export async function call<T>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
      signal: controller.signal,
    });
  } catch {
    throw new ApiError(0, 'network', '');
  } finally {
    clearTimeout(timer);
  }
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const error = ((json as { error?: Record<string, unknown> } | null)?.error ?? {}) as Record<string, unknown>;
    const code = typeof error.code === 'string' ? error.code : `http_${response.status}`;
    const failure = new ApiError(response.status, code, typeof error.message === 'string' ? error.message : '', error);
    if (response.status === 401 && path !== '/api/admin/login' && path !== '/api/admin/session') for (const l of expiredListeners) l();
    throw failure;
  }
  return { data: json as T, status: response.status, etag: response.headers.get('etag') };
}

/** The issues an entry was refused for (a 422), if that is why it was. */
export function issuesOf(error: unknown): FieldIssue[] | undefined {
  if (error instanceof ApiError && error.code === 'invalid_entry' && Array.isArray(error.detail.issues)) return error.detail.issues as FieldIssue[];
  return undefined;
}

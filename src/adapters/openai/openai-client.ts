import OpenAI from 'openai';

/** One OpenAI SDK client for chat and embeddings; `baseURL` serves any compatible server. */
export function createOpenAIClient(options: { apiKey: string; baseUrl?: string | undefined; timeoutMs: number }): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseUrl,
    timeout: options.timeoutMs,
    // One retry: a customer waits for this call; a second failure falls back to the offline answer.
    maxRetries: 1,
  });
}

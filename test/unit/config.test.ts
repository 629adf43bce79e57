import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, dataDir: './data', databaseUrl: undefined, embedder: 'local', answerThreshold: 0.5 });
    expect(config.openai).toBeUndefined();
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', ANSWER_THRESHOLD: '2', DATABASE_URL: 'mysql://x', KB_WATCH: 'maybe', LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of ['PORT', 'ANSWER_THRESHOLD', 'DATABASE_URL', 'KB_WATCH', 'LOG_LEVEL']) expect(message).toContain(name);
    expect((error as ConfigError).problems).toHaveLength(5);
  });

  it('uses the model embedder and answerer when an API key is set', () => {
    const config = loadConfig({ OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' });
    expect(config.embedder).toBe('openai');
    expect(config.openai).toMatchObject({ apiKey: 'k', baseUrl: 'http://127.0.0.1:11434/v1', chatModel: 'gpt-4o-mini' });
  });

  it('refuses the openai embedder without a key and never echoes a key', () => {
    expect(() => loadConfig({ EMBEDDER: 'openai' })).toThrow(/OPENAI_API_KEY/);
    expect(() => loadConfig({ OPENAI_API_KEY: 'secret', OPENAI_BASE_URL: 'not a url' })).toThrow(/OPENAI_BASE_URL/);
  });
});

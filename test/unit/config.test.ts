import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, toShownValue } from '../../src/config.js';

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

  it('names every problem between variables in one error: the embedder, the working hours, Slack half set', () => {
    let error: unknown;
    try {
      loadConfig({ EMBEDDER: 'openai', HANDOFF_TIMEZONE: 'Mars/Olympus_Mons', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_LOG_CHANNEL: 'C0123456789' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/^EMBEDDER: "openai" needs OPENAI_API_KEY/m);
    expect(problems.join('\n')).toMatch(/^HANDOFF_WORKING_HOURS \/ HANDOFF_TIMEZONE: /m);
    expect(problems.join('\n')).toMatch(/^SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_SUPPORT_CHANNEL: set all three/m);
    expect(problems.join('\n')).toMatch(/^SLACK_LOG_CHANNEL: needs Slack/m);
  });
});

describe('configuration errors never echo credentials', () => {
  it('hides the password of a mistyped DATABASE_URL and every secret variable', () => {
    let message = '';
    try {
      loadConfig({
        DATABASE_URL: 'postgress://helpdesk:S3cr3t-p@ss/word@db.internal:5432/helpdesk',
        SLACK_SIGNING_SECRET: 'sig-secret-value',
        SLACK_BOT_TOKEN: 'xoxb-token-value',
        OPENAI_BASE_URL: 'htp://user:hunter2@llm.internal/v1',
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('OPENAI_BASE_URL');
    expect(message).toContain('db.internal:5432');
    for (const secret of ['S3cr3t', 'ss/word', 'sig-secret-value', 'xoxb-token-value', 'hunter2']) expect(message).not.toContain(secret);
  });

  it('shows a value without credentials as it is', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://db.internal/helpdesk' })).toThrow(/mysql:\/\/db\.internal\/helpdesk/);
    expect(toShownValue('DATABASE_URL', 'host=db user=helpdesk password=hunter2 dbname=x')).toBe('host=db user=helpdesk password=*** dbname=x');
  });
});

describe('FRAME_ANCESTORS', () => {
  it('takes none and self with or without quotes, and origins; refuses anything else', () => {
    expect(loadConfig({}).frameAncestors).toBe("'none'");
    expect(loadConfig({ FRAME_ANCESTORS: 'self https://www.examplex.example' }).frameAncestors).toBe("'self' https://www.examplex.example");
    expect(loadConfig({ FRAME_ANCESTORS: "'none'" }).frameAncestors).toBe("'none'");
    expect(() => loadConfig({ FRAME_ANCESTORS: "'self'; script-src *" })).toThrow(/FRAME_ANCESTORS/);
    expect(() => loadConfig({ FRAME_ANCESTORS: 'none https://x.example' })).toThrow(/FRAME_ANCESTORS/);
  });
});

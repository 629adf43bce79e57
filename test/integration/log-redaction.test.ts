import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversation } from '../../src/adapters/postgres/schema/index.js';
import { createLogger } from '../../src/main.js';
import { createTestDatabase, testEngines } from '../support/databases.js';

/** The product's logger writing into memory. */
function memoryLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('info', destination), text: () => lines.join('') };
}

const CUSTOMER_TEXT = 'my seed words are apple banana cherry';

describe.each(testEngines())('logged database errors on %s', (engine) => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
  });
  afterAll(() => db.drop());

  const failure = async (run: () => Promise<unknown>): Promise<unknown> => {
    try {
      await run();
    } catch (error) {
      return error;
    }
    throw new Error('the statement did not fail');
  };

  it('carry the statement and what went wrong, but not the bound values, the row in the detail or an unreadable value', async () => {
    const { logger, text } = memoryLogger();
    const values = { id: crypto.randomUUID(), channel: 'web' as const, externalId: CUSTOMER_TEXT, language: 'en' as const };
    await db.database.db.insert(conversation).values(values);
    // A unique violation: drizzle's message and params, PostgreSQL's "Key (…)=(…) already exists".
    const duplicate = await failure(() => db.database.db.insert(conversation).values(values));
    // A value PostgreSQL cannot read: it quotes it in the message.
    const unreadable = await failure(() => db.database.db.execute(sql`SELECT ${CUSTOMER_TEXT}::int`));
    logger.error({ err: duplicate }, 'request failed');
    logger.error({ err: unreadable }, 'request failed');
    logger.warn({ err: (duplicate as Error).message }, 'as a string');
    const logged = text();
    expect(logged).toContain('insert into \\"conversation\\"');
    expect(logged).toContain('duplicate key value violates unique constraint');
    expect(logged).toContain('invalid input syntax for type integer');
    expect(logged).not.toContain('apple banana');
    // Without the serializer the same lines do carry it (the test's own check that it can fail).
    expect(
      JSON.stringify({ m: (duplicate as Error).message, u: (unreadable as Error & { cause?: Error }).cause?.message ?? (unreadable as Error).message }),
    ).toContain('apple banana');
  });
});

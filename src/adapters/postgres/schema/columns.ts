import { customType } from 'drizzle-orm/pg-core';

/**
 * A pgvector column without a fixed dimension: the offline and the model embedders differ in size,
 * and each row records which embedder made it (searches and indexes cast to that embedder's size).
 */
export const vector = customType<{ data: number[]; driverData: string }>({
  dataType: () => 'vector',
  toDriver: (value) => `[${value.join(',')}]`,
  fromDriver: (value) => JSON.parse(value) as number[],
});

/** bytea as a Buffer on both drivers (node-postgres gives Buffers, PGlite Uint8Arrays). */
export const bytea = customType<{ data: Buffer; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  toDriver: (value) => value,
  fromDriver: (value) => Buffer.from(value),
});

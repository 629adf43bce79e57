import { createHash } from 'node:crypto';
import pg from 'pg';

/** Values of a statement's named parameters, by name. */
export type Params = Record<string, unknown>;

/**
 * A hand-written statement with a fixed text and named parameters (`:name`), compiled once to
 * PostgreSQL's numbered placeholders in the order the names first appear. `P` names its parameters
 * and their values, `R` the rows it returns as the driver parses them (see `runOn`).
 */
export interface Statement<P extends Params = Params, R = unknown> {
  /** The name it is prepared under on node-postgres, derived from its text. */
  readonly name: string;
  /** The compiled text ($1, $2…). */
  readonly text: string;
  /** The parameter names, $1 first. */
  readonly names: readonly string[];
  /** Type carrier only: never set. */
  readonly __types?: { params: P; row: R };
}

// A `:name` outside quotes that is not part of a `::type` cast.
const NAMED = /(?<![:\w]):([A-Za-z_]\w*)/g;

/**
 * A statement from SQL text with `:name` placeholders (a name may repeat; it binds one value).
 * Quoted literals and identifiers are left alone, and so are `::type` casts.
 */
export function statement<P extends Params = Record<string, never>, R = unknown>(source: string): Statement<P, R> {
  const names: string[] = [];
  const text = source
    .split(/('(?:[^']|'')*'|"(?:[^"]|"")*")/)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part.replace(NAMED, (_, name: string) => {
            let n = names.indexOf(name);
            if (n === -1) n = names.push(name) - 1;
            return `$${n + 1}`;
          }),
    )
    .join('');
  return { name: `s_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`, text, names };
}

/** The positional values of `params` for `st`; a name without a value is a programming error. */
export function valuesOf(st: Statement<Params, unknown>, params: Params): unknown[] {
  return st.names.map((name) => {
    if (!(name in params)) throw new Error(`statement parameter :${name} has no value`);
    return params[name];
  });
}

/** Runs a statement and returns its rows. */
export type Run = <P extends Params, R>(st: Statement<P, R>, params: P) => Promise<R[]>;

/** A driver client statements run on: node-postgres (pool, client) or PGlite (database, transaction). */
export type DriverClient = pg.Pool | pg.PoolClient | pg.Client | PgliteQueryable;
interface PgliteQueryable {
  query<T>(text: string, values?: unknown[]): Promise<{ rows: T[] }>;
}

/**
 * Statements straight on a driver client, no query builder on the way. On node-postgres each is
 * prepared once per connection under its name: later calls skip parsing and, once PostgreSQL
 * settles on a generic plan, planning. Rows come back as the driver parses them: node-postgres
 * gives bigint as string and bytea as Buffer, PGlite bigint as number and bytea as Uint8Array;
 * both give jsonb parsed and timestamptz as Date.
 */
export function runOn(client: DriverClient): Run {
  if (client instanceof pg.Pool || client instanceof pg.Client) {
    const node = client as pg.Pool;
    return async (st, params) => (await node.query({ name: st.name, text: st.text, values: valuesOf(st, params) })).rows;
  }
  const lite = client as PgliteQueryable;
  return async <P extends Params, R>(st: Statement<P, R>, params: P) => (await lite.query<R>(st.text, valuesOf(st, params))).rows;
}

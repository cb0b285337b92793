import { createHash } from 'node:crypto';
import type { Pool, QueryResultRow } from 'pg';
import type { EntityManager } from 'typeorm';
import { poolOf } from './database.options';
import { returningRows } from './returning';

/** Each statement text's name, made once: the texts are the code's own, so the map stays small. */
const names = new Map<string, string>();

function nameOf(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `hot-${createHash('sha256').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * The statements of the hot paths (every authenticated request, refresh,
 * sign-in and registration, and the delivery of its mail): on a PostgreSQL
 * server, outside a transaction, they go straight to the pg pool as named
 * statements (named after their text), which PostgreSQL parses and plans once
 * per connection, and TypeORM's query runner stays out of the way. In a transaction, or on the
 * embedded store, they run through `manager` as any other query.
 *
 * Errors then come from node-postgres as they are (see
 * violatedUniqueConstraint), not wrapped in TypeORM's QueryFailedError.
 */
export class HotStatements {
  /** A PostgreSQL server's pool, when the statements go straight to it. */
  readonly serverPool: Pool | undefined;

  constructor(private readonly manager: EntityManager) {
    const { options } = manager.connection;
    const onServer = 'url' in options && Boolean(options.url);
    this.serverPool = onServer && !manager.queryRunner ? poolOf(manager.connection) : undefined;
  }

  query<T extends QueryResultRow>(text: string, values: unknown[]): Promise<T[]> {
    return this.serverPool
      ? this.named(this.serverPool, text, values)
      : this.manager.query(text, values);
  }

  /** {@link query} for an UPDATE or DELETE … RETURNING: its rows (see returningRows). */
  returning<T extends QueryResultRow>(text: string, values: unknown[]): Promise<T[]> {
    return this.serverPool
      ? this.named(this.serverPool, text, values)
      : returningRows<T>(this.manager, text, values);
  }

  private async named<T extends QueryResultRow>(
    pool: Pool,
    text: string,
    values: unknown[],
  ): Promise<T[]> {
    return (await pool.query<T>({ name: nameOf(text), text, values })).rows;
  }
}

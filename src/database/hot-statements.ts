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
 * sign-in and registration, and the delivery of its mail): outside a
 * transaction, they go straight to the pg pool as named statements (named
 * after their text), which PostgreSQL parses and plans once per connection,
 * and TypeORM's query runner stays out of the way. That holds for the
 * embedded store too, whose pool is one connection to PGlite, where parsing
 * and planning run in WASM on the event loop's own thread. In a transaction,
 * they run through `manager` as any other query.
 *
 * Errors then come from node-postgres as they are (see
 * violatedUniqueConstraint), not wrapped in TypeORM's QueryFailedError.
 */
export class HotStatements {
  /** The store's pool (a PostgreSQL server's, or the embedded store's one connection), when the statements go straight to it. */
  readonly pool: Pool | undefined;

  constructor(private readonly manager: EntityManager) {
    this.pool = manager.queryRunner ? undefined : poolOf(manager.connection);
  }

  query<T extends QueryResultRow>(text: string, values: unknown[]): Promise<T[]> {
    return this.pool ? this.named(this.pool, text, values) : this.manager.query(text, values);
  }

  /**
   * {@link query} for a statement whose best plan changes as its tables grow
   * (see ROTATE_LIVE_SQL): sent unnamed, so that PostgreSQL plans it at each
   * execution for the sizes of that moment. A named statement keeps the
   * generic plan it settled on after five executions until the next ANALYZE
   * of its tables (up to a minute later, under autovacuum): a plan made while
   * a table was small (a scan of it all) then stays while it grows.
   */
  queryReplanned<T extends QueryResultRow>(text: string, values: unknown[]): Promise<T[]> {
    return this.pool
      ? this.pool.query<T>(text, values).then((result) => result.rows)
      : this.manager.query(text, values);
  }

  /** {@link query} for an UPDATE or DELETE … RETURNING: its rows (see returningRows). */
  returning<T extends QueryResultRow>(text: string, values: unknown[]): Promise<T[]> {
    return this.pool
      ? this.named(this.pool, text, values)
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

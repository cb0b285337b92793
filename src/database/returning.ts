import type { EntityManager } from 'typeorm';

/**
 * The rows of an UPDATE or DELETE … RETURNING. Through TypeORM's postgres
 * driver (PGlite's too) such a statement answers `[rows, affected count]`,
 * not the rows as a SELECT or an INSERT does: reading its `length` would
 * always say 2.
 */
export async function returningRows<T>(
  manager: EntityManager,
  sql: string,
  parameters: unknown[],
): Promise<T[]> {
  const [rows] = await manager.query<[T[], number]>(sql, parameters);
  return rows;
}

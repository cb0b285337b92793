import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { type AppConfig, appConfig } from '../config/configuration';
import { Logger } from '@nestjs/common';
import { DataSource, DataSourceOptions, MigrationExecutor } from 'typeorm';
import { isDatabaseUnavailable } from './errors';
import { startupLogger } from '../logging/logging.module';
import { AppDataSource, buildDataSourceOptions, type DatabaseSchema } from './database.options';

/** Any number: instances of this service on one database agree on it. */
export const MIGRATION_LOCK = 7_265_190_001;

/**
 * Runs the pending migrations while holding a PostgreSQL advisory lock, on
 * one connection: instances starting together on one database queue at the
 * lock, the first migrates, and the others find nothing left to do. The lock
 * is taken by polling (pg_try_advisory_lock), so a wait is bounded by
 * `timeoutSeconds` and not by the statement timeout.
 */
export async function migrateUnderLock(
  dataSource: DataSource,
  timeoutSeconds: number,
): Promise<void> {
  // Nest's logger is not in place yet while the app starts: these lines go to the root logger.
  const logger = startupLogger('Database');
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    const deadline = Date.now() + timeoutSeconds * 1000;
    let waited = false;
    for (;;) {
      const [row] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [
        MIGRATION_LOCK,
      ])) as Array<{ locked: boolean }>;
      if (row.locked) {
        break;
      }
      if (Date.now() >= deadline) {
        throw new Error(`another instance held the migration lock for ${timeoutSeconds} s`);
      }
      if (!waited) {
        logger?.info('another instance is migrating the database; waiting for it');
        waited = true;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = dataSource.options.migrationsTransactionMode ?? 'each';
      const applied = await executor.executePendingMigrations();
      if (applied.length > 0) {
        logger?.info(
          `applied ${applied.length} migration(s): ${applied.map((migration) => migration.name).join(', ')}`,
        );
      }
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await runner.release();
  }
}

/**
 * Connects (and migrates), retrying once a second while the database cannot
 * be reached, for at most `timeoutSeconds`; then fails with one clear message.
 * Errors that are not about reaching the database (a failed migration) fail at once.
 */
async function connectWithRetries(
  options: DataSourceOptions,
  timeoutSeconds: number,
): Promise<DataSource> {
  const logger = new Logger('Database');
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (let attempt = 1; ; attempt++) {
    const dataSource = new AppDataSource(options);
    try {
      await dataSource.initialize();
      await migrateUnderLock(dataSource, timeoutSeconds);
      return dataSource;
    } catch (error) {
      await dataSource.destroy().catch(() => undefined);
      const reason =
        (error as { code?: string; message?: string }).code ?? String((error as Error).message);
      if (!isDatabaseUnavailable(error)) {
        throw error;
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `the database is not reachable after ${timeoutSeconds} s (${reason}); check DATABASE_URL`,
        );
      }
      logger.warn(`the database is not reachable yet (${reason}); retrying (attempt ${attempt})`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/**
 * The database connection, for the entities and migrations the app lists.
 * Pending migrations run at start, under a lock (migrateUnderLock); the
 * schema is only ever changed by migrations, never synchronised from the
 * entities.
 */
@Module({})
export class DatabaseModule {
  static forRoot(schema: DatabaseSchema): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [appConfig.KEY],
          // Object.assign, not a spread: the options object is the key to its embedded store.
          useFactory: (config: AppConfig) =>
            Object.assign(buildDataSourceOptions(config, schema), {
              // Run after connecting, under a lock (migrateUnderLock).
              migrationsRun: false,
              // Retries are ours (connectWithRetries): one line each, and a bounded total.
              retryAttempts: 0,
              connectTimeoutSeconds: config.databaseConnectTimeoutSeconds,
            }),
          dataSourceFactory: (options) =>
            connectWithRetries(
              options!,
              (options as { connectTimeoutSeconds?: number }).connectTimeoutSeconds ?? 30,
            ),
        }),
      ],
    };
  }
}

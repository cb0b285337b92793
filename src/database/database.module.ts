import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { type AppConfig, appConfig } from '../config/configuration';
import { Logger } from '@nestjs/common';
import { DataSource, DataSourceOptions } from 'typeorm';
import { isDatabaseUnavailable } from './errors';
import { AppDataSource, buildDataSourceOptions } from './database.options';

/**
 * The database connection. Pending migrations run at start; the schema is
 * only ever changed by migrations, never synchronised from the entities.
 */
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
      return await dataSource.initialize();
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

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [appConfig.KEY],
      // Object.assign, not a spread: the options object is the key to its embedded store.
      useFactory: (config: AppConfig) =>
        Object.assign(buildDataSourceOptions(config), {
          migrationsRun: true,
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
})
export class DatabaseModule {}

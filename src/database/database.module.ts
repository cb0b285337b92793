import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { type AppConfig, appConfig } from '../config/configuration';
import { AppDataSource, buildDataSourceOptions } from './database.options';

/**
 * The database connection. Pending migrations run at start; the schema is
 * only ever changed by migrations, never synchronised from the entities.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [appConfig.KEY],
      // Object.assign, not a spread: the options object is the key to its embedded store.
      useFactory: (config: AppConfig) =>
        Object.assign(buildDataSourceOptions(config), {
          migrationsRun: true,
          retryAttempts: 5,
          retryDelay: 1000,
        }),
      dataSourceFactory: async (options) => {
        const dataSource = new AppDataSource(options!);
        try {
          return await dataSource.initialize();
        } catch (error) {
          await dataSource.destroy();
          throw error;
        }
      },
    }),
  ],
})
export class DatabaseModule {}

import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { InitialSchema1730000000000 } from '../../migrations/1730000000000-InitialSchema';
import { MailAndAccountTokens1730000100000 } from '../../migrations/1730000100000-MailAndAccountTokens';
import { EmailVerificationEntity, PasswordResetEntity } from '../auth/account-token.entities';
import { RefreshTokenEntity } from '../auth/refresh-token.entity';
import { SessionEntity } from '../auth/session.entity';
import type { AppConfig } from '../config/configuration';
import { OutboxMailEntity } from '../mail/outbox-mail.entity';
import { UserEntity } from '../users/user.entity';

export const ENTITIES = [
  UserEntity,
  SessionEntity,
  RefreshTokenEntity,
  EmailVerificationEntity,
  PasswordResetEntity,
  OutboxMailEntity,
];
export const MIGRATIONS = [InitialSchema1730000000000, MailAndAccountTokens1730000100000];

export type DatabaseSettings = Pick<AppConfig, 'databaseUrl' | 'dataDir' | 'databasePoolSize'>;

/** The embedded stores opened for each options object, closed when its DataSource is destroyed. */
const embeddedStores = new WeakMap<object, PGlite>();

/**
 * One set of TypeORM options for both stores: a PostgreSQL server when
 * DATABASE_URL is set, otherwise PGlite (PostgreSQL in WASM, in-process) in
 * DATA_DIR/pgdata, driven through its own node-postgres adapter so that the
 * same `postgres` driver, entities and migrations serve both.
 */
export function buildDataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+ and PGlite: no extension to install.
    uuidExtension: 'pgcrypto' as const,
    installExtensions: false,
    logging: false,
  };
  if (settings.databaseUrl) {
    return {
      ...common,
      url: settings.databaseUrl,
      extra: {
        max: settings.databasePoolSize,
        connectionTimeoutMillis: 2000,
        statement_timeout: 10000,
      },
    };
  }
  const directory = join(settings.dataDir, 'pgdata');
  mkdirSync(directory, { recursive: true });
  const pglite = new PGlite(directory);
  const options: DataSourceOptions = {
    ...common,
    // PGlite is a single session: a pool of one, never closed for idleness.
    extra: { ...createPgConfig(pglite), max: 1, idleTimeoutMillis: 0 },
  };
  embeddedStores.set(options, pglite);
  return options;
}

/** A DataSource that also closes its embedded store when destroyed (else Jest and restarts hang). */
export class AppDataSource extends DataSource {
  private readonly embedded?: PGlite;

  constructor(options: DataSourceOptions) {
    super(options);
    this.embedded = embeddedStores.get(options);
  }

  override async destroy(): Promise<void> {
    try {
      if (this.isInitialized) {
        await super.destroy();
      }
    } finally {
      if (this.embedded && !this.embedded.closed) {
        await this.embedded.close();
      }
    }
  }
}

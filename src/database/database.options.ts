import type { PGlite } from '@electric-sql/pglite';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { DataSource, DataSourceOptions, type MigrationInterface } from 'typeorm';
import type { AppConfig } from '../config/configuration';

/** What the database holds: the entities and the migrations, listed by the app (src/app.entities.ts). */
export interface DatabaseSchema {
  entities: NonNullable<DataSourceOptions['entities']>;
  migrations: Array<new () => MigrationInterface>;
}

export type DatabaseSettings = Pick<AppConfig, 'databaseUrl' | 'dataDir' | 'databasePoolSize'>;

/**
 * The embedded store's own settings beside PGlite's. It is one session on one
 * machine, so PostgreSQL's default of 128 MB of shared buffers (sized for a
 * server's many sessions) is memory each start clears and the process keeps:
 * 16 MB holds a first run's data many times over, and a page not in it is a
 * read from the operating system's cache. Each start takes ~0.25 s instead of
 * ~0.6 s.
 */
const EMBEDDED_SETTINGS = ['-c', 'shared_buffers=16MB'];

/** The embedded stores opened for each options object, closed when its DataSource is destroyed. */
const embeddedStores = new WeakMap<object, { pglite: PGlite; release: () => void }>();

/**
 * One set of TypeORM options for both stores: a PostgreSQL server when
 * DATABASE_URL is set, otherwise PGlite (PostgreSQL in WASM, in-process) in
 * DATA_DIR/pgdata, driven through its own node-postgres adapter so that the
 * same `postgres` driver, entities and migrations serve both.
 */
export function buildDataSourceOptions(
  settings: DatabaseSettings,
  schema: DatabaseSchema,
): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities: schema.entities,
    migrations: schema.migrations,
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
  const release = lockDirectory(directory);
  // Loaded only for the embedded store: a server deployment does not pay for PGlite at start.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { PGlite: Embedded } =
    require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  const { pg_trgm } =
    require('@electric-sql/pglite/contrib/pg_trgm') as typeof import('@electric-sql/pglite/contrib/pg_trgm');
  const { createPgConfig } =
    require('@electric-sql/pglite/node-postgres') as typeof import('@electric-sql/pglite/node-postgres');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const pglite = new Embedded(directory, {
    extensions: { pg_trgm },
    startParams: [...Embedded.defaultStartParams, ...EMBEDDED_SETTINGS],
  });
  const options: DataSourceOptions = {
    ...common,
    // PGlite is a single session: a pool of one, never closed for idleness.
    extra: { ...createPgConfig(pglite), max: 1, idleTimeoutMillis: 0 },
  };
  embeddedStores.set(options, { pglite, release });
  return options;
}

/**
 * PGlite is one process's database: a second process opening the same
 * directory (a second `npm start`, the CLI while the service runs) would
 * corrupt it. A lock file holding the owner's pid keeps them apart; one left
 * by a process that is gone is taken over.
 */
function lockDirectory(directory: string): () => void {
  const lockFile = `${directory}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return () => rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
      const owner = Number(readFileSync(lockFile, 'utf8'));
      if (owner && owner !== process.pid && isAlive(owner)) {
        throw new Error(
          `the embedded database in ${directory} is in use by process ${owner}; stop it first, or use another DATA_DIR`,
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`cannot lock the embedded database in ${directory}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pg pool behind TypeORM's postgres driver (a PostgreSQL server's, or the embedded store's). */
export function poolOf(dataSource: DataSource): Pool | undefined {
  return (dataSource.driver as unknown as { master?: Pool }).master;
}

/** A DataSource that also closes its embedded store when destroyed (else Jest and restarts hang). */
export class AppDataSource extends DataSource {
  private readonly embedded?: { pglite: PGlite; release: () => void };

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
      if (this.embedded && !this.embedded.pglite.closed) {
        await this.embedded.pglite.close();
        this.embedded.release();
      }
    }
  }
}

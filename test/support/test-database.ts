import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { APP_SCHEMA } from '../../src/app.entities';
import { AppDataSource, buildDataSourceOptions } from '../../src/database/database.options';
import { UserEntity } from '../../src/users/user.entity';
import { type NewUser, UsersRepository } from '../../src/users/users.repository';
import { newUser } from './factories';
import { createStore, type TestStore } from './test-store';

/** Whether the tests run on a PostgreSQL server (TEST_DATABASE_URL), not the embedded store. */
export const onServer = Boolean(process.env.TEST_DATABASE_URL);

/**
 * Blocks that need two connections at once (the embedded store is a pool of
 * one: its transactions take turns), run only on a PostgreSQL server.
 */
export const describeOnServer = onServer ? describe : describe.skip;

export interface TestDatabase {
  dataSource: DataSource;
  /** The server database's URL, for a second connection of the test's own (server only). */
  url: string | undefined;
}

/**
 * A fresh store for a whole describe block, opened with the service's own
 * DataSource options and migrated, without the rest of the app: opened in
 * beforeAll, closed and dropped in afterAll.
 */
export function useTestDatabase(): TestDatabase {
  let store: TestStore | undefined;
  let opened: DataSource | undefined;
  beforeAll(async () => {
    store = await createStore();
    opened = new AppDataSource(
      buildDataSourceOptions(
        {
          databaseUrl: store.env.DATABASE_URL ?? null,
          dataDir: store.env.DATA_DIR,
          databasePoolSize: 10,
        },
        APP_SCHEMA,
      ),
    );
    await opened.initialize();
    await opened.runMigrations();
  });
  afterAll(async () => {
    await opened?.destroy();
    await store?.drop();
  });
  const current = (): DataSource => {
    if (!opened) {
      throw new Error('the test database is not open (use it inside a test)');
    }
    return opened;
  };
  return {
    get dataSource() {
      return current();
    },
    get url() {
      return store?.env.DATABASE_URL;
    },
  };
}

/** A user row with unique email and username (and a password hash: every account has a credential). */
export function insertUser(dataSource: DataSource, changes: Partial<NewUser> = {}) {
  const { email, username, fullName } = newUser();
  return new UsersRepository(dataSource.getRepository(UserEntity)).insert({
    email,
    username,
    fullName,
    passwordHash: '$argon2id$v=19$m=4096,t=1,p=1$not-a-real-hash',
    ...changes,
  });
}

/** A random value shaped like the stored token hashes (a SHA-256 in hex). */
export function tokenHash(): string {
  return randomBytes(32).toString('hex');
}

import { createHash, randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { APP_SCHEMA } from '../../src/app.entities';
import { AppDataSource, buildDataSourceOptions } from '../../src/database/database.options';

export type Env = Record<string, string>;

/**
 * Where a test app (or a repository test) keeps its data: a fresh PGlite
 * directory, or a fresh database on TEST_DATABASE_URL's server.
 */
export interface TestStore {
  env: Env;
  /** Removes the store: the embedded directory, or the database on the server. */
  drop: () => Promise<void>;
}

export async function createStore(): Promise<TestStore> {
  const dataDir = mkdtempSync(join(tmpdir(), 'auth-e2e-'));
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    cpSync(join(await migratedTemplate(), 'pgdata'), join(dataDir, 'pgdata'), { recursive: true });
    return {
      env: { DATA_DIR: dataDir },
      drop: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
    };
  }
  const name = `auth_e2e_${Date.now()}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    drop: async () => {
      const client = new Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const ROOT = join(__dirname, '..', '..');
let template: Promise<string> | undefined;

/**
 * An embedded store with every migration applied, made once per set of
 * migrations (and PGlite version) and kept in the temporary directory: each
 * test store starts as a copy of it, which takes a fraction of the seconds
 * that creating a cluster and migrating it take. The app still runs its
 * migrations at start and finds none pending; the first start on an empty
 * store is tested by the startup and browser tests, which use their own
 * directory.
 */
function migratedTemplate(): Promise<string> {
  template ??= (async () => {
    const hash = createHash('sha256');
    hash.update(readFileSync(join(ROOT, 'node_modules/@electric-sql/pglite/package.json')));
    const migrations = join(ROOT, 'migrations');
    for (const name of readdirSync(migrations).sort()) {
      hash.update(name).update(readFileSync(join(migrations, name)));
    }
    const directory = join(tmpdir(), `auth-test-store-${hash.digest('hex').slice(0, 16)}`);
    if (existsSync(directory)) {
      return directory;
    }
    // Built aside and renamed into place: a worker never sees half a template,
    // and workers that build it at once keep the first and drop their own.
    const building = mkdtempSync(`${directory}-building-`);
    const dataSource = new AppDataSource(
      buildDataSourceOptions(
        { databaseUrl: null, dataDir: building, databasePoolSize: 1 },
        APP_SCHEMA,
      ),
    );
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    await dataSource.destroy();
    try {
      renameSync(building, directory);
    } catch {
      rmSync(building, { recursive: true, force: true });
    }
    return directory;
  })();
  return template;
}

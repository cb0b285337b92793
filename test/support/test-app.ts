import { Test } from '@nestjs/testing';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from '../../src/app.module';
import { configureApp, createFastifyAdapter, nestLogLevels } from '../../src/app.setup';
import { loadConfig, type LogLevel } from '../../src/config/configuration';
import { createStore, type Env, type TestStore } from './test-store';

export { createStore, type Env, type TestStore } from './test-store';

export interface TestApp {
  app: NestFastifyApplication;
  http: Http;
  close: () => Promise<void>;
}

const BASE_ENV: Env = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'error',
  JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
  // Cheaper hashing keeps the suite fast; the production defaults are exercised in unit tests.
  ARGON2_MEMORY_KIB: '4096',
  ARGON2_TIME_COST: '1',
};

const KNOWN = Object.keys(process.env);

/**
 * Boots the real AppModule, as main.ts does, on the given store with the given
 * environment: configuration is read when the module initialises, so each app
 * gets its own.
 *
 * Passport keeps its strategies in one registry per process, by name, so the
 * app started last authenticates for every app in the process: keep one app at
 * a time (or apps on one database), and start a second only in its own
 * describe block, which runs after the previous block's app has closed.
 */
export async function startApp(store: TestStore, env: Env = {}): Promise<TestApp> {
  for (const name of Object.keys(process.env)) {
    if (!KNOWN.includes(name)) {
      delete process.env[name];
    }
  }
  delete process.env.DATABASE_URL;
  Object.assign(process.env, BASE_ENV, store.env, env);
  const config = loadConfig(process.env);
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  // TEST_LOG_LEVEL=warn (or debug) shows the app's own log lines while debugging a test.
  const app = moduleRef.createNestApplication<NestFastifyApplication>(
    createFastifyAdapter(config),
    { logger: nestLogLevels((process.env.TEST_LOG_LEVEL as LogLevel | undefined) ?? 'error') },
  );
  await configureApp(app, config);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return { app, http: new Http(app), close: () => app.close() };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: any;
  text: string;
}

/** What the factories need of a client: the in-process Http, or RemoteHttp for a real process. */
export type HttpClient = Pick<Http, 'request' | 'get' | 'post'>;

/** Requests through Fastify's inject: the full HTTP pipeline, no socket. */
export class Http {
  constructor(private readonly app: NestFastifyApplication) {}

  async request(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    options: {
      body?: unknown;
      token?: string;
      headers?: Record<string, string>;
      raw?: string;
      /** The client's socket address (default 127.0.0.1). */
      from?: string;
    } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token) {
      headers.authorization = `Bearer ${options.token}`;
    }
    let payload: string | undefined = options.raw;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await this.app.inject({
      method,
      url,
      headers,
      payload,
      ...(options.from ? { remoteAddress: options.from } : {}),
    });
    const type = String(response.headers['content-type'] ?? '');
    return {
      status: response.statusCode,
      headers: response.headers,
      text: response.body,
      body: type.includes('json') && response.body ? JSON.parse(response.body) : response.body,
    };
  }

  get(url: string, token?: string) {
    return this.request('GET', url, { token });
  }

  post(url: string, body?: unknown, token?: string) {
    return this.request('POST', url, { body, token });
  }
}

/**
 * One app on its own fresh store for a whole describe block: started in
 * beforeAll, closed and dropped in afterAll.
 */
export function useTestApp(env: Env | (() => Env) = {}): TestApp {
  let store: TestStore | undefined;
  let running: TestApp | undefined;
  beforeAll(async () => {
    store = await createStore();
    running = await startApp(store, typeof env === 'function' ? env() : env);
  });
  afterAll(async () => {
    await running?.close();
    await store?.drop();
  });
  const current = (): TestApp => {
    if (!running) {
      throw new Error('the test app is not running (use it inside a test)');
    }
    return running;
  };
  return {
    get app() {
      return current().app;
    },
    get http() {
      return current().http;
    },
    close: () => current().close(),
  };
}

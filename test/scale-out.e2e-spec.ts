import { generateKeyPairSync } from 'node:crypto';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { MIGRATION_LOCK } from '../src/database/database.module';
import { APP_SCHEMA } from '../src/app.entities';
import { expectProblem, newUser, PASSWORD, signedInUser } from './support/factories';
import { RemoteHttp } from './support/remote';
import {
  freePort,
  spawnService,
  type ServiceProcess,
  useRealService,
  waitUntilReady,
} from './support/service-process';
import { SmtpSink } from './support/smtp-sink';
import { createStore, type TestStore } from './support/test-app';

const serverUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;
/** Several processes share a PostgreSQL server and Redis: the embedded store is one process's. */
const describeShared = serverUrl && redisUrl ? describe : describe.skip;

/** A Redis database of this spec's own (the rate-limit spec empties TEST_REDIS_URL's). */
function ownRedisUrl(): string {
  const url = new URL(redisUrl!);
  url.pathname = `/${(Number(url.pathname.slice(1)) || 0) + 1}`;
  return url.toString();
}

interface Instance extends ServiceProcess {
  base: string;
  http: RemoteHttp;
}

describeShared('Several instances on one PostgreSQL and Redis (e2e, real processes)', () => {
  let store: TestStore;
  let sink: SmtpSink;
  let smtpPort: number;
  let a: Instance;
  let b: Instance;
  let db: Client;
  const running: Instance[] = [];
  let waitedForLock: boolean[] = [];

  const env = () => ({
    ...store.env,
    JWT_SECRET: 'scale-out-secret-scale-out-secret-0123456789',
    JWT_ALGORITHM: 'ES256',
    JWT_PRIVATE_KEYS: sharedKey,
    REDIS_URL: ownRedisUrl(),
    RATE_LIMIT_FAILURES_PER_ADDRESS: '4',
    MAIL_URL: `smtp://127.0.0.1:${smtpPort}?ignoreTLS=true`,
    MAIL_RETRY_BASE_SECONDS: '1',
    ADMIN_EMAIL: 'admin@example.com',
    ADMIN_PASSWORD: 'scale out admin password 7',
    ARGON2_MEMORY_KIB: '4096',
    ARGON2_TIME_COST: '1',
    LOG_LEVEL: 'info',
  });
  const sharedKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();

  async function launch(): Promise<Instance> {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const started = spawnService({
      ...env(),
      PORT: String(port),
      PUBLIC_URL: `http://localhost:${port}`,
    });
    const instance = { ...started, base, http: new RemoteHttp(base) };
    running.push(instance);
    return instance;
  }

  beforeAll(async () => {
    store = await createStore();
    const redis = new Redis(ownRedisUrl());
    await redis.flushdb();
    redis.disconnect();
    // The mail server is down at first: mails wait in the outbox (see the outbox test).
    smtpPort = await freePort();
    db = new Client({ connectionString: store.env.DATABASE_URL });
    await db.connect();
    // Both start at once on a database with no tables yet. The test holds the
    // migration lock until both are waiting for it, so that they then race for it.
    await db.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    [a, b] = [await launch(), await launch()];
    const deadline = Date.now() + 60000;
    while (![a, b].every((i) => i.stdout().includes('waiting for it')) && Date.now() < deadline) {
      if ([a, b].some((i) => i.child.exitCode !== null)) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    waitedForLock = [a, b].map((i) => i.stdout().includes('another instance is migrating'));
    await db.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    await Promise.all([a, b].map((i) => waitUntilReady(i.base, i.child, i.output)));
  });

  afterAll(async () => {
    running.forEach((instance) => instance.child.kill('SIGKILL'));
    await db?.end();
    await sink?.close();
    await store?.drop();
  });

  it('should migrate once when both start together, and bootstrap one admin', async () => {
    expect(waitedForLock).toEqual([true, true]);
    const applied = await db.query<{ name: string }>('SELECT name FROM migrations ORDER BY id');
    expect(applied.rows.map((row) => row.name)).toEqual(APP_SCHEMA.migrations.map((m) => m.name));
    const migrated = [a, b].filter((i) => /applied \d+ migration/.test(i.stdout()));
    expect(migrated).toHaveLength(1);
    expect(migrated[0].stdout()).toContain(`applied ${APP_SCHEMA.migrations.length} migration(s)`);
    const admins = await db.query(`SELECT id FROM users WHERE 'admin' = ANY(roles)`);
    expect(admins.rows).toHaveLength(1);
  });

  it('should accept a token from A on B, and refuse it on B at once after sign-out on A', async () => {
    const user = await signedInUser(a.http);
    expect((await b.http.get('/api/v1/users/me', user.accessToken)).body.id).toBe(user.user.id);
    // Both publish the same keys.
    expect((await b.http.get('/.well-known/jwks.json')).body).toEqual(
      (await a.http.get('/.well-known/jwks.json')).body,
    );
    expect((await a.http.post('/api/v1/auth/logout', {}, user.accessToken)).status).toBe(204);
    expectProblem(await b.http.get('/api/v1/users/me', user.accessToken), 401);
    expectProblem(
      await b.http.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken }),
      401,
    );
  });

  it('should add up the failed sign-ins counted on A and on B', async () => {
    const body = newUser();
    expect((await a.http.post('/api/v1/auth/register', body)).status).toBe(201);
    const wrong = { email: body.email, password: 'not the password 1' };
    // RATE_LIMIT_FAILURES_PER_ADDRESS=4: two failures on each instance use them up.
    for (const instance of [a, b, a, b]) {
      expectProblem(
        await instance.http.post('/api/v1/auth/login', wrong),
        401,
        'invalid_credentials',
      );
    }
    for (const instance of [a, b]) {
      const refused = await instance.http.post('/api/v1/auth/login', {
        email: body.email,
        password: PASSWORD,
      });
      expectProblem(refused, 429, 'rate_limited');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
  });

  it('should leave one live refresh token after 20 concurrent refreshes of one token over A and B', async () => {
    const user = await signedInUser(b.http);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).http.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken }),
      ),
    );
    expect(replies.map((reply) => reply.status)).toEqual(Array(20).fill(200));
    const successors = new Set(replies.map((reply) => reply.body.refreshToken as string));
    expect(successors.size).toBe(1);
    const sessionId = JSON.parse(
      Buffer.from(user.accessToken.split('.')[1], 'base64url').toString(),
    ).sid;
    const live = await db.query(
      'SELECT id FROM refresh_tokens WHERE session_id = $1 AND spent_at IS NULL',
      [sessionId],
    );
    expect(live.rows).toHaveLength(1);
    // That one token carries the session on, on either instance.
    const [successor] = successors;
    const next = await a.http.post('/api/v1/auth/refresh', { refreshToken: successor });
    expect(next.status).toBe(200);
    expect((await b.http.get('/api/v1/users/me', next.body.accessToken)).status).toBe(200);
  });

  it('should deliver each outbox mail once while both instances work the outbox', async () => {
    // Registered while the mail server is down: every mail waits for a retry.
    const bodies = Array.from({ length: 8 }, () => newUser());
    for (const [i, body] of bodies.entries()) {
      expect((await (i % 2 ? a : b).http.post('/api/v1/auth/register', body)).status).toBe(201);
    }
    sink = await SmtpSink.start(smtpPort);
    const recipients = new Set(bodies.map((body) => body.email));
    const deadline = Date.now() + 30000;
    const delivered = () => sink.mails.filter((mail) => recipients.has(mail.to));
    while (delivered().length < bodies.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // Both instances poll every second: give a second copy time to appear, were there one.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(
      delivered()
        .map((mail) => mail.to)
        .sort(),
    ).toEqual([...recipients].sort());
    const rows = await db.query<{ status: string }>(
      'SELECT status FROM outbox WHERE recipient = ANY($1)',
      [[...recipients]],
    );
    expect(rows.rows.map((row) => row.status)).toEqual(Array(bodies.length).fill('sent'));
  });
});

describeShared('WORKERS: a cluster of processes on one host (e2e, real processes)', () => {
  const service = useRealService();

  it('should spread requests over the workers, sum their metrics, and stop them all on SIGTERM', async () => {
    const metricsPort = await freePort();
    const cluster = await service.start({
      JWT_SECRET: 'cluster-test-secret-cluster-test-secret-0123',
      REDIS_URL: ownRedisUrl(),
      WORKERS: '2',
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'info',
    });
    // Ready as soon as one worker answers: wait for the other too.
    const deadline = Date.now() + 30000;
    while (!cluster.stdout().includes('all 2 workers are listening') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(cluster.stdout()).toContain('all 2 workers are listening');
    // Concurrent requests open several connections, which the primary deals out in turn.
    const replies = await Promise.all(
      Array.from({ length: 30 }, () => fetch(`${cluster.base}/api/v1/users/me`)),
    );
    expect(replies.map((reply) => reply.status)).toEqual(Array(30).fill(401));
    // Each worker writes its line (and counts the request) once the response has gone out.
    const served = () =>
      cluster
        .stdout()
        .split('\n')
        .filter((line) => line.includes('"request completed"'))
        .map((line) => (JSON.parse(line) as { pid: number }).pid);
    const logged = Date.now() + 10000;
    while (served().length < 30 && Date.now() < logged) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(served()).toHaveLength(30);
    expect(new Set(served()).size).toBe(2);

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toContain(
      'http_requests_total{method="GET",route="/api/v1/users/me",status="401"} 30',
    );

    cluster.child.kill('SIGTERM');
    const { code } = await cluster.exited;
    expect(code).toBe(0);
    expect(cluster.stdout()).toContain('all workers have stopped');
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newUser, PASSWORD, signedInUser } from './support/factories';
import { startApp, TestApp } from './support/test-app';
import { postgresBin, ThrowawayPostgres } from './support/throwaway-postgres';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Needs PostgreSQL's server binaries (CI installs them); the embedded store has no outage to test.
const describeWithPostgres = postgresBin() ? describe : describe.skip;

describeWithPostgres('Database outage (e2e)', () => {
  let pg: ThrowawayPostgres;
  let t: TestApp;
  const dataDir = mkdtempSync(join(tmpdir(), 'auth-outage-'));

  beforeAll(async () => {
    pg = await ThrowawayPostgres.create();
    t = await startApp(
      { env: { DATABASE_URL: pg.url, DATA_DIR: dataDir }, drop: () => Promise.resolve() },
      { RATE_LIMIT: 'off' },
    );
  });

  afterAll(async () => {
    await t?.close();
    pg?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('should answer 503 (never 500, never hang) while PostgreSQL is down, recover alone, and keep every acknowledged write', async () => {
    const user = await signedInUser(t.http);
    const acknowledged: Array<{ email: string; password: string }> = [];
    const statuses = new Map<number, number>();
    let slowest = 0;
    let running = true;

    // Registrations and profile reads keep arriving, three at a time, throughout.
    const load = async () => {
      while (running) {
        const body = newUser();
        const started = Date.now();
        const [registered, me] = await Promise.all([
          t.http.post('/api/v1/auth/register', body),
          t.http.get('/api/v1/users/me', user.accessToken),
        ]);
        slowest = Math.max(slowest, Date.now() - started);
        for (const reply of [registered, me]) {
          statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        }
        if (registered.status === 201) {
          acknowledged.push({ email: body.email, password: body.password });
        }
      }
    };
    const workers = [load(), load(), load()];

    await sleep(500);
    pg.stop();
    await sleep(2500);
    const during = {
      ready: (await t.http.get('/health/ready')).status,
      live: (await t.http.get('/health/live')).status,
      refresh: await t.http.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken }),
      login: await t.http.post('/api/v1/auth/login', {
        email: user.email,
        password: user.password,
      }),
    };
    pg.start();

    // It recovers by itself: no restart.
    let recoveredAfter = -1;
    for (let waited = 0; waited < 20000; waited += 200) {
      if ((await t.http.get('/health/ready')).status === 200) {
        recoveredAfter = waited;
        break;
      }
      await sleep(200);
    }
    await sleep(500);
    running = false;
    await Promise.all(workers);

    expect(during.ready).toBe(503);
    expect(during.live).toBe(200);
    expect(during.refresh.status).toBe(503);
    expect(during.refresh.body.code).toBe('service_unavailable');
    expect(during.login.status).toBe(503);
    expect(recoveredAfter).toBeGreaterThanOrEqual(0);
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 201, 503]));
    expect(statuses.get(500) ?? 0).toBe(0);
    expect([...statuses.keys()].every((status) => [200, 201, 503].includes(status))).toBe(true);
    expect(slowest).toBeLessThan(5000);

    // Every registration that was answered 201 is there and can sign in.
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const account of acknowledged) {
      const login = await t.http.post('/api/v1/auth/login', {
        email: account.email,
        password: PASSWORD,
      });
      expect({ email: account.email, status: login.status }).toEqual({
        email: account.email,
        status: 200,
      });
    }
    // The old session still works: the outage revoked nothing.
    expect((await t.http.get('/api/v1/users/me', user.accessToken)).status).toBe(200);
  });
});

import { expectProblem, newUser, PASSWORD, signedInUser } from './support/factories';
import { freePort, useRealService } from './support/service-process';
import { useTestApp, type HttpClient } from './support/test-app';

/** A Prometheus text exposition as `name{labels}` → value. */
export async function scrape(http: HttpClient, url = '/metrics'): Promise<Map<string, number>> {
  const reply = await http.get(url);
  expect(reply.status).toBe(200);
  expect(String(reply.headers['content-type'])).toContain('text/plain');
  const samples = new Map<string, number>();
  for (const line of reply.text.split('\n')) {
    const match = /^([a-z_:][a-z0-9_:]*(?:\{[^}]*\})?) (\S+)$/i.exec(line);
    if (match) {
      samples.set(match[1], Number(match[2]));
    }
  }
  return samples;
}

describe('Metrics (e2e)', () => {
  // A mail server that is not there: the registration mails wait in the outbox.
  let smtpPort = 0;
  beforeAll(async () => {
    smtpPort = await freePort();
  });
  const t = useTestApp(() => ({
    RATE_LIMIT_FAILURES_PER_ADDRESS: '2',
    REFRESH_REUSE_GRACE_SECONDS: '0',
    MAIL_URL: `smtp://127.0.0.1:${smtpPort}`,
    MAIL_RETRY_BASE_SECONDS: '3600',
  }));

  it('should count requests by route and status, sign-in outcomes and refresh reuse', async () => {
    const me = 'http_requests_total{method="GET",route="/api/v1/users/me",status="200"}';
    const meLatency =
      'http_request_duration_seconds_count{method="GET",route="/api/v1/users/me",status="200"}';
    const outcome = (name: string) => `auth_sign_ins_total{method="password",outcome="${name}"}`;
    const before = await scrape(t.http);
    const at = (samples: Map<string, number>, name: string) => samples.get(name) ?? 0;

    const user = await signedInUser(t.http);
    for (let i = 0; i < 3; i++) {
      expect((await t.http.get('/api/v1/users/me', user.accessToken)).status).toBe(200);
    }
    expect((await t.http.get('/no/such/page')).status).toBe(404);
    const wrong = { email: user.email, password: 'not the password 1' };
    expectProblem(await t.http.post('/api/v1/auth/login', wrong), 401, 'invalid_credentials');
    expectProblem(await t.http.post('/api/v1/auth/login', wrong), 401, 'invalid_credentials');
    expectProblem(
      await t.http.post('/api/v1/auth/login', { email: user.email, password: PASSWORD }),
      429,
      'rate_limited',
    );
    const rotated = await t.http.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken });
    expect(rotated.status).toBe(200);
    expectProblem(
      await t.http.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken }),
      401,
      'refresh_token_reused',
    );

    const after = await scrape(t.http);
    expect(at(after, me) - at(before, me)).toBe(3);
    expect(at(after, meLatency) - at(before, meLatency)).toBe(3);
    expect(
      after.get('http_requests_total{method="GET",route="unmatched",status="404"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      at(after, 'http_requests_total{method="POST",route="/api/v1/auth/login",status="401"}') -
        at(before, 'http_requests_total{method="POST",route="/api/v1/auth/login",status="401"}'),
    ).toBe(2);
    expect(at(after, outcome('succeeded')) - at(before, outcome('succeeded'))).toBe(1);
    expect(
      at(after, outcome('invalid_credentials')) - at(before, outcome('invalid_credentials')),
    ).toBe(2);
    expect(at(after, outcome('rate_limited')) - at(before, outcome('rate_limited'))).toBe(1);
    expect(
      at(after, 'auth_refresh_token_reuse_total') - at(before, 'auth_refresh_token_reuse_total'),
    ).toBe(1);
    // The registration's verification mail cannot be delivered: it waits.
    expect(after.get('mail_outbox_pending')).toBeGreaterThanOrEqual(1);
    expect(after.get('db_pool_connections{state="total"}')).toBeGreaterThanOrEqual(1);
    expect(after.get('db_pool_max_connections')).toBeGreaterThanOrEqual(1);
    expect(after.get('auth_hashing_queue_depth')).toBe(0);
    expect(after.get('process_resident_memory_bytes')).toBeGreaterThan(0);
  });
});

describe('Metrics: the hashing queue (e2e)', () => {
  // One hash at a time, each slow enough to queue the others behind it.
  const t = useTestApp({
    HASH_CONCURRENCY: '1',
    ARGON2_MEMORY_KIB: '65536',
    ARGON2_TIME_COST: '3',
    RATE_LIMIT: 'off',
  });

  it('should show sign-ins waiting for the hashing pool while they wait', async () => {
    const body = newUser();
    expect((await t.http.post('/api/v1/auth/register', body)).status).toBe(201);
    let settled = false;
    const logins = Promise.all(
      Array.from({ length: 8 }, () =>
        t.http.post('/api/v1/auth/login', { email: body.email, password: body.password }),
      ),
    ).finally(() => (settled = true));
    // Scrape while they run: some must be seen waiting, and never more than one hashing.
    const seen = { waiting: 0, hashing: 0 };
    while (!settled) {
      const during = await scrape(t.http);
      seen.waiting = Math.max(seen.waiting, during.get('auth_hashing_queue_depth') ?? 0);
      seen.hashing = Math.max(seen.hashing, during.get('auth_hashing_in_progress') ?? 0);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(seen.waiting).toBeGreaterThan(0);
    expect(seen.hashing).toBe(1);
    expect((await logins).map((reply) => reply.status)).toEqual(Array(8).fill(200));
    const after = await scrape(t.http);
    expect(after.get('auth_hashing_queue_depth')).toBe(0);
  });
});

describe('Metrics on METRICS_PORT (e2e, real process)', () => {
  const service = useRealService();

  it('should serve /metrics on its own port only', async () => {
    const metricsPort = await freePort();
    const { base } = await service.start({
      JWT_SECRET: 'metrics-test-secret-metrics-test-secret-0123',
      METRICS_PORT: String(metricsPort),
    });
    expect((await fetch(`${base}/api/v1/users/me`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(
      'http_requests_total{method="GET",route="/api/v1/users/me",status="401"} 1',
    );
  });
});

describe('Metrics in production without METRICS_PORT (e2e)', () => {
  // Production needs a mail server; this one is never reached.
  const t = useTestApp(() => ({ NODE_ENV: 'production', MAIL_URL: 'smtp://127.0.0.1:9' }));

  it('should not serve /metrics on the public port', async () => {
    const reply = await t.http.get('/metrics');
    expectProblem(reply, 404, 'not_found');
  });
});

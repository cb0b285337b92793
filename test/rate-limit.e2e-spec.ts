import Redis from 'ioredis';
import { newUser, PASSWORD, expectProblem, signedInUser } from './support/factories';
import { resetLinkIn, useSmtpSink } from './support/smtp-sink';
import { freePort } from './support/service-process';
import {
  createStore,
  type Env,
  type Http,
  type Reply,
  startApp,
  useTestApp,
} from './support/test-app';

const LOGIN = '/api/v1/auth/login';
const WRONG = 'not the password 1';

/**
 * The abuse limits, on the in-memory counters and, when TEST_REDIS_URL names a
 * Redis server (CI sets it), on Redis. That database is emptied first: these
 * tests are its only users.
 */
const BACKENDS: Array<[string, Env]> = [['memory', {}]];
if (process.env.TEST_REDIS_URL) {
  BACKENDS.push(['redis', { REDIS_URL: process.env.TEST_REDIS_URL }]);
}

async function flushRedis(env: Env): Promise<void> {
  if (env.REDIS_URL) {
    const redis = new Redis(env.REDIS_URL);
    await redis.flushdb();
    await redis.quit();
  }
}

function login(
  http: Http,
  body: Record<string, string>,
  from = '203.0.113.10',
  headers: Record<string, string> = {},
): Promise<Reply> {
  return http.request('POST', LOGIN, { body, from, headers });
}

function expectLimited(reply: Reply, limit: number, windowSeconds: number): void {
  expectProblem(reply, 429, 'rate_limited');
  const retryAfter = Number(reply.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  expect(reply.headers).toMatchObject({
    'ratelimit-limit': String(limit),
    'ratelimit-remaining': '0',
    'ratelimit-reset': String(retryAfter),
  });
}

/** What a client can see of a refusal: status, body and headers, but for the clock and the request id. */
function visible(reply: Reply) {
  const changing = ['date', 'retry-after', 'ratelimit-reset', 'x-request-id'];
  const headers = Object.fromEntries(
    Object.entries(reply.headers).filter(([name]) => !changing.includes(name)),
  );
  return { status: reply.status, body: reply.text, headers };
}

describe.each(BACKENDS)('Per-address limit on the public auth routes (%s)', (_name, backend) => {
  const t = useTestApp(() => ({ ...backend, RATE_LIMIT_PER_ADDRESS: '6' }));
  beforeAll(() => flushRedis(backend));

  it('should count every public auth route together, per address, and answer 429 with the headers', async () => {
    const from = '198.51.100.1';
    const first = await t.http.request('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: 'x'.repeat(43) },
      from,
    });
    expectProblem(first, 401, 'invalid_refresh_token');
    expect(first.headers).toMatchObject({
      'ratelimit-limit': '6',
      'ratelimit-remaining': '5',
      'ratelimit-policy': '6;w=60',
    });
    const routes: Array<[string, unknown]> = [
      ['/api/v1/auth/login', { email: 'nobody@example.com', password: WRONG }],
      ['/api/v1/auth/register', { email: 'bad' }],
      ['/api/v1/auth/verify-email', { email: 'nobody@example.com', code: '000000' }],
      ['/api/v1/auth/secret/login', { userSecret: 'y'.repeat(43) }],
      ['/api/v1/auth/token', { grant_type: 'refresh_token', refresh_token: 'z'.repeat(43) }],
    ];
    for (const [url, body] of routes) {
      const reply = await t.http.request('POST', url, { body, from });
      expect(reply.status).not.toBe(429);
    }
    const limited = await t.http.request('POST', '/api/v1/auth/login', {
      body: { email: 'nobody@example.com', password: WRONG },
      from,
    });
    expectLimited(limited, 6, 60);

    // Another address is not affected.
    expectProblem(
      await login(t.http, { email: 'nobody@example.com', password: WRONG }, '198.51.100.2'),
      401,
      'invalid_credentials',
    );
  });

  it('should not be reset by a fresh X-Forwarded-For per request when the proxy is not trusted', async () => {
    const from = '198.51.100.3';
    const replies: Reply[] = [];
    for (let i = 0; i < 8; i += 1) {
      replies.push(
        await t.http.request('POST', '/api/v1/auth/refresh', {
          body: { refreshToken: 'x'.repeat(43) },
          from,
          headers: { 'x-forwarded-for': `192.0.2.${i + 1}` },
        }),
      );
    }
    expect(replies.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401, 429, 429]);
  });

  it('should never stop a password reset, and never count authenticated routes', async () => {
    const user = await signedInUser(t.http);
    const from = '198.51.100.4';
    for (let i = 0; i < 6; i += 1) {
      await t.http.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: 'x' }, from });
    }
    expectLimited(
      await t.http.request('POST', '/api/v1/auth/refresh', { body: { refreshToken: 'x' }, from }),
      6,
      60,
    );
    const reset = await t.http.request('POST', '/api/v1/auth/password/reset', {
      body: { token: 'a'.repeat(43), newPassword: 'amber lantern quietly 77' },
      from,
    });
    expectProblem(reset, 400, 'invalid_token');
    for (let i = 0; i < 8; i += 1) {
      const sessions = await t.http.request('GET', '/api/v1/auth/sessions', {
        token: user.accessToken,
        from,
      });
      expect(sessions.status).toBe(200);
      expect(sessions.headers['ratelimit-limit']).toBeUndefined();
    }
  });
});

describe.each(BACKENDS)('Failed sign-in limits (%s)', (_name, backend) => {
  const smtp = useSmtpSink();
  const t = useTestApp(() => ({
    ...backend,
    MAIL_URL: smtp.sink.url,
    RATE_LIMIT_FAILURES_PER_ADDRESS: '3',
    RATE_LIMIT_FAILURES_PER_IDENTIFIER: '5',
  }));
  beforeAll(() => flushRedis(backend));

  it('should refuse the 4th failure from one address alike for known and unknown accounts, even with the right password', async () => {
    const user = await signedInUser(t.http);
    const unknown = `nobody.${user.email}`;
    // Two addresses, so that their per-address counts (in the RateLimit-* headers) stay equal.
    const from = '203.0.113.1';
    const strangerFrom = '203.0.113.3';
    for (let i = 0; i < 3; i += 1) {
      const known = await login(t.http, { email: user.email, password: WRONG }, from);
      const stranger = await login(t.http, { email: unknown, password: WRONG }, strangerFrom);
      expect(visible(stranger)).toEqual(visible(known));
      expectProblem(known, 401, 'invalid_credentials');
    }
    const known = await login(t.http, { email: user.email, password: PASSWORD }, from);
    const stranger = await login(t.http, { email: unknown, password: WRONG }, strangerFrom);
    expectLimited(known, 3, 900);
    expectLimited(stranger, 3, 900);
    expect(visible(stranger)).toEqual(visible(known));
    // The same account under its username is the same subject; OAuth2's token endpoint shares the count.
    expectLimited(
      await login(t.http, { username: user.username, password: PASSWORD }, from),
      3,
      900,
    );
    const token = await t.http.request('POST', '/api/v1/auth/token', {
      body: { grant_type: 'password', username: user.email, password: PASSWORD },
      from,
    });
    expectLimited(token, 3, 900);
    // From another address the owner still signs in.
    expect(
      (await login(t.http, { email: user.email, password: PASSWORD }, '203.0.113.2')).status,
    ).toBe(200);
  });

  it('should limit failures per account from all addresses together, whatever X-Forwarded-For says', async () => {
    const user = await signedInUser(t.http);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      // A new address each time: only the per-account count can stop this.
      const reply = await login(
        t.http,
        { email: user.email, password: WRONG },
        `203.0.113.${20 + i}`,
      );
      statuses.push(reply.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const fromElsewhere = await login(
      t.http,
      { email: user.email, password: PASSWORD },
      '203.0.113.99',
    );
    expectLimited(fromElsewhere, 5, 3600);
  });

  it('should count concurrent attempts exactly: no burst gets past the limit', async () => {
    const user = await signedInUser(t.http);
    const replies = await Promise.all(
      Array.from({ length: 12 }, () =>
        login(t.http, { email: user.email, password: WRONG }, '203.0.113.50'),
      ),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);
  });

  it('should not count successful sign-ins', async () => {
    const user = await signedInUser(t.http);
    for (let i = 0; i < 8; i += 1) {
      expect(
        (await login(t.http, { email: user.email, password: PASSWORD }, '203.0.113.60')).status,
      ).toBe(200);
    }
  });

  it('should never stop the owner from resetting the password, which forgives the failures', async () => {
    const user = await signedInUser(t.http);
    for (let i = 0; i < 6; i += 1) {
      await login(t.http, { email: user.email, password: WRONG }, `203.0.113.${70 + i}`);
    }
    const from = '203.0.113.80';
    expectLimited(await login(t.http, { email: user.email, password: PASSWORD }, from), 5, 3600);

    const forgot = await t.http.request('POST', '/api/v1/auth/password/forgot', {
      body: { email: user.email },
      from,
    });
    expect(forgot.status).toBe(202);
    const mail = await smtp.sink.waitFor(
      (m) => m.to.includes(user.email) && m.subject.toLowerCase().includes('reset'),
    );
    const newPassword = 'amber lantern quietly 77';
    const reset = await t.http.request('POST', '/api/v1/auth/password/reset', {
      body: { token: resetLinkIn(mail).token, newPassword },
      from,
    });
    expect(reset.status).toBe(204);
    expect((await login(t.http, { email: user.email, password: newPassword }, from)).status).toBe(
      200,
    );
  });

  it('should limit wrong email codes per address and per address alike for known and unknown addresses', async () => {
    const body = newUser();
    expect((await t.http.post('/api/v1/auth/register', body)).status).toBe(201);
    const from = '203.0.113.90';
    const verify = (email: string) =>
      t.http.request('POST', '/api/v1/auth/verify-email', {
        body: { email, code: '000000' },
        from,
      });
    for (let i = 0; i < 3; i += 1) {
      expectProblem(await verify(body.email), 400, 'invalid_code');
      expectProblem(await verify(`nobody.${body.email}`), 400, 'invalid_code');
    }
    expectLimited(await verify(body.email), 3, 900);
    expectLimited(await verify(`nobody.${body.email}`), 3, 900);
  });

  it.each([
    [
      'PUT',
      '/api/v1/users/me/password',
      (password: string) => ({
        currentPassword: password,
        newPassword: 'amber lantern quietly 77',
      }),
    ],
    ['DELETE', '/api/v1/users/me', (password: string) => ({ password })],
  ] as const)(
    'should count wrong passwords on %s %s in the sign-in limits, then refuse even the right one',
    async (method, url, body) => {
      const user = await signedInUser(t.http);
      const from = '203.0.113.110';
      const attempt = (password: string) =>
        t.http.request(method, url, { body: body(password), token: user.accessToken, from });
      for (let i = 0; i < 3; i += 1) {
        expectProblem(await attempt(WRONG), 401, 'invalid_credentials');
      }
      // A stolen access token is no password oracle: the right password is refused too, until the window ends.
      expectLimited(await attempt(PASSWORD), 3, 900);
      // The same counts as sign-in: the account's password sign-in from that address is limited as well.
      expectLimited(await login(t.http, { email: user.email, password: PASSWORD }, from), 3, 900);
      // From another address the owner still gets through, and the account is intact.
      const elsewhere = await t.http.request(method, url, {
        body: body(PASSWORD),
        token: user.accessToken,
        from: '203.0.113.111',
      });
      expect(elsewhere.status).toBe(204);
    },
  );

  it('should count wrong current passwords per account from every address together', async () => {
    const user = await signedInUser(t.http);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const reply = await t.http.request('DELETE', '/api/v1/users/me', {
        body: { password: WRONG },
        token: user.accessToken,
        from: `203.0.113.${120 + i}`,
      });
      statuses.push(reply.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });

  it('should limit failed secret-key sign-ins per address', async () => {
    const from = '203.0.113.100';
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const reply = await t.http.request('POST', '/api/v1/auth/secret/login', {
        body: { userSecret: `${'s'.repeat(40)}${i}ab` },
        from,
      });
      statuses.push(reply.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    const elsewhere = await t.http.request('POST', '/api/v1/auth/secret/login', {
      body: { userSecret: 's'.repeat(43) },
      from: '203.0.113.101',
    });
    expectProblem(elsewhere, 401, 'invalid_credentials');
  });
});

describe('Failed sign-in limits behind a trusted proxy', () => {
  const t = useTestApp({
    TRUST_PROXY: 'true',
    RATE_LIMIT_FAILURES_PER_ADDRESS: '3',
    RATE_LIMIT_FAILURES_PER_IDENTIFIER: '5',
  });

  it('should take the address from X-Forwarded-For, and a fresh one per request still meets the per-account limit', async () => {
    const user = await signedInUser(t.http);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const reply = await login(t.http, { email: user.email, password: WRONG }, '10.0.0.1', {
        'x-forwarded-for': `192.0.2.${i + 1}`,
      });
      statuses.push(reply.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });
});

describe('RATE_LIMIT=off', () => {
  const t = useTestApp({
    RATE_LIMIT: 'off',
    RATE_LIMIT_PER_ADDRESS: '2',
    RATE_LIMIT_FAILURES_PER_ADDRESS: '1',
  });

  it('should turn every limit off', async () => {
    const user = await signedInUser(t.http);
    for (let i = 0; i < 5; i += 1) {
      const reply = await login(t.http, { email: user.email, password: WRONG });
      expectProblem(reply, 401, 'invalid_credentials');
      expect(reply.headers['ratelimit-limit']).toBeUndefined();
    }
  });
});

describe('A Redis that cannot be reached', () => {
  let port = 0;
  beforeAll(async () => {
    port = await freePort(); // nothing listens there
  });
  const t = useTestApp(() => ({ REDIS_URL: `redis://127.0.0.1:${port}` }));

  it('should fail closed with 503, never with a 500 or an unlimited attempt', async () => {
    const reply = await login(t.http, { email: 'nobody@example.com', password: WRONG });
    expectProblem(reply, 503, 'service_unavailable');
    expect(reply.headers['retry-after']).toBe('1');
    expect((await t.http.get('/health/live')).status).toBe(200);
  });
});

const testRedisUrl = process.env.TEST_REDIS_URL;
if (testRedisUrl) {
  describe('Counters in Redis', () => {
    const env = {
      REDIS_URL: testRedisUrl,
      RATE_LIMIT_FAILURES_PER_ADDRESS: '3',
      RATE_LIMIT_FAILURES_PER_IDENTIFIER: '50',
    };

    it('should outlive the instance: a restarted (or second) instance sees the same counts', async () => {
      await flushRedis(env);
      const store = await createStore();
      try {
        let app = await startApp(store, env);
        const user = await signedInUser(app.http);
        for (let i = 0; i < 3; i += 1) {
          expectProblem(await login(app.http, { email: user.email, password: WRONG }), 401);
        }
        await app.close();
        app = await startApp(store, env);
        expectLimited(await login(app.http, { email: user.email, password: PASSWORD }), 3, 900);
        await app.close();

        const redis = new Redis(env.REDIS_URL);
        const keys = await redis.keys('auth:*');
        await redis.quit();
        expect(keys.some((key) => key.startsWith('auth:fail:signin:pair:'))).toBe(true);
        // Keys are digests: no identifier is stored in Redis.
        expect(keys.join(' ')).not.toContain(user.email);
      } finally {
        await store.drop();
      }
    });
  });
}

import { expectProblem, newUser, PASSWORD } from './support/factories';
import { type Http, type Reply, useTestApp } from './support/test-app';

const COOKIE_MODE = { 'x-refresh-cookie': '1' };

function setCookie(reply: Reply): string {
  const value = reply.headers['set-cookie'];
  expect(typeof value).toBe('string');
  return value as string;
}

/** The cookie's value as a browser would send it back. */
const cookieOf = (reply: Reply) => setCookie(reply).split(';')[0];

async function cookieSignIn(http: Http): Promise<{ reply: Reply; cookie: string; email: string }> {
  const body = newUser();
  expect((await http.post('/api/v1/auth/register', body)).status).toBe(201);
  const reply = await http.request('POST', '/api/v1/auth/login', {
    body: { email: body.email, password: PASSWORD },
    headers: COOKIE_MODE,
  });
  expect(reply.status).toBe(200);
  return { reply, cookie: cookieOf(reply), email: body.email };
}

const cookieRefresh = (http: Http, cookie: string, headers: Record<string, string> = COOKIE_MODE) =>
  http.request('POST', '/api/v1/auth/refresh', { body: {}, headers: { ...headers, cookie } });

describe('Refresh token in a browser cookie (X-Refresh-Cookie: 1)', () => {
  const t = useTestApp({ RATE_LIMIT: 'off' });

  it('should put the refresh token in an HttpOnly, SameSite=Strict cookie scoped to the auth routes, not in the body', async () => {
    const { reply } = await cookieSignIn(t.http);
    const header = setCookie(reply);
    expect(header).toMatch(/^auth_refresh=[A-Za-z0-9_-]{43,}; /);
    expect(header).toContain('Path=/api/v1/auth');
    expect(header).toContain('HttpOnly');
    expect(header).toContain('SameSite=Strict');
    expect(header).toContain('Max-Age=2592000');
    expect(header).not.toContain('Secure'); // served over http here
    expect(reply.body.refreshToken).toBeUndefined();
    expect(reply.body).toEqual(
      expect.objectContaining({ accessToken: expect.any(String), tokenType: 'Bearer' }),
    );
    expect(reply.headers['cache-control']).toBe('no-store');
    expect((await t.http.get('/api/v1/users/me', reply.body.accessToken)).status).toBe(200);
  });

  it('should rotate the cookie on refresh and keep the body refresh for other clients', async () => {
    const { cookie } = await cookieSignIn(t.http);
    const first = await cookieRefresh(t.http, cookie);
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).toBeUndefined();
    const next = cookieOf(first);
    expect(next).not.toBe(cookie);
    expect((await cookieRefresh(t.http, next)).status).toBe(200);

    // Without the cookie header the body is required, as before.
    expectProblem(await t.http.post('/api/v1/auth/refresh', {}), 400, 'validation_failed');
  });

  it('should ignore the cookie without the custom header (CSRF: a cross-site form cannot send it)', async () => {
    const { cookie } = await cookieSignIn(t.http);
    const forged = await t.http.request('POST', '/api/v1/auth/refresh', {
      raw: 'refreshToken=x',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(forged.status).toBe(415);
    const noHeader = await cookieRefresh(t.http, cookie, {});
    expectProblem(noHeader, 400, 'validation_failed');
    expect(noHeader.headers['set-cookie']).toBeUndefined();
    // The cookie still works for the page itself.
    expect((await cookieRefresh(t.http, cookie)).status).toBe(200);
  });

  it('should answer 401 and clear the cookie when it is missing, spent or its session ended', async () => {
    expectProblem(await cookieRefresh(t.http, ''), 401, 'invalid_refresh_token');
    const { reply, cookie } = await cookieSignIn(t.http);
    const logout = await t.http.request('POST', '/api/v1/auth/logout', {
      token: reply.body.accessToken,
    });
    expect(logout.status).toBe(204);
    expect(setCookie(logout)).toMatch(/^auth_refresh=; Path=\/api\/v1\/auth; Max-Age=0; HttpOnly/);
    const after = await cookieRefresh(t.http, cookie);
    expectProblem(after, 401, 'invalid_refresh_token');
    expect(setCookie(after)).toContain('Max-Age=0');
  });
});

describe('A replayed refresh cookie', () => {
  const t = useTestApp({ RATE_LIMIT: 'off', REFRESH_REUSE_GRACE_SECONDS: '0' });

  it('should end the session, like a replayed token, and clear the cookie', async () => {
    const { reply, cookie } = await cookieSignIn(t.http);
    expect((await cookieRefresh(t.http, cookie)).status).toBe(200);
    const replay = await cookieRefresh(t.http, cookie);
    expectProblem(replay, 401, 'refresh_token_reused');
    expect(setCookie(replay)).toContain('Max-Age=0');
    expectProblem(await t.http.get('/api/v1/users/me', reply.body.accessToken), 401);
  });
});

describe('Refresh cookie behind https', () => {
  const t = useTestApp({ RATE_LIMIT: 'off', PUBLIC_URL: 'https://auth.example.com' });

  it('should mark the cookie Secure', async () => {
    const { reply } = await cookieSignIn(t.http);
    expect(setCookie(reply)).toContain('; Secure');
  });
});

import { expectProblem, signedInUser } from './support/factories';
import { useTestApp } from './support/test-app';

describe('Security headers (e2e)', () => {
  const t = useTestApp({ RATE_LIMIT: 'off' });

  it('should send the security headers on answers and errors alike, and no X-Powered-By', async () => {
    const user = await signedInUser(t.http);
    for (const reply of [
      await t.http.get('/api/v1/users/me', user.accessToken),
      await t.http.get('/api/v1/users/me'),
      await t.http.get('/health/live'),
      await t.http.get('/api/v1/nowhere'),
    ]) {
      expect(reply.headers['x-content-type-options']).toBe('nosniff');
      expect(reply.headers['referrer-policy']).toBe('no-referrer');
      expect(reply.headers['x-powered-by']).toBeUndefined();
      const csp = String(reply.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self';");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
    }
  });

  it("should let only Swagger UI's pages use inline styles, never inline scripts", async () => {
    const docs = await t.http.get('/docs');
    expect(docs.status).toBe(200);
    const csp = String(docs.headers['content-security-policy']);
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it('should not answer cross-origin requests when CORS_ORIGINS is empty', async () => {
    const reply = await t.http.request('GET', '/health/live', {
      headers: { origin: 'https://app.example.com' },
    });
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('should ignore X-Forwarded-For unless TRUST_PROXY is on', async () => {
    const user = await signedInUser(t.http, {}, { 'x-forwarded-for': '203.0.113.99' });
    const sessions = await t.http.get('/api/v1/auth/sessions', user.accessToken);
    expect(sessions.body[0].ip).toBe('127.0.0.1');
  });
});

describe('CORS_ORIGINS (e2e)', () => {
  const t = useTestApp({
    RATE_LIMIT: 'off',
    CORS_ORIGINS: 'https://app.example.com, https://admin.example.com:8443',
  });

  it('should allow exactly the listed origins', async () => {
    for (const origin of ['https://app.example.com', 'https://admin.example.com:8443']) {
      const reply = await t.http.request('GET', '/health/live', { headers: { origin } });
      expect(reply.headers['access-control-allow-origin']).toBe(origin);
      expect(String(reply.headers.vary)).toContain('Origin');
    }
  });

  it.each([
    'https://evil.example',
    'https://app.example.com.evil.example',
    'http://app.example.com',
    'https://admin.example.com',
    'null',
  ])('should refuse the origin %s', async (origin) => {
    const reply = await t.http.request('GET', '/health/live', { headers: { origin } });
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await t.http.request('OPTIONS' as 'GET', '/api/v1/auth/login', {
      headers: { origin, 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('should answer a preflight from an allowed origin', async () => {
    const reply = await t.http.request('OPTIONS' as 'GET', '/api/v1/auth/login', {
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(reply.status).toBe(204);
    expect(reply.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(String(reply.headers['access-control-allow-methods'])).toContain('POST');
  });
});

describe('TRUST_PROXY=true (e2e)', () => {
  const t = useTestApp({ RATE_LIMIT: 'off', TRUST_PROXY: 'true' });

  it('should take the client address from X-Forwarded-For', async () => {
    const user = await signedInUser(t.http, {}, { 'x-forwarded-for': '203.0.113.99' });
    const sessions = await t.http.get('/api/v1/auth/sessions', user.accessToken);
    expect(sessions.body[0].ip).toBe('203.0.113.99');
    expectProblem(await t.http.get('/api/v1/users/me'), 401);
  });
});

import { expectProblem, newUser, PASSWORD, signedInUser } from './support/factories';
import { useTestApp } from './support/test-app';

describe('Registration and sign-in (e2e)', () => {
  const t = useTestApp();

  describe('POST /auth/register', () => {
    it('should create the user, lower-case the email and return the public user object only', async () => {
      const body = newUser({ email: 'Mixed.Case@Example.COM', fullName: 'Ada Lovelace' });
      const reply = await t.http.post('/api/v1/auth/register', body);
      expect(reply.status).toBe(201);
      expect(Object.keys(reply.body).sort()).toEqual(
        [
          'createdAt',
          'email',
          'emailVerified',
          'fullName',
          'mfaEnabled',
          'id',
          'imageUrl',
          'roles',
          'updatedAt',
          'username',
        ].sort(),
      );
      expect(reply.body).toMatchObject({
        email: 'mixed.case@example.com',
        username: body.username,
        fullName: 'Ada Lovelace',
        imageUrl: null,
        emailVerified: false,
        mfaEnabled: false,
        roles: ['user'],
      });
      expect(reply.body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Date(reply.body.createdAt).toISOString()).toBe(reply.body.createdAt);
      expect(reply.text).not.toMatch(/argon2|hash/i);
    });

    it('should make the username optional', async () => {
      const { username: _omit, ...body } = newUser();
      const reply = await t.http.post('/api/v1/auth/register', body);
      expect(reply.status).toBe(201);
      expect(reply.body.username).toBeNull();
    });

    it('should answer 409 email_taken for the same email in another case', async () => {
      const body = newUser();
      expect((await t.http.post('/api/v1/auth/register', body)).status).toBe(201);
      const again = await t.http.post('/api/v1/auth/register', {
        ...newUser(),
        email: body.email.toUpperCase(),
      });
      expectProblem(again, 409, 'email_taken');
    });

    it('should answer 409 username_taken for the same username in another case', async () => {
      const body = newUser();
      expect((await t.http.post('/api/v1/auth/register', body)).status).toBe(201);
      const again = await t.http.post('/api/v1/auth/register', {
        ...newUser(),
        username: body.username.toUpperCase(),
      });
      expectProblem(again, 409, 'username_taken');
    });

    it('should create exactly one account when the same email registers concurrently', async () => {
      const body = newUser();
      const replies = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          t.http.post('/api/v1/auth/register', { ...body, username: `${body.username}_${i}` }),
        ),
      );
      const statuses = replies.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
      replies.filter((r) => r.status === 409).forEach((r) => expectProblem(r, 409, 'email_taken'));
    });

    it.each([
      ['a common password', 'password123'],
      ['a keyboard walk', 'qwertyuiop'],
      ['a repeated character', 'aaaaaaaaaaaa'],
    ])('should refuse %s with 400 weak_password', async (_name, password) => {
      const reply = await t.http.post('/api/v1/auth/register', newUser({ password }));
      expectProblem(reply, 400, 'weak_password');
      expect(reply.body.errors).toEqual([{ field: 'password', message: expect.any(String) }]);
    });

    it('should refuse a password that is the email or close to the username', async () => {
      const body = newUser();
      expectProblem(
        await t.http.post('/api/v1/auth/register', { ...body, password: body.email }),
        400,
        'weak_password',
      );
      expectProblem(
        await t.http.post('/api/v1/auth/register', { ...body, password: `${body.username}1` }),
        400,
        'weak_password',
      );
    });

    it('should count password length in characters after NFKC normalisation', async () => {
      // Seven full-width letters normalise to seven ASCII letters: too short.
      const short = await t.http.post(
        '/api/v1/auth/register',
        newUser({ password: 'ｐｑｚｘｗｖｙ' }),
      );
      expectProblem(short, 400, 'validation_failed');
      expect(short.body.errors[0].field).toBe('password');
      const tooLong = await t.http.post(
        '/api/v1/auth/register',
        newUser({ password: 'x'.repeat(129) }),
      );
      expectProblem(tooLong, 400, 'validation_failed');
      // 128 emoji are 128 characters (256 UTF-16 units): accepted.
      const emoji = await t.http.post(
        '/api/v1/auth/register',
        newUser({ password: '🦊🌲🚲🎻'.repeat(32) }),
      );
      expect(emoji.status).toBe(201);
    });
  });

  describe('POST /auth/login', () => {
    it('should sign in by email in any case and by username, with a token pair that is not cached', async () => {
      const body = newUser();
      await t.http.post('/api/v1/auth/register', body);
      for (const credentials of [
        { email: body.email.toUpperCase(), password: PASSWORD },
        { username: body.username.toUpperCase(), password: PASSWORD },
        { username: body.email, password: PASSWORD },
      ]) {
        const reply = await t.http.post('/api/v1/auth/login', credentials);
        expect(reply.status).toBe(200);
        expect(reply.headers['cache-control']).toBe('no-store');
        expect(reply.body).toEqual({
          accessToken: expect.any(String),
          refreshToken: expect.any(String),
          tokenType: 'Bearer',
          expiresIn: 900,
          user: expect.objectContaining({ email: body.email, username: body.username }),
        });
        expect(Buffer.from(reply.body.refreshToken, 'base64url').length).toBeGreaterThanOrEqual(32);
      }
    });

    it('should put the contract claims and header in the access token', async () => {
      const user = await signedInUser(t.http);
      const [header, payload] = user.accessToken
        .split('.')
        .slice(0, 2)
        .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
      expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt' });
      expect(payload).toEqual({
        sub: user.user.id,
        sid: expect.any(String),
        iat: expect.any(Number),
        exp: payload.iat + 900,
        iss: 'auth-service',
        aud: 'auth-service',
        jti: expect.any(String),
        auth_time: expect.any(Number),
        amr: ['pwd'],
        aal: 'aal1',
      });
      expect(Math.abs(payload.auth_time - payload.iat)).toBeLessThanOrEqual(1);
    });

    it('should answer an unknown account and a wrong password alike', async () => {
      const body = newUser();
      await t.http.post('/api/v1/auth/register', body);
      const wrong = await t.http.post('/api/v1/auth/login', {
        email: body.email,
        password: 'not the password',
      });
      const unknown = await t.http.post('/api/v1/auth/login', {
        email: `nobody.${body.email}`,
        password: 'not the password',
      });
      expectProblem(wrong, 401, 'invalid_credentials');
      expect(wrong.headers['www-authenticate']).toBe('Bearer realm="auth-service"');
      expect(unknown.status).toBe(wrong.status);
      expect(unknown.body).toEqual(wrong.body);
    });

    it.each([
      ['no identifier', { password: PASSWORD }],
      ['both identifiers', { email: 'a@example.com', username: 'abc', password: PASSWORD }],
      ['a number for the email', { email: 42, password: PASSWORD }],
      ['no password', { email: 'a@example.com' }],
      ['an unknown field', { email: 'a@example.com', password: PASSWORD, admin: true }],
    ])(
      'should answer 400 validation_failed for %s (before the strategy runs)',
      async (_name, body) => {
        expectProblem(await t.http.post('/api/v1/auth/login', body), 400, 'validation_failed');
      },
    );
  });

  describe('POST /auth/token (OAuth2)', () => {
    it('should grant tokens for a form-urlencoded password grant, as Swagger UI sends it', async () => {
      const body = newUser();
      await t.http.post('/api/v1/auth/register', body);
      const reply = await t.http.request('POST', '/api/v1/auth/token', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        raw: new URLSearchParams({
          grant_type: 'password',
          username: body.email,
          password: PASSWORD,
          scope: '',
          client_id: '',
        }).toString(),
      });
      expect(reply.status).toBe(200);
      expect(reply.headers['cache-control']).toBe('no-store');
      expect(reply.body).toEqual({
        access_token: expect.any(String),
        token_type: 'bearer',
        expires_in: 900,
        refresh_token: expect.any(String),
      });
      const me = await t.http.get('/api/v1/users/me', reply.body.access_token);
      expect(me.body.email).toBe(body.email);
    });

    it('should ignore unknown parameters, even constructor, as RFC 6749 requires', async () => {
      const body = newUser();
      await t.http.post('/api/v1/auth/register', body);
      const reply = await t.http.request('POST', '/api/v1/auth/token', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        raw: `grant_type=password&username=${encodeURIComponent(body.email)}&password=${encodeURIComponent(PASSWORD)}&constructor=x&audience=y`,
      });
      expect(reply.status).toBe(200);
      expect(reply.body.token_type).toBe('bearer');
    });

    it('should answer a NUL character in the RFC 6749 error shape', async () => {
      const reply = await t.http.post('/api/v1/auth/token', {
        grant_type: 'password',
        username: 'a\u0000b',
        password: 'x',
      });
      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({
        error: 'invalid_request',
        error_description: expect.any(String),
      });
    });

    it('should rotate with a JSON refresh_token grant', async () => {
      const user = await signedInUser(t.http);
      const reply = await t.http.post('/api/v1/auth/token', {
        grant_type: 'refresh_token',
        refresh_token: user.refreshToken,
      });
      expect(reply.status).toBe(200);
      expect(reply.body.refresh_token).not.toBe(user.refreshToken);
    });

    it.each([
      [
        'a wrong password',
        { grant_type: 'password', username: 'nobody@example.com', password: 'x' },
        'invalid_grant',
      ],
      [
        'an unknown refresh token',
        { grant_type: 'refresh_token', refresh_token: 'nope' },
        'invalid_grant',
      ],
      ['a missing grant_type', { username: 'a', password: 'b' }, 'invalid_request'],
      ['a missing password', { grant_type: 'password', username: 'a' }, 'invalid_request'],
      [
        'a non-string parameter',
        { grant_type: 'password', username: ['a'], password: 'b' },
        'invalid_request',
      ],
      ['another grant type', { grant_type: 'client_credentials' }, 'unsupported_grant_type'],
    ])('should answer %s with the RFC 6749 error shape', async (_name, body, error) => {
      const reply = await t.http.post('/api/v1/auth/token', body);
      expect(reply.status).toBe(400);
      expect(String(reply.headers['content-type'])).toContain('application/json');
      expect(reply.body).toEqual({ error, error_description: expect.any(String) });
    });
  });

  describe('secret-key accounts', () => {
    it('should register, show the secret once, and sign in with it', async () => {
      const username = newUser().username;
      const created = await t.http.post('/api/v1/auth/secret/register', { username });
      expect(created.status).toBe(201);
      expect(created.headers['cache-control']).toBe('no-store');
      expect(created.body).toEqual({
        id: expect.any(String),
        username,
        userSecret: expect.any(String),
      });

      const login = await t.http.post('/api/v1/auth/secret/login', {
        userSecret: created.body.userSecret,
      });
      expect(login.status).toBe(200);
      expect(login.body.user).toMatchObject({ id: created.body.id, username, email: null });
      const me = await t.http.get('/api/v1/users/me', login.body.accessToken);
      expect(me.body.id).toBe(created.body.id);
      expect(me.text).not.toContain(created.body.userSecret);
    });

    it('should answer 409 username_taken and 401 invalid_credentials', async () => {
      const user = await signedInUser(t.http);
      expectProblem(
        await t.http.post('/api/v1/auth/secret/register', {
          username: user.username.toUpperCase(),
        }),
        409,
        'username_taken',
      );
      expectProblem(
        await t.http.post('/api/v1/auth/secret/login', { userSecret: 'not-a-secret' }),
        401,
        'invalid_credentials',
      );
    });
  });
});

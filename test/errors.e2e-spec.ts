import { expectProblem, newUser, PASSWORD, signedInUser } from './support/factories';
import { useTestApp } from './support/test-app';

/** Text that must never reach a client: stacks, SQL, driver and library messages. */
const LEAKS =
  /at \w+ \(|\.ts:\d+|QueryFailedError|SELECT |INSERT |duplicate key|violates|node_modules|Unexpected token|FST_ERR|argon2/i;

describe('Bad input and error documents (e2e)', () => {
  const t = useTestApp();

  const json = { 'content-type': 'application/json' };
  const cases: Array<
    [string, string, string, Record<string, string>, string | undefined, number, string]
  > = [
    [
      'malformed JSON',
      'POST',
      '/api/v1/auth/register',
      json,
      '{"email": "a@example.com",',
      400,
      'validation_failed',
    ],
    ['a JSON array', 'POST', '/api/v1/auth/register', json, '[1,2,3]', 400, 'validation_failed'],
    ['a JSON string', 'POST', '/api/v1/auth/register', json, '"hello"', 400, 'validation_failed'],
    ['an empty JSON body', 'POST', '/api/v1/auth/register', json, '', 400, 'validation_failed'],
    [
      'a __proto__ key',
      'POST',
      '/api/v1/auth/register',
      json,
      JSON.stringify({ email: 'p@example.com', password: PASSWORD }).replace(
        '{',
        '{"__proto__":{"roles":["admin"]},',
      ),
      400,
      'validation_failed',
    ],
    [
      'a constructor.prototype key',
      'POST',
      '/api/v1/auth/register',
      json,
      '{"constructor":{"prototype":{"admin":true}},"email":"c@example.com","password":"violet tractor harbour 42"}',
      400,
      'validation_failed',
    ],
    [
      'a constructor key',
      'POST',
      '/api/v1/auth/register',
      json,
      '{"constructor":"x","email":"c2@example.com","password":"violet tractor harbour 42"}',
      400,
      'validation_failed',
    ],
    [
      'an unknown field',
      'POST',
      '/api/v1/auth/register',
      json,
      JSON.stringify({ ...newUser(), roles: ['admin'] }),
      400,
      'validation_failed',
    ],
    [
      'a number for the email',
      'POST',
      '/api/v1/auth/register',
      json,
      JSON.stringify({ ...newUser(), email: 12345 }),
      400,
      'validation_failed',
    ],
    [
      'an object for the password',
      'POST',
      '/api/v1/auth/register',
      json,
      JSON.stringify({ ...newUser(), password: { $gt: '' } }),
      400,
      'validation_failed',
    ],
    [
      'an array for the username',
      'POST',
      '/api/v1/auth/register',
      json,
      JSON.stringify({ ...newUser(), username: ['a', 'b'] }),
      400,
      'validation_failed',
    ],
    [
      'a missing password',
      'POST',
      '/api/v1/auth/register',
      json,
      JSON.stringify({ email: 'x@example.com' }),
      400,
      'validation_failed',
    ],
    [
      'SQL in the email',
      'POST',
      '/api/v1/auth/register',
      json,
      JSON.stringify({ ...newUser(), email: "x'; DROP TABLE users; --@example.com" }),
      400,
      'validation_failed',
    ],
    [
      'SQL in the username',
      'POST',
      '/api/v1/auth/register',
      json,
      JSON.stringify({ ...newUser(), username: "x' OR '1'='1" }),
      400,
      'validation_failed',
    ],
    [
      'a NUL byte in the full name',
      'POST',
      '/api/v1/auth/register',
      json,
      JSON.stringify({ ...newUser(), fullName: 'a\u0000b' }),
      400,
      'validation_failed',
    ],
    [
      'a NUL byte in a login',
      'POST',
      '/api/v1/auth/login',
      json,
      JSON.stringify({ email: 'a\u0000@example.com', password: PASSWORD }),
      400,
      'validation_failed',
    ],
    [
      'SQL in a login',
      'POST',
      '/api/v1/auth/login',
      json,
      JSON.stringify({ email: "' OR 1=1 --", password: "' OR 1=1 --" }),
      401,
      'invalid_credentials',
    ],
    [
      'SQL in a secret',
      'POST',
      '/api/v1/auth/secret/login',
      json,
      JSON.stringify({ userSecret: "' OR ''='" }),
      401,
      'invalid_credentials',
    ],
    [
      'a body over 100 KiB',
      'POST',
      '/api/v1/auth/register',
      json,
      JSON.stringify({ ...newUser(), fullName: 'x'.repeat(110 * 1024) }),
      413,
      'payload_too_large',
    ],
    [
      'a form post to a JSON route',
      'POST',
      '/api/v1/auth/register',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'email=a%40example.com&password=x',
      415,
      'unsupported_media_type',
    ],
    [
      'plain text',
      'POST',
      '/api/v1/auth/login',
      { 'content-type': 'text/plain' },
      'hello',
      415,
      'unsupported_media_type',
    ],
    [
      'XML',
      'POST',
      '/api/v1/auth/register',
      { 'content-type': 'application/xml' },
      '<user/>',
      415,
      'unsupported_media_type',
    ],
    ['an unknown route', 'GET', '/api/v1/nothing-here', {}, undefined, 404, 'not_found'],
    ['an unknown method', 'DELETE', '/api/v1/auth/register', {}, undefined, 404, 'not_found'],
  ];

  it.each(cases)(
    'should answer %s with a problem document and no leak',
    async (_name, method, url, headers, raw, status, code) => {
      const reply = await t.http.request(method as 'POST', url, { headers, raw });
      expectProblem(reply, status, code);
      expect(reply.text).not.toMatch(LEAKS);
    },
  );

  it('should store nothing from refused requests', async () => {
    const body = newUser({ username: undefined });
    await t.http.request('POST', '/api/v1/auth/register', {
      headers: json,
      raw: JSON.stringify({ ...body, roles: ['admin'] }),
    });
    await t.http.request('POST', '/api/v1/auth/register', {
      headers: json,
      raw: JSON.stringify({ ...body, fullName: 'x'.repeat(110 * 1024) }),
    });
    expectProblem(
      await t.http.post('/api/v1/auth/login', { email: body.email, password: body.password }),
      401,
      'invalid_credentials',
    );
    // And the account can still be created afterwards, with role user only.
    const created = await t.http.post('/api/v1/auth/register', body);
    expect(created.status).toBe(201);
    expect(created.body.roles).toEqual(['user']);
  });

  it('should store SQL-looking text verbatim where it is valid', async () => {
    const name = "Robert'); DROP TABLE users;--";
    const user = await signedInUser(t.http, { fullName: name });
    const me = await t.http.get('/api/v1/users/me', user.accessToken);
    expect(me.body.fullName).toBe(name);
  });

  it('should never let __proto__ reach an object', async () => {
    const user = await signedInUser(t.http);
    const reply = await t.http.request('PATCH', '/api/v1/users/me', {
      token: user.accessToken,
      headers: json,
      raw: '{"fullName":"Ok","__proto__":{"roles":["admin"],"disabled":true}}',
    });
    expectProblem(reply, 400, 'validation_failed');
    expect(({} as Record<string, unknown>).roles).toBeUndefined();
    expect((await t.http.get('/api/v1/users/me', user.accessToken)).body.roles).toEqual(['user']);
  });
});

describe('Operations (e2e)', () => {
  const t = useTestApp();

  it('should answer liveness and readiness', async () => {
    expect((await t.http.get('/health/live')).status).toBe(200);
    const ready = await t.http.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.info.database.status).toBe('up');
  });

  it('should serve Swagger UI at /docs', async () => {
    const reply = await t.http.get('/docs');
    expect(reply.status).toBe(200);
    expect(reply.text).toContain('swagger-ui');
  });

  it('should publish an OpenAPI document with the OAuth2 password flow and every route with its errors', async () => {
    const doc = (await t.http.get('/docs-json')).body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.oauth2).toEqual({
      type: 'oauth2',
      flows: { password: { tokenUrl: '/api/v1/auth/token', scopes: {} } },
    });
    const routes: Array<[string, string, string[]]> = [
      ['/api/v1/auth/register', 'post', ['201', '400', '409', '429']],
      ['/api/v1/auth/login', 'post', ['200', '400', '401', '403', '429']],
      ['/api/v1/auth/token', 'post', ['200', '400', '429']],
      ['/api/v1/auth/refresh', 'post', ['200', '400', '401', '429']],
      ['/api/v1/auth/logout', 'post', ['204', '401']],
      ['/api/v1/auth/logout-all', 'post', ['204', '401']],
      ['/api/v1/auth/sessions', 'get', ['200', '401']],
      ['/api/v1/auth/sessions/{id}', 'delete', ['204', '401', '404']],
      ['/api/v1/auth/verify-email', 'post', ['200', '400', '429']],
      ['/api/v1/auth/verify-email/resend', 'post', ['202', '400', '429']],
      ['/api/v1/auth/password/forgot', 'post', ['202', '400', '429']],
      ['/api/v1/auth/password/reset', 'post', ['204', '400']],
      ['/api/v1/auth/secret/register', 'post', ['201', '409', '429']],
      ['/api/v1/auth/secret/login', 'post', ['200', '401', '429']],
      ['/api/v1/users/me', 'get', ['200', '401']],
      ['/api/v1/users/me', 'patch', ['200', '400', '401', '409']],
      ['/api/v1/users/me/password', 'put', ['204', '400', '401']],
      ['/api/v1/users/me/secret', 'post', ['200', '403']],
      ['/api/v1/users/me', 'delete', ['204', '401']],
      ['/api/v1/users/me/activity', 'get', ['200', '401']],
      ['/api/v1/users', 'get', ['200', '400', '401', '403']],
      ['/api/v1/users/{id}', 'get', ['200', '401', '403', '404']],
      ['/api/v1/users/{id}', 'patch', ['200', '400', '401', '403', '404', '409']],
      ['/api/v1/users/{id}', 'delete', ['204', '401', '403', '404', '409']],
      ['/api/v1/audit', 'get', ['200', '400', '401', '403']],
      ['/health/live', 'get', ['200']],
      ['/health/ready', 'get', ['200', '503']],
    ];
    for (const [path, method, statuses] of routes) {
      const operation = doc.paths[path]?.[method];
      expect({ path, method, found: Boolean(operation) }).toEqual({ path, method, found: true });
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(statuses));
    }
    const me = doc.paths['/api/v1/users/me'].get;
    expect(me.security).toEqual(expect.arrayContaining([{ oauth2: [] }, { bearer: [] }]));
    expect(
      doc.paths['/api/v1/auth/login'].post.responses['401'].content['application/problem+json'],
    ).toBeDefined();
    expect(Object.keys(doc.paths['/api/v1/auth/token'].post.requestBody.content)).toEqual(
      expect.arrayContaining(['application/x-www-form-urlencoded', 'application/json']),
    );
    expect(doc.components.schemas.UserResponseDto.properties).not.toHaveProperty('passwordHash');
    // Each declared error shows an example of its own status and code.
    const example = (path: string, method: string, status: string) =>
      doc.paths[path][method].responses[status].content['application/problem+json'].example;
    expect(example('/api/v1/users/me', 'get', '401')).toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
    expect(example('/api/v1/auth/register', 'post', '409')).toMatchObject({
      status: 409,
      code: 'email_taken',
    });
    expect(example('/api/v1/audit', 'get', '403')).toMatchObject({
      status: 403,
      code: 'forbidden',
    });
  });
});

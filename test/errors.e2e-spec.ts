import { ERROR_CODES } from '../src/common/error-codes';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
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
      ['/api/v1/auth/secure-account', 'post', ['204', '400', '429']],
      ['/api/v1/auth/oidc/providers', 'get', ['200']],
      ['/api/v1/auth/oidc/{provider}/authorize', 'get', ['302', '400', '404', '429']],
      ['/api/v1/auth/oidc/{provider}/callback', 'get', ['302', '429']],
      ['/api/v1/auth/oidc/exchange', 'post', ['200', '400', '403', '429']],
      ['/api/v1/users/me/identities', 'get', ['200', '401']],
      ['/api/v1/users/me/identities/{provider}', 'post', ['200', '400', '401', '404', '409']],
      ['/api/v1/users/me/identities/{provider}', 'delete', ['204', '401', '404', '409']],
      ['/api/v1/auth/secret/register', 'post', ['201', '409', '429']],
      ['/api/v1/auth/secret/login', 'post', ['200', '401', '403', '429']],
      ['/api/v1/auth/mfa/verify', 'post', ['200', '400', '401', '403', '429']],
      ['/api/v1/auth/mfa/passkey-options', 'post', ['200', '400', '401', '403', '404', '429']],
      ['/api/v1/auth/passkey/options', 'post', ['200', '429']],
      ['/api/v1/auth/passkey/login', 'post', ['200', '400', '401', '403', '429']],
      ['/api/v1/users/me/passkeys/options', 'post', ['200', '401']],
      ['/api/v1/users/me/passkeys', 'post', ['201', '400', '401']],
      ['/api/v1/users/me/passkeys', 'get', ['200', '401']],
      ['/api/v1/users/me/passkeys/{id}', 'patch', ['200', '400', '401', '404']],
      [
        '/api/v1/users/me/passkeys/{id}',
        'delete',
        ['204', '400', '401', '403', '404', '409', '429'],
      ],
      ['/api/v1/users/me/mfa', 'get', ['200', '401']],
      ['/api/v1/users/me/mfa/totp', 'post', ['201', '400', '401', '403', '409', '429']],
      ['/api/v1/users/me/mfa/totp', 'delete', ['204', '400', '401', '404', '429']],
      ['/api/v1/users/me/mfa/totp/confirm', 'post', ['200', '400', '401', '404', '429']],
      ['/api/v1/users/me/mfa/recovery-codes', 'post', ['200', '400', '401', '404', '429']],
      ['/api/v1/users/{id}/mfa', 'delete', ['204', '401', '403', '404']],
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
    expect(example('/api/v1/auth/mfa/verify', 'post', '401')).toMatchObject({
      status: 401,
      code: 'invalid_mfa_token',
    });
    expect(doc.components.schemas.UserResponseDto.required).toContain('mfaEnabled');
    // The codes and their examples come from the one catalogue.
    expect(example('/api/v1/auth/register', 'post', '409').detail).toBe(ERROR_CODES.email_taken[1]);
    expect(doc.components.schemas.ProblemDto.properties.code.enum).toEqual(
      Object.keys(ERROR_CODES),
    );
  });
});

/** `levels` objects, one inside the next, each under the key `a`, around `null`. */
const nestedObjects = (levels: number) => '{"a":'.repeat(levels) + 'null' + '}'.repeat(levels);
/** `levels` arrays, one inside the next. */
const nestedArrays = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
/** The field path of the first object too deep: `a.a.….a`, with `levels` segments. */
const aPath = (levels: number) => Array<string>(levels).fill('a').join('.');

describe('Deeply nested input (e2e)', () => {
  const t = useTestApp();
  const json = { 'content-type': 'application/json' };
  let token: string;

  beforeAll(async () => {
    token = (await signedInUser(t.http)).accessToken;
  });

  // [name, method, url, body, authenticated, the field named]
  const cases: Array<[string, 'POST' | 'PATCH', string, string, boolean, string]> = [
    [
      '5,000 nested objects on login',
      'POST',
      '/api/v1/auth/login',
      nestedObjects(5000),
      false,
      aPath(32),
    ],
    [
      '5,000 nested objects in a login field',
      'POST',
      '/api/v1/auth/login',
      `{"email":${nestedObjects(5000)},"password":"x"}`,
      false,
      `email.${aPath(31)}`,
    ],
    [
      '5,000 nested objects on register',
      'POST',
      '/api/v1/auth/register',
      nestedObjects(5000),
      false,
      aPath(32),
    ],
    [
      '50,000 nested arrays on register',
      'POST',
      '/api/v1/auth/register',
      nestedArrays(50000),
      false,
      Array<string>(32).fill('0').join('.'),
    ],
    [
      '5,000 nested objects in a field',
      'POST',
      '/api/v1/auth/register',
      `{"email":"d@example.com","password":"violet tractor harbour 42","fullName":${nestedObjects(5000)}}`,
      false,
      `fullName.${aPath(31)}`,
    ],
    [
      '5,000 nested objects on the OAuth2 token endpoint',
      'POST',
      '/api/v1/auth/token',
      `{"grant_type":${nestedObjects(5000)}}`,
      false,
      `grant_type.${aPath(31)}`,
    ],
    [
      '5,000 nested objects on refresh',
      'POST',
      '/api/v1/auth/refresh',
      nestedObjects(5000),
      false,
      aPath(32),
    ],
    [
      '5,000 nested objects on an authenticated route',
      'PATCH',
      '/api/v1/users/me',
      nestedObjects(5000),
      true,
      aPath(32),
    ],
    ['33 nested objects', 'POST', '/api/v1/auth/login', nestedObjects(33), false, aPath(32)],
  ];

  it.each(cases)(
    'should refuse %s with a 400 naming the place',
    async (_name, method, url, raw, authenticated, field) => {
      const reply = await t.http.request(method, url, {
        headers: json,
        raw,
        ...(authenticated ? { token } : {}),
      });
      expectProblem(reply, 400, 'validation_failed');
      expect(reply.body.errors).toEqual([{ field, message: expect.stringMatching(/nested/) }]);
      expect(reply.text).not.toMatch(LEAKS);
    },
  );

  it('should read input nested 32 deep by the usual rules', async () => {
    // 32 levels (the body and 31 objects in it) pass the depth check: the unknown field is what is refused.
    const reply = await t.http.request('POST', '/api/v1/auth/register', {
      headers: json,
      raw: `{"email":"n@example.com","password":"violet tractor harbour 42","extra":${nestedObjects(31)}}`,
    });
    expectProblem(reply, 400, 'validation_failed');
    expect(reply.body.errors).toEqual([
      { field: 'extra', message: expect.stringMatching(/should not exist/) },
    ]);
  });
});

describe('Validation errors about the body itself (e2e)', () => {
  const t = useTestApp();
  const json = { 'content-type': 'application/json' };

  const bodies: Array<[string, string]> = [
    ['a JSON string', '"hello"'],
    ['a JSON number', '42'],
    ['true', 'true'],
    ['null', 'null'],
    ['an empty array', '[]'],
    ['an array of objects', '[{"email":"a@example.com"}]'],
    ['a string with a NUL byte', '"a\\u0000b"'],
  ];
  const routes = ['/api/v1/auth/register', '/api/v1/auth/login', '/api/v1/auth/refresh'];
  const cases = routes.flatMap((url) =>
    bodies.map(([name, raw]) => [name, url, raw] as [string, string, string]),
  );

  it.each(cases)(
    'should answer %s on %s with errors on field "" (the body)',
    async (_name, url, raw) => {
      const reply = await t.http.request('POST', url, { headers: json, raw });
      expectProblem(reply, 400, 'validation_failed');
      expect(reply.body.errors).toEqual([{ field: '', message: expect.any(String) }]);
      expect(reply.text).not.toMatch(LEAKS);
    },
  );
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The HTTP/1.1 responses in what a server wrote on one connection (bodies by Content-Length). */
function parseResponses(raw: Buffer): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) {
      throw new Error(`not an HTTP response: ${rest.toString('latin1')}`);
    }
    const [statusLine, ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const body = rest.subarray(end + 4, end + 4 + length).toString('utf8');
    responses.push({ status: Number(statusLine.split(' ')[1]), headers, body });
    rest = rest.subarray(end + 4 + length);
  }
  return responses;
}

/**
 * Writes `data` on a fresh connection (then ends the write side when asked) and
 * gives back everything the server wrote until it closed the connection.
 */
function exchange(
  port: number,
  data: string,
  endWriteSide: boolean,
): Promise<{ raw: Buffer; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timedOut = false;
    socket.setTimeout(5000, () => {
      timedOut = true;
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ raw: Buffer.concat(chunks), closedByServer: !timedOut }));
    socket.write(data, 'latin1');
    if (endWriteSide) {
      socket.end();
    }
  });
}

describe('HTTP framing errors on a real socket (e2e)', () => {
  const t = useTestApp();
  let port: number;

  beforeAll(async () => {
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });

  const post = (headers: string, body: string) =>
    `POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${headers}\r\n${body}`;
  const login = '{"email":"a@example.com","password":"violet tractor harbour 42"}';

  // [name, bytes, end the write side, status]
  const cases: Array<[string, string, boolean, number]> = [
    [
      'a Content-Length larger than the body, then the end of the stream',
      post('Content-Length: 500\r\n', login),
      true,
      400,
    ],
    // The first 10 bytes are a (malformed JSON) request; the rest is not HTTP. The
    // parser may refuse it before that request is answered (whose answer is then
    // never written) or after: one or two answers, both 400.
    ['a Content-Length smaller than the body', post('Content-Length: 10\r\n', login), false, 400],
    [
      'both Content-Length and Transfer-Encoding',
      post(
        `Content-Length: ${login.length}\r\nTransfer-Encoding: chunked\r\n`,
        `${login.length.toString(16)}\r\n${login}\r\n0\r\n\r\n`,
      ),
      false,
      400,
    ],
    ['a Content-Length that is not a number', post('Content-Length: ten\r\n', login), false, 400],
    [
      'two different Content-Lengths',
      post(`Content-Length: 10\r\nContent-Length: ${login.length}\r\n`, login),
      false,
      400,
    ],
    [
      'a malformed chunk size',
      post('Transfer-Encoding: chunked\r\n', `zz\r\n${login}\r\n0\r\n\r\n`),
      false,
      400,
    ],
    [
      'a malformed request line',
      'GET /api/v1/users/me HTTP/1.1 extra\r\nHost: localhost\r\n\r\n',
      false,
      400,
    ],
    ['a request line that is not HTTP', 'HELLO\r\n\r\n', false, 400],
    [
      'a malformed header name',
      'GET /health/live HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n',
      false,
      400,
    ],
    [
      'a header without a colon',
      'GET /health/live HTTP/1.1\r\nHost: localhost\r\nNoColon\r\n\r\n',
      false,
      400,
    ],
    [
      'headers over the size limit',
      `GET /health/live HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'x'.repeat(20000)}\r\n\r\n`,
      false,
      431,
    ],
    ['an HTTP/1.1 request without Host', 'GET /health/live HTTP/1.1\r\n\r\n', false, 400],
  ];

  it.each(cases)(
    'should answer %s with problem documents and close the connection',
    async (_name, data, endWriteSide, status) => {
      const { raw, closedByServer } = await exchange(port, data, endWriteSide);
      expect(closedByServer).toBe(true);
      const responses = parseResponses(raw);
      expect(responses.length).toBeGreaterThan(0);
      expect(responses.map((response) => response.status)).toEqual(responses.map(() => status));
      for (const response of responses) {
        expect(response.headers['content-type']).toContain('application/problem+json');
        const body = JSON.parse(response.body);
        expectProblem(
          { status: response.status, headers: response.headers, body },
          response.status,
        );
        expect(response.body).not.toMatch(LEAKS);
      }
      expect(responses[responses.length - 1].headers.connection).toBe('close');
    },
  );

  it('should answer an unmet expectation with a problem document', async () => {
    const { raw } = await exchange(
      port,
      'GET /health/live HTTP/1.1\r\nHost: localhost\r\nExpect: the-impossible\r\n\r\n',
      true,
    );
    const [response] = parseResponses(raw);
    expect(response.status).toBe(417);
    expect(response.headers['content-type']).toContain('application/problem+json');
  });

  it('should still serve a well-formed request', async () => {
    const { raw } = await exchange(
      port,
      'GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
      false,
    );
    expect(parseResponses(raw).map((response) => response.status)).toEqual([200]);
  });
});

describe('Fastify errors outside a route (e2e)', () => {
  const t = useTestApp();

  const cases: Array<
    [string, 'GET' | 'POST', string, Record<string, string>, string | undefined, number]
  > = [
    [
      'a malformed percent-encoding in a path parameter',
      'GET',
      '/api/v1/users/%zz',
      {},
      undefined,
      400,
    ],
    [
      'a path parameter over the length limit',
      'GET',
      `/api/v1/users/${'a'.repeat(200)}`,
      {},
      undefined,
      414,
    ],
    [
      'a Content-Length that does not match the body',
      'POST',
      '/api/v1/auth/login',
      { 'content-type': 'application/json', 'content-length': '500' },
      '{"email":"a@example.com"}',
      400,
    ],
    // @fastify/static's own refusals (the web page's files).
    ['a range outside a file', 'GET', '/index.html', { range: 'bytes=999999-' }, undefined, 416],
    ['a failed precondition', 'GET', '/index.html', { 'if-match': '"nope"' }, undefined, 412],
  ];

  it.each(cases)(
    'should answer %s with a problem document',
    async (_name, method, url, headers, raw, status) => {
      const reply = await t.http.request(method, url, { headers, raw });
      expectProblem(reply, status);
      expect(reply.text).not.toMatch(LEAKS);
      // The status's own title, and a sentence about this request (not about JSON it never sent).
      expect(reply.body.title).not.toBe('Client Error');
      expect(reply.body.detail).not.toMatch(method === 'GET' ? /JSON/ : /^$/);
    },
  );
});

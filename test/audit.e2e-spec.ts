import { ADMIN, ADMIN_ENV, signIn } from './support/admin';
import { expectProblem, newUser, PASSWORD, SignedIn, signedInUser } from './support/factories';
import { useTestApp } from './support/test-app';

describe('Audit trail (e2e)', () => {
  const t = useTestApp(ADMIN_ENV);
  let admin: SignedIn;

  beforeAll(async () => {
    admin = await signIn(t, ADMIN.email, ADMIN.password);
  });

  it('should record each security event with address, agent and outcome, and never a secret', async () => {
    const agent = { 'user-agent': 'AuditTest/1.0' };
    const body = newUser();
    await t.http.request('POST', '/api/v1/auth/register', { body, headers: agent });
    const wrong = await t.http.request('POST', '/api/v1/auth/login', {
      body: { email: body.email, password: 'not the password' },
      headers: agent,
    });
    expect(wrong.status).toBe(401);
    const login = await t.http.request('POST', '/api/v1/auth/login', {
      body: { email: body.email, password: PASSWORD },
      headers: agent,
    });
    const { accessToken, refreshToken, user } = login.body;
    const rotated = await t.http.post('/api/v1/auth/refresh', { refreshToken });
    await t.http.request('PATCH', '/api/v1/users/me', {
      token: rotated.body.accessToken,
      body: { fullName: 'Audit Me' },
    });
    const newPassword = 'amber lantern quietly 77';
    await t.http.request('PUT', '/api/v1/users/me/password', {
      token: rotated.body.accessToken,
      body: { currentPassword: PASSWORD, newPassword },
    });
    const second = await t.http.post('/api/v1/auth/login', {
      email: body.email,
      password: newPassword,
    });
    await t.http.request(
      'DELETE',
      `/api/v1/auth/sessions/${(await t.http.get('/api/v1/auth/sessions', second.body.accessToken)).body.find((s: { current: boolean }) => !s.current)?.id ?? rotated.body.user.id}`,
      { token: second.body.accessToken },
    );
    await t.http.post('/api/v1/auth/logout', undefined, second.body.accessToken);
    await new Promise((resolve) => setTimeout(resolve, 0));
    await t.http.request('PATCH', `/api/v1/users/${user.id}`, {
      token: admin.accessToken,
      body: { roles: ['user', 'admin'] },
    });
    await t.http.request('PATCH', `/api/v1/users/${user.id}`, {
      token: admin.accessToken,
      body: { disabled: true },
    });
    await t.http.request('DELETE', `/api/v1/users/${user.id}`, { token: admin.accessToken });
    await t.http.post('/api/v1/auth/login', {
      email: `nobody.${body.email}`,
      password: 'whatever it is',
    });
    // A password typed into the username field, twice, and another unknown name once.
    const typedPassword = 'my-secret-passphrase-typed-in-the-wrong-field';
    for (const username of [typedPassword, typedPassword, 'someone_else_entirely']) {
      await t.http.post('/api/v1/auth/login', { username, password: 'whatever it is' });
    }

    const trail = await t.http.get(`/api/v1/audit?userId=${user.id}&size=100`, admin.accessToken);
    expect(trail.status).toBe(200);
    const types = trail.body.items.map((e: { type: string }) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'user.registered',
        'login.failed',
        'login.succeeded',
        'user.updated',
        'password.changed',
        'session.revoked',
        'logout',
        'role.changed',
        'user.disabled',
        'user.deleted',
      ]),
    );
    const failed = trail.body.items.find((e: { type: string }) => e.type === 'login.failed');
    expect(failed).toMatchObject({
      outcome: 'failure',
      userAgent: 'AuditTest/1.0',
      ip: '127.0.0.1',
      userId: user.id,
    });
    // Written by the statements that make the account and the session.
    const { sid } = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString());
    expect(trail.body.items).toContainEqual(
      expect.objectContaining({
        type: 'login.succeeded',
        outcome: 'success',
        userAgent: 'AuditTest/1.0',
        ip: '127.0.0.1',
        userId: user.id,
        detail: { method: 'password', sessionId: sid, aal: 'aal1' },
      }),
    );
    expect(
      trail.body.items.find((e: { type: string }) => e.type === 'user.registered'),
    ).toMatchObject({
      outcome: 'success',
      userAgent: 'AuditTest/1.0',
      ip: '127.0.0.1',
      userId: user.id,
    });
    const roleChange = trail.body.items.find((e: { type: string }) => e.type === 'role.changed');
    expect(roleChange.detail).toMatchObject({
      from: ['user'],
      to: ['user', 'admin'],
      actorId: admin.user.id,
    });
    // Newest first.
    const times = trail.body.items.map((e: { at: string }) => e.at);
    expect([...times].sort().reverse()).toEqual(times);

    const everything = JSON.stringify(
      (await t.http.get('/api/v1/audit?size=100', admin.accessToken)).body,
    );
    for (const secret of [
      PASSWORD,
      newPassword,
      accessToken,
      refreshToken,
      rotated.body.refreshToken,
      rotated.body.accessToken,
    ]) {
      expect(everything).not.toContain(secret);
    }
    const unknown = await t.http.get('/api/v1/audit?type=login.failed&size=100', admin.accessToken);
    // What was typed is never recorded: a keyed hash of it correlates attempts.
    expect(JSON.stringify(unknown.body)).not.toContain(`nobody.${body.email}`);
    expect(JSON.stringify(unknown.body)).not.toContain(typedPassword);
    const anonymous = unknown.body.items.filter(
      (e: { userId: string | null }) => e.userId === null,
    ) as Array<{ detail: { identifierHash?: string; identifier?: string } }>;
    expect(anonymous).toHaveLength(4);
    const hashes = anonymous.map((e) => e.detail.identifierHash);
    expect(hashes.every((h) => typeof h === 'string' && /^[0-9a-f]{32}$/.test(h))).toBe(true);
    // Newest first: someone_else, the typed password twice, nobody.
    expect(new Set(hashes).size).toBe(3);
    expect(hashes[1]).toBe(hashes[2]);
    expect(anonymous.every((e) => e.detail.identifier === undefined)).toBe(true);
    expect(unknown.body.items.every((e: { type: string }) => e.type === 'login.failed')).toBe(true);
  });

  it('should filter by time range and refuse bad filters', async () => {
    const before = new Date().toISOString();
    const user = await signedInUser(t.http);
    const after = new Date(Date.now() + 1000).toISOString();
    const inRange = await t.http.get(
      `/api/v1/audit?userId=${user.user.id}&from=${before}&to=${after}`,
      admin.accessToken,
    );
    expect(inRange.body.total).toBe(2);
    const later = await t.http.get(
      `/api/v1/audit?userId=${user.user.id}&from=${after}`,
      admin.accessToken,
    );
    expect(later.body.total).toBe(0);
    for (const query of ['type=nope', 'userId=123', 'from=yesterday', 'size=101']) {
      expectProblem(
        await t.http.get(`/api/v1/audit?${query}`, admin.accessToken),
        400,
        'validation_failed',
      );
    }
  });

  it("should show a user their own recent activity, newest first, and nobody else's", async () => {
    const user = await signedInUser(t.http, {}, { 'user-agent': 'Mine/1.0' });
    await t.http.post('/api/v1/auth/login', { email: user.email, password: 'not the password' });
    const other = await signedInUser(t.http);
    const mine = await t.http.get('/api/v1/users/me/activity', user.accessToken);
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ page: 1, size: 20, total: 3 });
    expect(mine.body.items.map((e: { type: string }) => e.type)).toEqual([
      'login.failed',
      'login.succeeded',
      'user.registered',
    ]);
    expect(mine.body.items[1]).toEqual({
      type: 'login.succeeded',
      at: expect.any(String),
      ip: '127.0.0.1',
      userAgent: 'Mine/1.0',
      outcome: 'success',
    });
    const page2 = await t.http.get('/api/v1/users/me/activity?page=2&size=2', user.accessToken);
    expect(page2.body.items.map((e: { type: string }) => e.type)).toEqual(['user.registered']);
    const theirs = await t.http.get('/api/v1/users/me/activity', other.accessToken);
    expect(theirs.body.total).toBe(2);
    expectProblem(await t.http.get('/api/v1/users/me/activity?size=0', user.accessToken), 400);
  });
});

import { DataSource } from 'typeorm';
import { runCli } from '../src/admin/admin.cli';
import { AdminService } from '../src/admin/admin.service';
import {
  expectProblem,
  expectSessionEnded,
  expectSignInRefused,
  newUser,
  PASSWORD,
  SignedIn,
  signedInUser,
} from './support/factories';
import { createStore, startApp, TestApp, TestStore, useTestApp } from './support/test-app';

const ADMIN = { email: 'root.admin@example.com', password: 'granite orchard whistle 81' };
const ADMIN_ENV = { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, RATE_LIMIT: 'off' };

async function signIn(t: TestApp, email: string, password: string): Promise<SignedIn> {
  const reply = await t.http.post('/api/v1/auth/login', { email, password });
  expect(reply.status).toBe(200);
  return { ...reply.body, email, username: reply.body.user.username, password };
}

async function makeAdmin(t: TestApp, admin: SignedIn): Promise<SignedIn> {
  const user = await signedInUser(t.http);
  const promoted = await t.http.request('PATCH', `/api/v1/users/${user.user.id}`, {
    token: admin.accessToken,
    body: { roles: ['user', 'admin'] },
  });
  expect(promoted.status).toBe(200);
  return user;
}

describe('Administration (e2e)', () => {
  const t = useTestApp(ADMIN_ENV);
  let admin: SignedIn;

  beforeAll(async () => {
    admin = await signIn(t, ADMIN.email, ADMIN.password);
  });

  it('should bootstrap the configured admin, verified, with both roles', () => {
    expect(admin.user).toMatchObject({
      email: ADMIN.email,
      roles: ['user', 'admin'],
      emailVerified: true,
    });
  });

  it('should answer 403 forbidden to a non-admin on every admin route', async () => {
    const user = await signedInUser(t.http);
    const id = user.user.id;
    for (const [method, url, body] of [
      ['GET', '/api/v1/users', undefined],
      ['GET', `/api/v1/users/${id}`, undefined],
      ['PATCH', `/api/v1/users/${id}`, { roles: ['user', 'admin'] }],
      ['DELETE', `/api/v1/users/${id}`, undefined],
      ['GET', '/api/v1/audit', undefined],
    ] as const) {
      const reply = await t.http.request(method, url, { token: user.accessToken, body });
      expectProblem(reply, 403, 'forbidden');
    }
    expect((await t.http.get('/api/v1/users/me', user.accessToken)).body.roles).toEqual(['user']);
    expectProblem(await t.http.get('/api/v1/users'), 401, 'unauthorized');
  });

  describe('GET /users', () => {
    it('should page through a search in a stable order, with the total', async () => {
      const tag = `pg${Date.now().toString(36)}`;
      const created = [];
      for (let i = 0; i < 5; i++) {
        const reply = await t.http.post(
          '/api/v1/auth/register',
          newUser({ username: `${tag}_${i}` }),
        );
        created.push(reply.body.id);
      }
      const seen: string[] = [];
      for (const page of [1, 2, 3]) {
        const reply = await t.http.request('GET', `/api/v1/users?q=${tag}&page=${page}&size=2`, {
          token: admin.accessToken,
        });
        expect(reply.status).toBe(200);
        expect(reply.body).toMatchObject({ page, size: 2, total: 5 });
        seen.push(...reply.body.items.map((u: { id: string }) => u.id));
      }
      expect(seen).toEqual(created);
      const past = await t.http.request('GET', `/api/v1/users?q=${tag}&page=9&size=2`, {
        token: admin.accessToken,
      });
      expect(past.body).toEqual({ items: [], page: 9, size: 2, total: 5 });
      const first = (
        await t.http.request('GET', `/api/v1/users?q=${tag}`, { token: admin.accessToken })
      ).body;
      expect(first).toMatchObject({ page: 1, size: 20, total: 5 });
      expect(first.items[0]).toEqual(
        expect.objectContaining({ id: created[0], disabled: false, roles: ['user'] }),
      );
      expect(Object.keys(first.items[0])).not.toContain('passwordHash');
    });

    it.each([
      ['size=0', 'size'],
      ['size=101', 'size'],
      ['page=0', 'page'],
      ['page=abc', 'page'],
      ['q=ab', 'q'],
      ['sort=email', 'sort'],
    ])('should refuse %s with 400', async (query, field) => {
      const reply = await t.http.request('GET', `/api/v1/users?${query}`, {
        token: admin.accessToken,
      });
      expectProblem(reply, 400, 'validation_failed');
      expect(reply.body.errors[0].field).toBe(field);
    });

    it('should find by part of an email or a username, in any case, with wildcards taken literally', async () => {
      const tag = `Zq${Date.now().toString(36)}`;
      const byEmail = await t.http.post(
        '/api/v1/auth/register',
        newUser({ email: `x.${tag.toLowerCase()}.y@example.com` }),
      );
      const byName = await t.http.post(
        '/api/v1/auth/register',
        newUser({ username: `the_${tag}_one` }),
      );
      const search = async (q: string) =>
        (
          await t.http.request('GET', `/api/v1/users?q=${encodeURIComponent(q)}`, {
            token: admin.accessToken,
          })
        ).body;
      expect(
        (await search(`.${tag.toUpperCase()}.`)).items.map((u: { id: string }) => u.id),
      ).toEqual([byEmail.body.id]);
      expect((await search(`${tag}_ONE`)).items.map((u: { id: string }) => u.id)).toEqual([
        byName.body.id,
      ]);
      expect((await search(tag)).total).toBe(2);
      expect((await search('%_%')).total).toBe(0);
    });

    it('should be able to answer the search from the trigram indexes', async () => {
      const plan = await t.app.get(DataSource).transaction(async (manager) => {
        await manager.query('SET LOCAL enable_seqscan = off');
        const rows: Array<{ 'QUERY PLAN': string }> = await manager.query(
          `EXPLAIN SELECT * FROM users u WHERE (u.email ILIKE $1 OR lower(u.username) LIKE lower($1))`,
          ['%someone%'],
        );
        return rows.map((row) => row['QUERY PLAN']).join('\n');
      });
      expect(plan).toContain('users_email_trgm_idx');
      expect(plan).toContain('users_username_trgm_idx');
      expect(plan).not.toContain('Seq Scan');
    });
  });

  describe('GET, PATCH and DELETE /users/:id', () => {
    it('should show a user, and answer 404 for an unknown one and 400 for a malformed id', async () => {
      const user = await signedInUser(t.http);
      const reply = await t.http.get(`/api/v1/users/${user.user.id}`, admin.accessToken);
      expect(reply.body).toMatchObject({ id: user.user.id, email: user.email, disabled: false });
      expectProblem(
        await t.http.get('/api/v1/users/3f1c2b9e-8a4d-4f7e-9c61-2d5b7e0a1c33', admin.accessToken),
        404,
        'not_found',
      );
      expectProblem(
        await t.http.get('/api/v1/users/not-an-id', admin.accessToken),
        400,
        'validation_failed',
      );
    });

    it('should disable an account: its open session stops at once, sign-in gets 403; enabling restores sign-in', async () => {
      const user = await signedInUser(t.http);
      const reply = await t.http.request('PATCH', `/api/v1/users/${user.user.id}`, {
        token: admin.accessToken,
        body: { disabled: true },
      });
      expect(reply.status).toBe(200);
      expect(reply.body.disabled).toBe(true);
      await expectSessionEnded(t.http, user);
      await expectSignInRefused(t.http, user, 403, 'account_disabled');

      const enabled = await t.http.request('PATCH', `/api/v1/users/${user.user.id}`, {
        token: admin.accessToken,
        body: { disabled: false },
      });
      expect(enabled.body.disabled).toBe(false);
      expect(
        (await t.http.post('/api/v1/auth/login', { email: user.email, password: user.password }))
          .status,
      ).toBe(200);
      // The sessions ended by disabling stay ended.
      expectProblem(await t.http.get('/api/v1/users/me', user.accessToken), 401);
    });

    it('should grant and remove the admin role, taking effect on tokens already issued', async () => {
      const user = await signedInUser(t.http);
      await t.http.request('PATCH', `/api/v1/users/${user.user.id}`, {
        token: admin.accessToken,
        body: { roles: ['admin'] },
      });
      const asAdmin = await t.http.get('/api/v1/users?size=1', user.accessToken);
      expect(asAdmin.status).toBe(200);
      const demoted = await t.http.request('PATCH', `/api/v1/users/${user.user.id}`, {
        token: admin.accessToken,
        body: { roles: ['user'] },
      });
      expect(demoted.body.roles).toEqual(['user']);
      expectProblem(await t.http.get('/api/v1/users?size=1', user.accessToken), 403, 'forbidden');
    });

    it.each([
      ['an unknown role', { roles: ['root'] }],
      ['no roles', { roles: [] }],
      ['a string for disabled', { disabled: 'yes' }],
      ['an unknown field', { email: 'x@example.com' }],
    ])('should refuse %s with 400', async (_name, body) => {
      const user = await signedInUser(t.http);
      expectProblem(
        await t.http.request('PATCH', `/api/v1/users/${user.user.id}`, {
          token: admin.accessToken,
          body,
        }),
        400,
        'validation_failed',
      );
    });

    it('should delete a user: their tokens stop working and they are gone', async () => {
      const user = await signedInUser(t.http);
      const reply = await t.http.request('DELETE', `/api/v1/users/${user.user.id}`, {
        token: admin.accessToken,
      });
      expect(reply.status).toBe(204);
      expectProblem(await t.http.get('/api/v1/users/me', user.accessToken), 401);
      expectProblem(await t.http.get(`/api/v1/users/${user.user.id}`, admin.accessToken), 404);
      expectProblem(
        await t.http.request('DELETE', `/api/v1/users/${user.user.id}`, {
          token: admin.accessToken,
        }),
        404,
      );
    });
  });

  describe('audit trail', () => {
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
      const unknown = await t.http.get(
        '/api/v1/audit?type=login.failed&size=100',
        admin.accessToken,
      );
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
      expect(unknown.body.items.every((e: { type: string }) => e.type === 'login.failed')).toBe(
        true,
      );
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
});

describe('Audit of refresh token reuse (e2e)', () => {
  const t = useTestApp({ ...ADMIN_ENV, REFRESH_REUSE_GRACE_SECONDS: '0' });

  it('should record refresh token reuse', async () => {
    const user = await signedInUser(t.http);
    await t.http.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expectProblem(
      await t.http.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken }),
      401,
      'refresh_token_reused',
    );
    const root = await signIn(t, ADMIN.email, ADMIN.password);
    const events = await t.http.get(
      `/api/v1/audit?userId=${user.user.id}&type=refresh.reused`,
      root.accessToken,
    );
    expect(events.body.total).toBe(1);
    expect(events.body.items[0]).toMatchObject({
      outcome: 'failure',
      detail: { sessionRevoked: true },
    });
  });
});

describe('Last administrator (e2e)', () => {
  const t = useTestApp(ADMIN_ENV);

  it('should never leave the service without an active admin', async () => {
    const root = await signIn(t, ADMIN.email, ADMIN.password);
    const id = root.user.id;
    const patch = (token: string, target: string, body: object) =>
      t.http.request('PATCH', `/api/v1/users/${target}`, { token, body });
    expectProblem(await patch(root.accessToken, id, { roles: ['user'] }), 409, 'last_admin');
    expectProblem(await patch(root.accessToken, id, { disabled: true }), 409, 'last_admin');
    expectProblem(
      await t.http.request('DELETE', `/api/v1/users/${id}`, { token: root.accessToken }),
      409,
      'last_admin',
    );
    expectProblem(
      await t.http.request('DELETE', '/api/v1/users/me', {
        token: root.accessToken,
        body: { password: ADMIN.password },
      }),
      409,
      'last_admin',
    );
    expect((await t.http.get('/api/v1/users/me', root.accessToken)).body.roles).toEqual([
      'user',
      'admin',
    ]);

    // Two admins demoting each other at once: one wins, one admin remains.
    const second = await makeAdmin(t, root);
    const replies = await Promise.all([
      patch(root.accessToken, second.user.id, { roles: ['user'] }),
      patch(second.accessToken, id, { roles: ['user'] }),
    ]);
    // The loser gets 409 if its role check ran before the winner committed, else 403 (no longer an admin).
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    const admins = await t.app
      .get(DataSource)
      .query(`SELECT id FROM users WHERE 'admin' = ANY(roles) AND NOT disabled`);
    expect(admins).toHaveLength(1);
  });
});

describe('Admin bootstrap and command line (e2e)', () => {
  it('should create one admin when instances bootstrap at the same time', async () => {
    const store = await createStore();
    // Migrate first, as a deployment does, so only the bootstrap races.
    await (await startApp(store, { RATE_LIMIT: 'off' })).close();
    const email = 'race.admin@example.com';
    const env = { ADMIN_EMAIL: email, ADMIN_PASSWORD: ADMIN.password, RATE_LIMIT: 'off' };
    const apps: TestApp[] = [];
    try {
      if (process.env.TEST_DATABASE_URL) {
        // Two instances on one PostgreSQL database.
        apps.push(...(await Promise.all([startApp(store, env), startApp(store, env)])));
      } else {
        // The embedded store is one process's: race the bootstrap inside one instance.
        apps.push(await startApp(store, env));
        await Promise.all(
          [1, 2, 3].map(() =>
            apps[0].app.get(AdminService).ensureAdmin(email, ADMIN.password, 'bootstrap'),
          ),
        );
      }
      const rows = await apps[0].app
        .get(DataSource)
        .query(`SELECT roles FROM users WHERE email = $1`, [email]);
      expect(rows).toEqual([{ roles: ['user', 'admin'] }]);
      expect(
        (await apps[0].http.post('/api/v1/auth/login', { email, password: ADMIN.password })).status,
      ).toBe(200);
    } finally {
      for (const app of apps) {
        await app.close();
      }
      await store.drop();
    }
  });

  it('should create, promote and demote admins from the command line', async () => {
    const store: TestStore = await createStore();
    const lines: string[] = [];
    const io = {
      out: (line: string) => lines.push(line),
      err: (line: string) => lines.push(`ERR ${line}`),
    };
    // The app migrates the store, then the CLI works on it alone (as with a stopped service).
    let t = await startApp(store, { RATE_LIMIT: 'off' });
    const member = newUser();
    await t.http.post('/api/v1/auth/register', member);
    await t.close();
    try {
      expect(
        await runCli(
          ['create-admin', '--email', 'cli.admin@example.com', '--password', ADMIN.password],
          io,
        ),
      ).toBe(0);
      expect(await runCli(['promote', '--email', member.email], io)).toBe(0);
      expect(await runCli(['demote', '--email', member.email], io)).toBe(0);
      expect(await runCli(['demote', '--email', 'cli.admin@example.com'], io)).toBe(1);
      expect(await runCli(['promote', '--email', 'nobody@example.com'], io)).toBe(1);
      expect(
        await runCli(
          ['create-admin', '--email', 'weak@example.com', '--password', 'password123'],
          io,
        ),
      ).toBe(1);
      expect(await runCli(['frobnicate', '--email', 'x@example.com'], io)).toBe(2);
      expect(await runCli(['create-admin', '--email', 'x@example.com'], io)).toBe(2);
      expect(lines[0]).toMatch(/^cli\.admin@example\.com \(.+\): roles user, admin$/);
      expect(lines[1]).toContain('roles user, admin');
      expect(lines[2]).toContain('roles user');
      expect(lines[3]).toMatch(/^ERR last_admin/);
      expect(lines[4]).toMatch(/^ERR not_found/);
      expect(lines[5]).toMatch(/^ERR weak_password/);

      t = await startApp(store, { RATE_LIMIT: 'off' });
      const login = await t.http.post('/api/v1/auth/login', {
        email: 'cli.admin@example.com',
        password: ADMIN.password,
      });
      expect(login.body.user.roles).toEqual(['user', 'admin']);
      expect((await t.http.get('/api/v1/users', login.body.accessToken)).status).toBe(200);
      await t.close();
    } finally {
      await store.drop();
    }
  });
});

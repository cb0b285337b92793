import { DataSource } from 'typeorm';
import { AdminService } from '../src/admin/admin.service';
import { ADMIN, ADMIN_ENV, signIn } from './support/admin';
import {
  expectProblem,
  expectSessionEnded,
  expectSignInRefused,
  newUser,
  SignedIn,
  signedInUser,
} from './support/factories';
import { createStore, startApp, TestApp, useTestApp } from './support/test-app';

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

describe('Admin bootstrap (e2e)', () => {
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
});

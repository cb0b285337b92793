import { Client } from 'pg';
import {
  expectProblem,
  expectSessionEnded,
  expectSignInRefused,
  newUser,
  signedInUser,
} from './support/factories';
import { createStore, startApp, TestApp, useTestApp } from './support/test-app';

describe('Profile and account (e2e)', () => {
  const t = useTestApp();

  describe('GET and PATCH /users/me', () => {
    it('should edit username, full name and picture, and clear them with null', async () => {
      const user = await signedInUser(t.http);
      const username = newUser().username;
      const edited = await t.http.request('PATCH', '/api/v1/users/me', {
        token: user.accessToken,
        body: { username, fullName: '  Grace Hopper ', imageUrl: 'https://example.com/grace.png' },
      });
      expect(edited.status).toBe(200);
      expect(edited.body).toMatchObject({
        username,
        fullName: 'Grace Hopper',
        imageUrl: 'https://example.com/grace.png',
        email: user.email,
      });
      expect(new Date(edited.body.updatedAt).getTime()).toBeGreaterThanOrEqual(
        new Date(edited.body.createdAt).getTime(),
      );
      const cleared = await t.http.request('PATCH', '/api/v1/users/me', {
        token: user.accessToken,
        body: { fullName: null, imageUrl: null },
      });
      expect(cleared.body).toMatchObject({ username, fullName: null, imageUrl: null });
      const me = await t.http.get('/api/v1/users/me', user.accessToken);
      expect(me.body).toEqual(cleared.body);
    });

    it('should answer 409 username_taken, case-insensitively', async () => {
      const alice = await signedInUser(t.http);
      const bob = await signedInUser(t.http);
      const reply = await t.http.request('PATCH', '/api/v1/users/me', {
        token: bob.accessToken,
        body: { username: alice.username.toUpperCase() },
      });
      expectProblem(reply, 409, 'username_taken');
      expect((await t.http.get('/api/v1/users/me', bob.accessToken)).body.username).toBe(
        bob.username,
      );
    });

    it.each([
      ['a javascript: picture', { imageUrl: 'javascript:alert(1)' }, 'imageUrl'],
      ['a relative picture', { imageUrl: '/me.png' }, 'imageUrl'],
      ['a short username', { username: 'ab' }, 'username'],
      ['a username with spaces', { username: 'a b c' }, 'username'],
      ['a null username', { username: null }, 'username'],
      ['a long full name', { fullName: 'x'.repeat(256) }, 'fullName'],
      ['a changed email', { email: 'new@example.com' }, 'email'],
      ['changed roles', { roles: ['admin'] }, 'roles'],
    ])('should refuse %s with 400 and change nothing', async (_name, body, field) => {
      const user = await signedInUser(t.http);
      const before = (await t.http.get('/api/v1/users/me', user.accessToken)).body;
      const reply = await t.http.request('PATCH', '/api/v1/users/me', {
        token: user.accessToken,
        body,
      });
      expectProblem(reply, 400, 'validation_failed');
      expect(reply.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect((await t.http.get('/api/v1/users/me', user.accessToken)).body).toEqual(before);
    });
  });

  describe('PUT /users/me/password', () => {
    it('should change the password, keep this session and end the others', async () => {
      const user = await signedInUser(t.http);
      const other = await t.http.post('/api/v1/auth/login', {
        email: user.email,
        password: user.password,
      });
      const newPassword = 'amber lantern quietly 77';
      const reply = await t.http.request('PUT', '/api/v1/users/me/password', {
        token: user.accessToken,
        body: { currentPassword: user.password, newPassword },
      });
      expect(reply.status).toBe(204);
      expect((await t.http.get('/api/v1/users/me', user.accessToken)).status).toBe(200);
      await expectSessionEnded(t.http, other.body);
      await expectSignInRefused(t.http, user, 401, 'invalid_credentials');
      const login = await t.http.post('/api/v1/auth/login', {
        email: user.email,
        password: newPassword,
      });
      expect(login.status).toBe(200);
    });

    it('should answer 401 invalid_credentials for a wrong current password and 400 weak_password', async () => {
      const user = await signedInUser(t.http);
      expectProblem(
        await t.http.request('PUT', '/api/v1/users/me/password', {
          token: user.accessToken,
          body: { currentPassword: 'wrong wrong wrong', newPassword: 'amber lantern quietly 77' },
        }),
        401,
        'invalid_credentials',
      );
      expectProblem(
        await t.http.request('PUT', '/api/v1/users/me/password', {
          token: user.accessToken,
          body: { currentPassword: user.password, newPassword: 'password1234' },
        }),
        400,
        'weak_password',
      );
      expect(
        (await t.http.post('/api/v1/auth/login', { email: user.email, password: user.password }))
          .status,
      ).toBe(200);
    });
  });

  describe('POST /users/me/secret', () => {
    it('should replace the secret of a secret-key account: the old one stops working', async () => {
      const created = await t.http.post('/api/v1/auth/secret/register', {
        username: newUser().username,
      });
      const login = await t.http.post('/api/v1/auth/secret/login', {
        userSecret: created.body.userSecret,
      });
      const rotated = await t.http.post(
        '/api/v1/users/me/secret',
        undefined,
        login.body.accessToken,
      );
      expect(rotated.status).toBe(200);
      expect(rotated.headers['cache-control']).toBe('no-store');
      expect(rotated.body).toEqual({ userSecret: expect.any(String) });
      expect(rotated.body.userSecret).not.toBe(created.body.userSecret);
      expectProblem(
        await t.http.post('/api/v1/auth/secret/login', { userSecret: created.body.userSecret }),
        401,
        'invalid_credentials',
      );
      expect(
        (await t.http.post('/api/v1/auth/secret/login', { userSecret: rotated.body.userSecret }))
          .status,
      ).toBe(200);
    });

    it('should answer 403 for a password account', async () => {
      const user = await signedInUser(t.http);
      expectProblem(await t.http.post('/api/v1/users/me/secret', undefined, user.accessToken), 403);
    });
  });

  describe('DELETE /users/me', () => {
    it('should refuse a wrong or missing password, then delete the user and every session', async () => {
      const user = await signedInUser(t.http);
      const other = await t.http.post('/api/v1/auth/login', {
        email: user.email,
        password: user.password,
      });
      expectProblem(
        await t.http.request('DELETE', '/api/v1/users/me', {
          token: user.accessToken,
          body: { password: 'not my password' },
        }),
        401,
        'invalid_credentials',
      );
      expectProblem(
        await t.http.request('DELETE', '/api/v1/users/me', { token: user.accessToken }),
        400,
        'validation_failed',
      );
      expect((await t.http.get('/api/v1/users/me', user.accessToken)).status).toBe(200);

      const deleted = await t.http.request('DELETE', '/api/v1/users/me', {
        token: user.accessToken,
        body: { password: user.password },
      });
      expect(deleted.status).toBe(204);
      for (const token of [user.accessToken, other.body.accessToken]) {
        expectProblem(await t.http.get('/api/v1/users/me', token), 401);
      }
      expectProblem(
        await t.http.post('/api/v1/auth/login', { email: user.email, password: user.password }),
        401,
        'invalid_credentials',
      );
      // The email is free again.
      expect(
        (await t.http.post('/api/v1/auth/register', { ...newUser(), email: user.email })).status,
      ).toBe(201);
    });

    it('should delete a secret-key account without a password', async () => {
      const created = await t.http.post('/api/v1/auth/secret/register', {
        username: newUser().username,
      });
      const login = await t.http.post('/api/v1/auth/secret/login', {
        userSecret: created.body.userSecret,
      });
      const reply = await t.http.request('DELETE', '/api/v1/users/me', {
        token: login.body.accessToken,
      });
      expect(reply.status).toBe(204);
      expectProblem(
        await t.http.post('/api/v1/auth/secret/login', { userSecret: created.body.userSecret }),
        401,
        'invalid_credentials',
      );
    });
  });
});

describe('Password hash upgrade and restarts (e2e)', () => {
  it('should keep data across a restart and rehash at login when the argon2 cost changes', async () => {
    const store = await createStore();
    const body = newUser();
    const first = await startApp(store, { ARGON2_MEMORY_KIB: '4096', ARGON2_TIME_COST: '1' });
    let registered;
    try {
      registered = await first.http.post('/api/v1/auth/register', body);
      expect(registered.status).toBe(201);
    } finally {
      await first.close();
    }

    const second = await startApp(store, { ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '2' });
    try {
      const login = await second.http.post('/api/v1/auth/login', {
        email: body.email,
        password: body.password,
      });
      expect(login.status).toBe(200);
      expect(login.body.user.id).toBe(registered.body.id);
      expect(
        (
          await second.http.post('/api/v1/auth/login', {
            email: body.email,
            password: body.password,
          })
        ).status,
      ).toBe(200);
      const hash = await storedHash(second, registered.body.id);
      expect(hash).toMatch(/^\$argon2id\$v=19\$m=8192,t=2,p=1\$/);
    } finally {
      await second.close();
      await store.drop();
    }
  });
});

/** Reads a password hash straight from the database the app uses. */
async function storedHash(t: TestApp, userId: string): Promise<string> {
  if (process.env.DATABASE_URL) {
    const client = new Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    try {
      const result = await client.query<{ password_hash: string }>(
        'SELECT password_hash FROM users WHERE id = $1',
        [userId],
      );
      return result.rows[0].password_hash;
    } finally {
      await client.end();
    }
  }
  const { DataSource } = await import('typeorm');
  const dataSource = t.app.get(DataSource);
  const rows: Array<{ password_hash: string }> = await dataSource.query(
    'SELECT password_hash FROM users WHERE id = $1',
    [userId],
  );
  return rows[0].password_hash;
}

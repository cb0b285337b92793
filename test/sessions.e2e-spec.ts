import { createHmac } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ADMIN, ADMIN_ENV, signIn } from './support/admin';
import { expectProblem, signedInUser } from './support/factories';
import { useTestApp } from './support/test-app';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function forgeJwt(header: object, payload: object, secret: string): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const body = `${encode(header)}.${encode(payload)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

describe('Sessions and tokens (e2e)', () => {
  // A short grace window so that reuse after it can be tested quickly.
  // Margins are generous: two test workers share two cores.
  const t = useTestApp({ REFRESH_REUSE_GRACE_SECONDS: '3' });

  const refresh = (refreshToken: unknown) => t.http.post('/api/v1/auth/refresh', { refreshToken });

  describe('POST /auth/refresh', () => {
    it('should rotate: a new refresh token and a working access token, not cached', async () => {
      const user = await signedInUser(t.http);
      const reply = await refresh(user.refreshToken);
      expect(reply.status).toBe(200);
      expect(reply.headers['cache-control']).toBe('no-store');
      expect(reply.body.refreshToken).not.toBe(user.refreshToken);
      expect(reply.body.user.id).toBe(user.user.id);
      const me = await t.http.get('/api/v1/users/me', reply.body.accessToken);
      expect(me.status).toBe(200);
      const next = await refresh(reply.body.refreshToken);
      expect(next.status).toBe(200);
    });

    it('should give every presentation within the grace window the same successor', async () => {
      const user = await signedInUser(t.http);
      const replies = await Promise.all(
        Array.from({ length: 10 }, () => refresh(user.refreshToken)),
      );
      expect(replies.map((r) => r.status)).toEqual(Array(10).fill(200));
      const successors = new Set(replies.map((r) => r.body.refreshToken));
      expect(successors.size).toBe(1);
      const again = await refresh(user.refreshToken);
      expect(again.body.refreshToken).toBe(replies[0].body.refreshToken);
      // The successor is the one live token: it rotates normally.
      expect((await refresh(replies[0].body.refreshToken)).status).toBe(200);
    });

    it('should revoke the whole session when a spent token is presented after the grace window', async () => {
      const user = await signedInUser(t.http);
      const first = await refresh(user.refreshToken);
      expect(first.status).toBe(200);
      await sleep(3600);
      const reused = await refresh(user.refreshToken);
      expectProblem(reused, 401, 'refresh_token_reused');
      // Every token descended from that login stops working at once.
      expectProblem(await refresh(first.body.refreshToken), 401);
      expectProblem(await t.http.get('/api/v1/users/me', first.body.accessToken), 401);
      expectProblem(await t.http.get('/api/v1/users/me', user.accessToken), 401);
      // Other sessions of the same user are untouched.
      const other = await t.http.post('/api/v1/auth/login', {
        email: user.email,
        password: user.password,
      });
      expect((await t.http.get('/api/v1/users/me', other.body.accessToken)).status).toBe(200);
    });

    it.each([
      ['an unknown token', 'Zm9vYmFyYmF6'],
      ['an access token', 'use-access-token'],
    ])('should answer 401 invalid_refresh_token for %s', async (_name, token) => {
      const user = await signedInUser(t.http);
      const value = token === 'use-access-token' ? user.accessToken : token;
      const reply = await refresh(value);
      expectProblem(reply, 401, 'invalid_refresh_token');
      expect(reply.headers['www-authenticate']).toMatch(/^Bearer /);
    });

    it.each([
      ['no token', {}],
      ['a number', { refreshToken: 12 }],
      ['an empty string', { refreshToken: '' }],
    ])('should answer 400 for %s', async (_name, body) => {
      expectProblem(await t.http.post('/api/v1/auth/refresh', body), 400, 'validation_failed');
    });
  });

  describe('sign-out and session management', () => {
    it('should revoke this session on logout: access and refresh tokens stop at once', async () => {
      const user = await signedInUser(t.http);
      const reply = await t.http.post('/api/v1/auth/logout', undefined, user.accessToken);
      expect(reply.status).toBe(204);
      const me = await t.http.get('/api/v1/users/me', user.accessToken);
      expectProblem(me, 401, 'unauthorized');
      expect(me.headers['www-authenticate']).toContain('error="invalid_token"');
      expectProblem(await refresh(user.refreshToken), 401, 'invalid_refresh_token');
    });

    it('should revoke every session on logout-all', async () => {
      const user = await signedInUser(t.http);
      const second = await t.http.post('/api/v1/auth/login', {
        email: user.email,
        password: user.password,
      });
      expect(
        (await t.http.post('/api/v1/auth/logout-all', undefined, user.accessToken)).status,
      ).toBe(204);
      for (const token of [user.accessToken, second.body.accessToken]) {
        expectProblem(await t.http.get('/api/v1/users/me', token), 401);
      }
      expectProblem(await refresh(second.body.refreshToken), 401, 'invalid_refresh_token');
    });

    it('should list active sessions with the current one marked, and end another one', async () => {
      const user = await signedInUser(t.http, {}, { 'user-agent': 'Laptop/1.0' });
      const phone = await t.http.request('POST', '/api/v1/auth/login', {
        body: { email: user.email, password: user.password },
        headers: { 'user-agent': 'Phone/2.0' },
      });
      const gone = await t.http.post('/api/v1/auth/login', {
        email: user.email,
        password: user.password,
      });
      await t.http.post('/api/v1/auth/logout', undefined, gone.body.accessToken);

      const list = await t.http.get('/api/v1/auth/sessions', user.accessToken);
      expect(list.status).toBe(200);
      expect(list.body).toHaveLength(2);
      const current = list.body.find((s: { current: boolean }) => s.current);
      expect(current).toEqual({
        id: expect.any(String),
        userAgent: 'Laptop/1.0',
        ip: expect.any(String),
        createdAt: expect.any(String),
        lastUsedAt: expect.any(String),
        current: true,
      });
      const other = list.body.find((s: { current: boolean }) => !s.current);
      expect(other.userAgent).toBe('Phone/2.0');

      const ended = await t.http.request('DELETE', `/api/v1/auth/sessions/${other.id}`, {
        token: user.accessToken,
      });
      expect(ended.status).toBe(204);
      expectProblem(await t.http.get('/api/v1/users/me', phone.body.accessToken), 401);
      expect((await t.http.get('/api/v1/users/me', user.accessToken)).status).toBe(200);
      expect((await t.http.get('/api/v1/auth/sessions', user.accessToken)).body).toHaveLength(1);
    });

    it('should move a session to the top of the list, with its last use, when it is refreshed', async () => {
      const first = await signedInUser(t.http);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const second = await t.http.post('/api/v1/auth/login', {
        email: first.email,
        password: first.password,
      });
      const before = (await t.http.get('/api/v1/auth/sessions', first.accessToken)).body;
      expect(before[0].current).toBe(false); // the newer sign-in was used last

      await new Promise((resolve) => setTimeout(resolve, 20));
      const refreshed = await t.http.post('/api/v1/auth/refresh', {
        refreshToken: first.refreshToken,
      });
      expect(refreshed.status).toBe(200);
      const after = (await t.http.get('/api/v1/auth/sessions', refreshed.body.accessToken)).body;
      expect(after[0]).toEqual(expect.objectContaining({ current: true }));
      const mine = before.find((s: { current: boolean }) => s.current);
      expect(Date.parse(after[0].lastUsedAt)).toBeGreaterThan(Date.parse(mine.lastUsedAt));
      expect(Date.parse(after[0].lastUsedAt)).toBeGreaterThan(Date.parse(after[1].lastUsedAt));
      expect(after[1].id).not.toBe(after[0].id);
      expect(second.status).toBe(200);
    });

    it("should answer 404 for another user's session and 400 for a malformed id", async () => {
      const alice = await signedInUser(t.http);
      const bob = await signedInUser(t.http);
      const bobs = (await t.http.get('/api/v1/auth/sessions', bob.accessToken)).body[0].id;
      const reply = await t.http.request('DELETE', `/api/v1/auth/sessions/${bobs}`, {
        token: alice.accessToken,
      });
      expectProblem(reply, 404, 'not_found');
      expect((await t.http.get('/api/v1/users/me', bob.accessToken)).status).toBe(200);
      expectProblem(
        await t.http.request('DELETE', '/api/v1/auth/sessions/not-a-uuid', {
          token: alice.accessToken,
        }),
        400,
        'validation_failed',
      );
    });

    it('should answer 401 with WWW-Authenticate on every protected route without a token', async () => {
      for (const [method, url] of [
        ['GET', '/api/v1/users/me'],
        ['PATCH', '/api/v1/users/me'],
        ['PUT', '/api/v1/users/me/password'],
        ['POST', '/api/v1/users/me/secret'],
        ['DELETE', '/api/v1/users/me'],
        ['POST', '/api/v1/auth/logout'],
        ['POST', '/api/v1/auth/logout-all'],
        ['GET', '/api/v1/auth/sessions'],
        ['DELETE', '/api/v1/auth/sessions/3f1c2b9e-8a4d-4f7e-9c61-2d5b7e0a1c33'],
      ] as const) {
        const reply = await t.http.request(method, url);
        expectProblem(reply, 401, 'unauthorized');
        expect(reply.headers['www-authenticate']).toMatch(/^Bearer/);
        expect(reply.headers['www-authenticate']).not.toContain('invalid_token');
      }
    });
  });

  describe('disabled accounts', () => {
    it('should reject a disabled user at once: open tokens, refresh and sign-in', async () => {
      const user = await signedInUser(t.http);
      // No admin route yet: disable the account the way one will, in the database.
      await t.app
        .get(DataSource)
        .query('UPDATE users SET disabled = true WHERE id = $1', [user.user.id]);
      expectProblem(await t.http.get('/api/v1/users/me', user.accessToken), 401, 'unauthorized');
      expectProblem(await refresh(user.refreshToken), 401, 'invalid_refresh_token');
      expectProblem(
        await t.http.post('/api/v1/auth/login', { email: user.email, password: user.password }),
        403,
        'account_disabled',
      );
      // A wrong password still gets the ordinary answer: the state is not revealed.
      expectProblem(
        await t.http.post('/api/v1/auth/login', {
          email: user.email,
          password: 'wrong password 1',
        }),
        401,
        'invalid_credentials',
      );
    });
  });

  describe('access token checks', () => {
    const secret = 'test-secret-test-secret-test-secret-0123456789';

    it('should refuse tokens that are not our access tokens', async () => {
      const user = await signedInUser(t.http);
      const [, payloadPart] = user.accessToken.split('.');
      const claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString());
      const now = Math.floor(Date.now() / 1000);
      // Our header and key, with some claims changed.
      const withClaims = (changes: Record<string, unknown>) =>
        forgeJwt({ alg: 'HS256', typ: 'at+jwt' }, { ...claims, ...changes }, secret);
      const forged = {
        'alg none': `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${payloadPart}.`,
        'typ JWT': forgeJwt({ alg: 'HS256', typ: 'JWT' }, claims, secret),
        'another key': forgeJwt({ alg: 'HS256', typ: 'at+jwt' }, claims, 'x'.repeat(48)),
        'another audience': withClaims({ aud: 'other' }),
        'another issuer': withClaims({ iss: 'other' }),
        'no exp': withClaims({ exp: undefined }),
        expired: withClaims({ iat: now - 120, exp: now - 60 }),
        'another session': withClaims({ sid: '3f1c2b9e-8a4d-4f7e-9c61-2d5b7e0a1c33' }),
        'a session id that is no UUID': withClaims({ sid: "x' OR 1=1 --" }),
        'a subject that is no UUID': withClaims({ sub: 'admin' }),
        "another user's subject on this session": withClaims({
          sub: '3f1c2b9e-8a4d-4f7e-9c61-2d5b7e0a1c33',
        }),
        'the refresh token': user.refreshToken,
      };
      for (const [name, token] of Object.entries(forged)) {
        const reply = await t.http.get('/api/v1/users/me', token);
        expect({ name, status: reply.status }).toEqual({ name, status: 401 });
        expect(reply.headers['www-authenticate']).toContain('error="invalid_token"');
      }
      // The genuine token still works, so the refusals above are about the tokens.
      expect((await t.http.get('/api/v1/users/me', user.accessToken)).status).toBe(200);
    });
  });

  // Refreshes made while one runs go to the database in one statement.
  describe('many refreshes at once', () => {
    it('should rotate each token of a batch for its own session, and a token presented twice once', async () => {
      const users = await Promise.all([1, 2, 3].map(() => signedInUser(t.http)));
      const sessions: Array<{ refreshToken: string; userId: string; live: boolean }> = [];
      for (const user of users) {
        sessions.push({ refreshToken: user.refreshToken, userId: user.user.id, live: true });
        for (let i = 0; i < 2; i += 1) {
          const more = await t.http.post('/api/v1/auth/login', {
            email: user.email,
            password: user.password,
          });
          sessions.push({ refreshToken: more.body.refreshToken, userId: user.user.id, live: true });
        }
      }
      // One session ended: its token must be refused, whatever it is sent with.
      const ended = await t.http.post('/api/v1/auth/refresh', {
        refreshToken: sessions[4].refreshToken,
      });
      await t.http.post('/api/v1/auth/logout', undefined, ended.body.accessToken);
      sessions[4] = { ...sessions[4], refreshToken: ended.body.refreshToken, live: false };

      // Every token twice, all at once.
      const presented = [...sessions, ...sessions];
      const replies = await Promise.all(presented.map((s) => refresh(s.refreshToken)));
      replies.forEach((reply, i) => {
        const { live, userId } = presented[i];
        if (live) {
          expect({ i, status: reply.status, user: reply.body.user?.id }).toEqual({
            i,
            status: 200,
            user: userId,
          });
        } else {
          expectProblem(reply, 401, 'invalid_refresh_token');
        }
      });
      const n = sessions.length;
      for (let i = 0; i < n; i += 1) {
        if (sessions[i].live) {
          // Both presentations got the one successor, and it rotates.
          expect(replies[i + n].body.refreshToken).toBe(replies[i].body.refreshToken);
          expect((await refresh(replies[i].body.refreshToken)).status).toBe(200);
        }
      }
      const live: Array<{ user_id: string; live: string }> = await t.app.get(DataSource).query(
        `SELECT s.user_id, count(rt.id) AS live FROM sessions s
         LEFT JOIN refresh_tokens rt ON rt.session_id = s.id AND rt.spent_at IS NULL
         WHERE s.user_id = ANY($1) AND s.revoked_at IS NULL GROUP BY s.id, s.user_id`,
        [users.map((user) => user.user.id)],
      );
      expect(live).toHaveLength(n - 1);
      expect(live.every((row) => Number(row.live) === 1)).toBe(true);
    });
  });

  // Session checks made while others run go to the database together: each
  // request must still get its own answer, and none an answer older than itself.
  describe('many authenticated requests at once', () => {
    it('should answer each request for its own session when they are checked together', async () => {
      const users = await Promise.all([1, 2, 3].map(() => signedInUser(t.http)));
      const tokens: Array<{ token: string; id: string; live: boolean }> = [];
      for (const user of users) {
        const second = await t.http.post('/api/v1/auth/login', {
          email: user.email,
          password: user.password,
        });
        tokens.push({ token: user.accessToken, id: user.user.id, live: true });
        tokens.push({ token: second.body.accessToken, id: user.user.id, live: true });
      }
      // One session of the second user ends; a forged-looking but unknown session is mixed in.
      expect((await t.http.post('/api/v1/auth/logout', undefined, tokens[3].token)).status).toBe(
        204,
      );
      tokens[3].live = false;
      const requests = Array.from({ length: 60 }, (_, i) => tokens[i % tokens.length]);
      const replies = await Promise.all(
        requests.map((r) => t.http.get('/api/v1/users/me', r.token)),
      );
      replies.forEach((reply, i) => {
        const { id, live } = requests[i];
        expect({ i, status: reply.status, id: reply.body.id }).toEqual(
          live ? { i, status: 200, id } : { i, status: 401, id: undefined },
        );
      });
    });

    it('should refuse at once a token whose session ended while others were being checked', async () => {
      const busy = await signedInUser(t.http);
      const leaving = await signedInUser(t.http);
      for (let round = 0; round < 3; round += 1) {
        const session = await t.http.post('/api/v1/auth/login', {
          email: leaving.email,
          password: leaving.password,
        });
        const token = session.body.accessToken;
        let signedOut = false;
        let stop = false;
        let checked = 0;
        let signOut: Promise<number> | undefined;
        const afterSignOut: number[] = [];
        // Requests on the leaving session and on another one, back to back,
        // so that checks of the leaving session are in flight when it ends.
        // (No timers here: on the embedded store with inject, the loops may
        // never let one fire.)
        const loop = async (bearer: string, watch: boolean) => {
          const statuses: number[] = [];
          while (!stop) {
            const sentAfter = signedOut;
            const reply = await t.http.get('/api/v1/users/me', bearer);
            statuses.push(reply.status);
            checked += 1;
            if (checked > 20000) {
              stop = true;
            }
            if (!watch) {
              continue;
            }
            if (sentAfter) {
              afterSignOut.push(reply.status);
              stop ||= afterSignOut.length >= 40;
            } else if (statuses.length === 5 && !signOut) {
              signOut = t.http.post('/api/v1/auth/logout', undefined, token).then((r) => {
                signedOut = true;
                stop ||= r.status !== 204;
                return r.status;
              });
            }
          }
          return statuses;
        };
        const statuses = await Promise.all([
          ...Array.from({ length: 8 }, () => loop(token, true)),
          ...Array.from({ length: 24 }, () => loop(busy.accessToken, false)),
        ]);
        expect(await signOut).toBe(204);
        expect(afterSignOut.length).toBeGreaterThanOrEqual(40);
        expect(afterSignOut.filter((status) => status !== 401)).toEqual([]);
        // Before the sign-out the leaving session was answered; the other one always.
        expect(statuses.slice(0, 8).flat()).toContain(200);
        expect(new Set(statuses.slice(8).flat())).toEqual(new Set([200]));
      }
    });
  });
});

describe('Token lifetimes (e2e)', () => {
  const t = useTestApp({ JWT_ACCESS_TTL: '1', REFRESH_TOKEN_TTL: '5' });

  it('should reject an access token after it expires, and refresh until the login is REFRESH_TOKEN_TTL old', async () => {
    const user = await signedInUser(t.http);
    expect(user.accessToken).toBeDefined();
    await sleep(2100);
    const expired = await t.http.get('/api/v1/users/me', user.accessToken);
    expectProblem(expired, 401, 'unauthorized');
    expect(expired.headers['www-authenticate']).toContain('error="invalid_token"');

    const rotated = await t.http.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken });
    expect(rotated.status).toBe(200);
    expect((await t.http.get('/api/v1/users/me', rotated.body.accessToken)).status).toBe(200);
    // Rotation does not extend the session: five seconds after the login it is over.
    await sleep(3200);
    const late = await t.http.post('/api/v1/auth/refresh', {
      refreshToken: rotated.body.refreshToken,
    });
    expectProblem(late, 401, 'invalid_refresh_token');
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

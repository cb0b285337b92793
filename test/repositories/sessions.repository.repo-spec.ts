import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { SessionsRepository } from '../../src/auth/sessions/sessions.repository';
import { poolOf } from '../../src/database/database.options';
import { describeOnServer, insertUser, tokenHash, useTestDatabase } from '../support/test-database';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const CLIENT = { ip: '203.0.113.7', userAgent: 'RepoTest/1.0' };
const inAnHour = () => new Date(Date.now() + 3600_000);
const aSecondAgo = () => new Date(Date.now() - 1000);

interface TokenRow {
  token_hash: string;
  generation: number;
  spent: boolean;
}

const ONE_FACTOR = { amr: ['pwd'], aal: 'aal1' } as const;

describe(SessionsRepository.name, () => {
  const db = useTestDatabase();
  let sut: SessionsRepository;

  beforeAll(() => {
    sut = new SessionsRepository(db.dataSource.manager);
  });

  /** A new session of the user: its id and its first refresh token's hash. */
  async function newSession(userId: string, expiresAt = inAnHour()) {
    const refresh = tokenHash();
    const { id } = await sut.create(userId, CLIENT, expiresAt, refresh, ONE_FACTOR);
    return { sessionId: id, refresh };
  }

  /**
   * The statements prepared on every connection the pool holds (the embedded
   * store's pool is one), each connection asked in turn.
   */
  async function preparedStatements(): Promise<Array<{ name: string; statement: string }>> {
    const pool = poolOf(db.dataSource)!;
    const clients = await Promise.all(
      Array.from({ length: pool.totalCount }, () => pool.connect()),
    );
    try {
      const lists = await Promise.all(
        clients.map(
          async (client) =>
            (
              await client.query<{ name: string; statement: string }>(
                'SELECT name, statement FROM pg_prepared_statements',
              )
            ).rows,
        ),
      );
      return lists.flat();
    } finally {
      clients.forEach((client) => client.release());
    }
  }

  /** A new user with one session. */
  async function signedIn(expiresAt = inAnHour()) {
    const user = await insertUser(db.dataSource);
    return { user, ...(await newSession(user.id, expiresAt)) };
  }

  const tokensOf = (sessionId: string): Promise<TokenRow[]> =>
    db.dataSource.query(
      `SELECT token_hash, generation, spent_at IS NOT NULL AS spent
         FROM refresh_tokens WHERE session_id = $1 ORDER BY generation`,
      [sessionId],
    );

  const disable = (userId: string) =>
    db.dataSource.query('UPDATE users SET disabled = true WHERE id = $1', [userId]);

  describe('create', () => {
    it('should store the session with its client, expiry and how it was signed in, and its first refresh token live', async () => {
      const user = await insertUser(db.dataSource);
      const expiresAt = inAnHour();
      const refresh = tokenHash();

      const { id, assurance } = await sut.create(user.id, CLIENT, expiresAt, refresh, {
        amr: ['pwd', 'otp'],
        aal: 'aal2',
      });

      const [session] = await db.dataSource.query(
        `SELECT user_id, ip, user_agent, expires_at, revoked_at, auth_time, amr, aal
           FROM sessions WHERE id = $1`,
        [id],
      );
      expect(session).toEqual({
        user_id: user.id,
        ip: CLIENT.ip,
        user_agent: CLIENT.userAgent,
        expires_at: expiresAt,
        revoked_at: null,
        auth_time: assurance.authTime,
        amr: ['pwd', 'otp'],
        aal: 'aal2',
      });
      expect(assurance).toEqual({ authTime: expect.any(Date), amr: ['pwd', 'otp'], aal: 'aal2' });
      expect(await tokensOf(id)).toEqual([{ token_hash: refresh, generation: 0, spent: false }]);
    });

    it('should refuse a session for a user that does not exist', async () => {
      await expect(
        sut.create(randomUUID(), CLIENT, inAnHour(), tokenHash(), ONE_FACTOR),
      ).rejects.toMatchObject({ code: '23503' });
    });
  });

  describe('findActiveSessionUser', () => {
    it('should answer the user of a live session', async () => {
      const { user, sessionId } = await signedIn();

      const found = await sut.findActiveSessionUser(sessionId, user.id);

      expect(found).toEqual({
        id: user.id,
        email: user.email,
        username: user.username,
        fullName: user.fullName,
        imageUrl: null,
        emailVerified: false,
        roles: ['user'],
        disabled: false,
        mfaEnabled: false,
        createdAt: user.createdAt,
        updatedAt: user.updatedAt,
      });
    });

    it('should check a session with a statement prepared once on its connection, on either store', async () => {
      const { user, sessionId } = await signedIn();

      await sut.findActiveSessionUser(sessionId, user.id);
      await sut.findActiveSessionUser(sessionId, user.id);

      expect(await preparedStatements()).toContainEqual({
        name: expect.stringMatching(/^hot-/),
        statement: expect.stringContaining('WHERE s.id = ANY($1::uuid[])'),
      });
    });

    it.each([
      [
        'a revoked session',
        async () => {
          const { user, sessionId } = await signedIn();
          await sut.revoke(sessionId, user.id, 'logout');
          return [sessionId, user.id];
        },
      ],
      [
        'an expired session',
        async () => {
          const { user, sessionId } = await signedIn(aSecondAgo());
          return [sessionId, user.id];
        },
      ],
      [
        "another user's id",
        async () => {
          const { sessionId } = await signedIn();
          const other = await insertUser(db.dataSource);
          return [sessionId, other.id];
        },
      ],
      [
        'a disabled user',
        async () => {
          const { user, sessionId } = await signedIn();
          await disable(user.id);
          return [sessionId, user.id];
        },
      ],
      [
        'an unknown session',
        async () => {
          const { user } = await signedIn();
          return [randomUUID(), user.id];
        },
      ],
      [
        'a session id that is no UUID',
        async () => {
          const { user } = await signedIn();
          return ["x' OR 1=1 --", user.id];
        },
      ],
    ])('should answer null for %s', async (_name, arrange: () => Promise<string[]>) => {
      const [sessionId, userId] = await arrange();

      expect(await sut.findActiveSessionUser(sessionId, userId)).toBeNull();
    });

    it('should answer each of many concurrent checks for its own user, in fewer statements', async () => {
      const users = await Promise.all([1, 2, 3].map(() => insertUser(db.dataSource)));
      const checks: Array<{ sessionId: string; userId: string; answer: string | null }> = [];
      for (const user of users) {
        for (let i = 0; i < 2; i += 1) {
          const { sessionId } = await newSession(user.id);
          checks.push({ sessionId, userId: user.id, answer: user.id });
        }
      }
      // One session ended, and one asked for with the wrong user (next to the right one).
      await sut.revoke(checks[3].sessionId, checks[3].userId, 'logout');
      checks[3].answer = null;
      checks.push({ sessionId: checks[0].sessionId, userId: users[1].id, answer: null });
      const statements = jest.spyOn(
        sut as unknown as { fetchSessionUsers: (keys: unknown[]) => Promise<unknown> },
        'fetchSessionUsers',
      );
      const asked = Array.from({ length: 60 }, (_, i) => checks[i % checks.length]);

      const found = await Promise.all(
        asked.map((check) => sut.findActiveSessionUser(check.sessionId, check.userId)),
      );

      statements.mockRestore();
      expect(found.map((user, i) => ({ i, id: user?.id ?? null }))).toEqual(
        asked.map((check, i) => ({ i, id: check.answer })),
      );
      expect(statements.mock.calls.length).toBeLessThan(asked.length);
    });

    it('should refuse a session revoked after the check was asked, while earlier checks still run', async () => {
      const { user, sessionId } = await signedIn();
      const earlier = Array.from({ length: 10 }, () =>
        sut.findActiveSessionUser(sessionId, user.id),
      );

      await sut.revoke(sessionId, user.id, 'logout');
      const later = await sut.findActiveSessionUser(sessionId, user.id);

      expect(later).toBeNull();
      await Promise.all(earlier);
    });
  });

  describe('rotateLive', () => {
    it('should rotate a live token once: it is spent, and its successor is the live one', async () => {
      const { user, sessionId, refresh } = await signedIn();
      const successor = tokenHash();

      const rotated = await sut.rotateLive(refresh, successor);

      expect(rotated).toEqual({
        sessionId,
        user: expect.objectContaining({ id: user.id }),
        assurance: { authTime: expect.any(Date), amr: ['pwd'], aal: 'aal1' },
      });
      expect(await tokensOf(sessionId)).toEqual([
        { token_hash: refresh, generation: 0, spent: true },
        { token_hash: successor, generation: 1, spent: false },
      ]);
    });

    it('should plan each rotation when it runs, keeping no prepared plan for it', async () => {
      // A plan kept from when the table of tokens was small scans it all as it grows.
      for (let i = 0; i < 7; i++) {
        const { refresh } = await signedIn();
        expect(await sut.rotateLive(refresh, tokenHash())).not.toBeNull();
      }

      const prepared = await preparedStatements();
      expect(prepared.map((p) => p.statement).join('\n')).not.toContain(
        'UPDATE refresh_tokens rt SET spent_at',
      );
      // (the session's own statement is prepared: the check above sees the pool's statements)
      expect(prepared.map((p) => p.statement).join('\n')).toContain('INSERT INTO sessions');
    });

    it('should not rotate a spent token, and rotate its successor', async () => {
      const { user, sessionId, refresh } = await signedIn();
      const successor = tokenHash();
      await sut.rotateLive(refresh, successor);

      expect(await sut.rotateLive(refresh, tokenHash())).toBeNull();
      expect(await tokensOf(sessionId)).toHaveLength(2);
      expect(await sut.rotateLive(successor, tokenHash())).toEqual({
        sessionId,
        user: expect.objectContaining({ id: user.id }),
        assurance: expect.objectContaining({ aal: 'aal1' }),
      });
    });

    it.each([
      [
        'a revoked session',
        async () => {
          const { user, sessionId, refresh } = await signedIn();
          await sut.revoke(sessionId, user.id, 'logout');
          return { sessionId, refresh };
        },
      ],
      ['an expired session', () => signedIn(aSecondAgo())],
      [
        'a disabled user',
        async () => {
          const { user, sessionId, refresh } = await signedIn();
          await disable(user.id);
          return { sessionId, refresh };
        },
      ],
    ])(
      'should not rotate the token of %s',
      async (_name, arrange: () => Promise<{ sessionId: string; refresh: string }>) => {
        const { sessionId, refresh } = await arrange();

        expect(await sut.rotateLive(refresh, tokenHash())).toBeNull();
        expect(await tokensOf(sessionId)).toEqual([
          { token_hash: refresh, generation: 0, spent: false },
        ]);
      },
    );

    it('should answer null for an unknown token', async () => {
      expect(await sut.rotateLive(tokenHash(), tokenHash())).toBeNull();
    });

    it('should let one of concurrent rotations of one token win, on one instance or two', async () => {
      const { sessionId, refresh } = await signedIn();
      // The service derives the successor from the token: every presentation names the same one.
      const successor = tokenHash();
      const otherInstance = new SessionsRepository(db.dataSource.manager);

      const outcomes = await Promise.all(
        [sut, otherInstance, sut, otherInstance].map((instance) =>
          instance.rotateLive(refresh, successor),
        ),
      );

      expect(outcomes.filter((outcome) => outcome !== null)).toEqual([
        expect.objectContaining({ sessionId }),
      ]);
      expect(await tokensOf(sessionId)).toEqual([
        { token_hash: refresh, generation: 0, spent: true },
        { token_hash: successor, generation: 1, spent: false },
      ]);
    });

    it('should rotate each token of a batch for its own session', async () => {
      const users = await Promise.all([1, 2, 3].map(() => insertUser(db.dataSource)));
      const sessions: Array<{ userId: string; sessionId: string; refresh: string; live: boolean }> =
        [];
      for (const user of users) {
        for (let i = 0; i < 2; i += 1) {
          sessions.push({ userId: user.id, ...(await newSession(user.id)), live: true });
        }
      }
      await sut.revoke(sessions[4].sessionId, sessions[4].userId, 'logout');
      sessions[4].live = false;

      const outcomes = await Promise.all(
        sessions.map((session) => sut.rotateLive(session.refresh, tokenHash())),
      );

      expect(
        outcomes.map(
          (outcome) => outcome && { sessionId: outcome.sessionId, user: outcome.user.id },
        ),
      ).toEqual(
        sessions.map((session) =>
          session.live ? { sessionId: session.sessionId, user: session.userId } : null,
        ),
      );
      for (const session of sessions) {
        const live = (await tokensOf(session.sessionId)).filter((token) => !token.spent);
        expect(live).toEqual([expect.objectContaining({ generation: session.live ? 1 : 0 })]);
      }
    });
  });

  describe('lockByRefreshTokenHash', () => {
    it('should find a spent token with its session and the live successor', async () => {
      const { sessionId, refresh } = await signedIn();
      const successor = tokenHash();
      await sut.rotateLive(refresh, successor);

      const found = await sut.transaction((tx) => tx.lockByRefreshTokenHash(refresh));

      expect(found).toEqual({
        token: expect.objectContaining({ tokenHash: refresh, spentAt: expect.any(Date) }),
        session: expect.objectContaining({ id: sessionId, revokedAt: null }),
        live: expect.objectContaining({ tokenHash: successor, generation: 1, spentAt: null }),
      });
      expect(await sut.transaction((tx) => tx.lockByRefreshTokenHash(tokenHash()))).toBeNull();
    });
  });

  describe('revoke and revokeAll', () => {
    it('should revoke a session of its user once, with the reason', async () => {
      const { user, sessionId } = await signedIn();

      expect(await sut.revoke(sessionId, user.id, 'logout')).toBe(true);
      expect(await sut.revoke(sessionId, user.id, 'again')).toBe(false);

      const [row] = await db.dataSource.query(
        `SELECT revoked_at IS NOT NULL AS revoked, revoked_reason FROM sessions WHERE id = $1`,
        [sessionId],
      );
      expect(row).toEqual({ revoked: true, revoked_reason: 'logout' });
    });

    it("should not revoke another user's session", async () => {
      const { user, sessionId } = await signedIn();
      const other = await insertUser(db.dataSource);

      expect(await sut.revoke(sessionId, other.id, 'logout')).toBe(false);
      expect(await sut.findActiveSessionUser(sessionId, user.id)).not.toBeNull();
    });

    it('should revoke every active session of a user but the one kept, and count them', async () => {
      const user = await insertUser(db.dataSource);
      const [kept, ...others] = await Promise.all([1, 2, 3, 4].map(() => newSession(user.id)));
      await sut.revoke(others[0].sessionId, user.id, 'logout');
      const bystander = await signedIn();

      expect(await sut.revokeAll(user.id, 'password_changed', kept.sessionId)).toBe(2);

      expect(await sut.listActive(user.id)).toEqual([
        expect.objectContaining({ id: kept.sessionId }),
      ]);
      expect(await sut.listActive(bystander.user.id)).toHaveLength(1);
      expect(await sut.revokeAll(user.id, 'logout_all')).toBe(1);
      expect(await sut.listActive(user.id)).toEqual([]);
    });
  });

  describe('listActive', () => {
    it('should list live sessions only, the most recently used first', async () => {
      const user = await insertUser(db.dataSource);
      const first = await newSession(user.id);
      // The embedded store's clock can give two sessions made one after the
      // other the same instant: put the first a second back.
      await db.dataSource.query(
        `UPDATE refresh_tokens SET created_at = created_at - interval '1 second' WHERE session_id = $1`,
        [first.sessionId],
      );
      await db.dataSource.query(
        `UPDATE sessions SET created_at = created_at - interval '1 second',
                             last_used_at = last_used_at - interval '1 second' WHERE id = $1`,
        [first.sessionId],
      );
      const second = await newSession(user.id);
      const revoked = await newSession(user.id);
      await sut.revoke(revoked.sessionId, user.id, 'logout');
      await newSession(user.id, aSecondAgo());

      const before = await sut.listActive(user.id);

      expect(before).toEqual([
        expect.objectContaining({ id: second.sessionId, userId: user.id, ...CLIENT }),
        expect.objectContaining({ id: first.sessionId, userId: user.id, ...CLIENT }),
      ]);
      expect(before[0].createdAt).toBeInstanceOf(Date);
    });

    it('should move a session up when it is refreshed (its live token) or touched', async () => {
      const user = await insertUser(db.dataSource);
      const first = await newSession(user.id);
      const second = await newSession(user.id);
      const successor = tokenHash();
      // The embedded store's clock can give both a refresh and the session
      // made just before it the same instant: put the second's use a second back.
      await db.dataSource.query(
        `UPDATE refresh_tokens SET created_at = created_at - interval '1 second' WHERE session_id = $1`,
        [second.sessionId],
      );

      await sut.rotateLive(first.refresh, successor);
      const afterRefresh = await sut.listActive(user.id);

      const [token] = await db.dataSource.query(
        `SELECT created_at FROM refresh_tokens WHERE token_hash = $1`,
        [successor],
      );
      expect(afterRefresh.map((session) => session.id)).toEqual([
        first.sessionId,
        second.sessionId,
      ]);
      expect(afterRefresh[0].lastUsedAt).toEqual(token.created_at);

      const later = new Date(Date.now() + 60_000);
      await sut.touch(second.sessionId, later);
      const afterTouch = await sut.listActive(user.id);

      expect(afterTouch.map((session) => session.id)).toEqual([second.sessionId, first.sessionId]);
      expect(afterTouch[0].lastUsedAt).toEqual(later);
    });
  });

  // The embedded store is one connection: its statements never wait on each other.
  describeOnServer('on a PostgreSQL server (a second connection holds rows)', () => {
    // A statement over several sessions can deadlock with a transaction that
    // takes their rows in the other order; each rotation in it must still succeed.
    it('should retry the rotations one by one when their statement is ended as a deadlock', async () => {
      // The statement must take A's row before B's (which the other
      // transaction holds): A's row comes first both in the table (made
      // first) and in the unique index on the hash, whichever the plan reads.
      const c = await signedIn();
      let a = await signedIn();
      let b = await signedIn();
      while (a.refresh > b.refresh) {
        a = b;
        b = await signedIn();
      }
      const statements = jest.spyOn(poolOf(db.dataSource)!, 'query');
      const other = new Client({ connectionString: db.url });
      await other.connect();
      /** Until `count` statements of this database wait on a row lock (polled: no fixed sleeps). */
      const lockWaiters = async (count: number) => {
        for (let i = 0; i < 200; i += 1) {
          const [{ waiting }] = await db.dataSource.query<Array<{ waiting: number }>>(
            `SELECT count(*)::int AS waiting FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          if (waiting >= count) {
            return;
          }
          await sleep(25);
        }
        throw new Error(`no statement came to wait on a lock (wanted ${count})`);
      };
      try {
        const lock = `SELECT 1 FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`;
        await other.query('BEGIN');
        await other.query(lock, [b.refresh]);
        await other.query('SAVEPOINT hold');
        await other.query(lock, [c.refresh]);
        // C's statement waits on the lock; A's and B's queue behind it, together.
        const first = sut.rotateLive(c.refresh, tokenHash());
        await lockWaiters(1);
        const pair = [
          sut.rotateLive(a.refresh, tokenHash()),
          sut.rotateLive(b.refresh, tokenHash()),
        ];
        // C's row is let go: C's statement ends, A's and B's starts: it takes A's row, then waits for B's.
        await other.query('ROLLBACK TO SAVEPOINT hold');
        await first;
        await lockWaiters(1);
        // Now this transaction waits for A's row: a deadlock, which PostgreSQL
        // breaks by ending the statement that waited first (A's and B's).
        await other.query(
          'UPDATE refresh_tokens SET generation = generation WHERE token_hash = $1',
          [a.refresh],
        );
        await other.query('COMMIT');
        const rotated = await Promise.all([first, ...pair]);

        expect(rotated.map((outcome) => outcome?.user.id)).toEqual(
          [c, a, b].map((session) => session.user.id),
        );
        expect(rotated.map((outcome) => outcome?.sessionId)).toEqual(
          [c, a, b].map((session) => session.sessionId),
        );
        // The deadlock did happen (else this test proves nothing): one statement ended with it.
        const settled = await Promise.allSettled(
          statements.mock.results.map((result) => result.value as Promise<unknown>),
        );
        expect(
          settled.flatMap((outcome) =>
            outcome.status === 'rejected' ? [(outcome.reason as { code?: string }).code] : [],
          ),
        ).toEqual(['40P01']);
      } finally {
        statements.mockRestore();
        await other.end();
      }
    });
  });
});

import { Injectable } from '@nestjs/common';
import { BatchedLookup } from '../../database/batched-lookup';
import { HotStatements } from '../../database/hot-statements';
import { furtherItems, type StatementItems } from '../../database/statement-params';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager, IsNull } from 'typeorm';
import type { ClientInfo } from '../../common/decorators/client-info.decorator';
import { UserEntity } from '../../users/user.entity';
import { userFromRow, type UserRow } from '../../users/user-row';
import type { Assurance, AssuranceLevel, AuthMethodRef } from '../tokens/assurance';
import { RefreshTokenEntity } from './refresh-token.entity';
import { SessionEntity } from './session.entity';
import {
  createSessionSql,
  createSessionOnDeviceSql,
  LIST_ACTIVE_SQL,
  ROTATE_LIVE_SQL,
  SESSION_USERS_SQL,
} from './sessions.sql';

/** A refresh token found by its hash, with its session locked for the rest of the transaction. */
export interface LockedRefreshToken {
  token: RefreshTokenEntity;
  session: SessionEntity;
  /** The session's one unspent token, if any. */
  live: RefreshTokenEntity | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface SessionKey {
  sessionId: string;
  userId: string;
}
const sessionKeyId = (key: SessionKey): string => `${key.sessionId} ${key.userId}`;

interface Rotation {
  tokenHash: string;
  successorHash: string;
}
interface AssuranceRow {
  auth_time: Date;
  amr: AuthMethodRef[];
  aal: AssuranceLevel;
}
type RotatedRow = UserRow & AssuranceRow & { session_id: string; presented_hash: string };

function assuranceOf(row: AssuranceRow): Assurance {
  return { authTime: row.auth_time, amr: row.amr, aal: row.aal };
}

/** The values of a new session's statement, $1-$7 (see NEW_SESSION in sessions.sql.ts). */
function newSessionValues(
  userId: string,
  client: ClientInfo,
  expiresAt: Date,
  refreshTokenHash: string,
  how: Omit<Assurance, 'authTime'>,
): unknown[] {
  return [userId, client.ip, client.userAgent, expiresAt, refreshTokenHash, how.amr, how.aal];
}

/** Rows written by the same statement as a new session, read from `s` (its id is `s.id`). */
export type SessionAlongside = StatementItems;

/** Deadlock, or a serialization failure: the statement may succeed if run again. */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/**
 * Sessions and their refresh tokens (AuthModule's store). Methods that change
 * a rotation chain run inside `transaction`, which hands out a repository
 * bound to one database transaction.
 */
@Injectable()
export class SessionsRepository {
  /** The statements of every authenticated request, refresh and sign-in (see HotStatements). */
  private readonly hot: HotStatements;

  /**
   * Session checks made while others run, sent together (see
   * `findActiveSessionUser`). Bound to a transaction, the repository has a
   * connection of its own: one statement at a time.
   */
  private readonly sessionChecks: BatchedLookup<SessionKey, UserRow>;
  /** Refreshes made while another runs, sent together (see `rotateLive`). */
  private readonly rotations: BatchedLookup<Rotation, RotatedRow>;

  constructor(@InjectEntityManager() private readonly manager: EntityManager) {
    this.hot = new HotStatements(manager);
    // A quarter of the pool at most: under load, fewer and larger statements
    // (2 of a pool of 10 measured best: docs/performance.md#batched-session-checks), and
    // sign-ins and refreshes still find connections while reads flood in.
    const poolSize = this.hot.pool?.options.max ?? 1;
    this.sessionChecks = new BatchedLookup(
      (keys) => this.fetchSessionUsers(keys),
      sessionKeyId,
      Math.max(1, Math.floor(poolSize / 4)),
    );
    // One at a time: two rotation statements never wait on each other's rows.
    this.rotations = new BatchedLookup(
      (rotations) => this.rotateMany(rotations),
      (rotation) => rotation.tokenHash,
      1,
    );
  }

  transaction<T>(work: (tx: SessionsRepository) => Promise<T>): Promise<T> {
    return this.manager.transaction((manager) => work(this.within(manager)));
  }

  /** This repository, bound to a transaction someone else opened. */
  within(manager: EntityManager): SessionsRepository {
    return new SessionsRepository(manager);
  }

  /**
   * A new session and its first refresh token, in one statement (one round
   * trip, one commit), with the rows `alongside` adds; its sign-in time is
   * the database's clock.
   */
  async create(
    userId: string,
    client: ClientInfo,
    expiresAt: Date,
    refreshTokenHash: string,
    how: Omit<Assurance, 'authTime'>,
    alongside?: SessionAlongside,
  ): Promise<{ id: string; assurance: Assurance }> {
    const further = furtherItems(alongside, 8);
    const rows = await this.hot.query<{ id: string; auth_time: Date }>(
      createSessionSql(further.sql),
      [...newSessionValues(userId, client, expiresAt, refreshTokenHash, how), ...further.values],
    );
    return { id: rows[0].id, assurance: { ...how, authTime: rows[0].auth_time } };
  }

  /**
   * `create`, and in the same statement the device recorded as seen, with
   * the alert mail queued when the account had not used it within
   * `knownDays` (see createSessionOnDeviceSql). Whether it alerted.
   */
  async createOnDevice(
    userId: string,
    client: ClientInfo,
    expiresAt: Date,
    refreshTokenHash: string,
    how: Omit<Assurance, 'authTime'>,
    device: { hash: string; alert: Record<string, unknown>; knownDays: number },
    alongside?: SessionAlongside,
  ): Promise<{ id: string; assurance: Assurance; alerted: boolean }> {
    const further = furtherItems(alongside, 11);
    const rows = await this.hot.query<{ id: string; auth_time: Date; alerted: boolean }>(
      createSessionOnDeviceSql(further.sql),
      [
        ...newSessionValues(userId, client, expiresAt, refreshTokenHash, how),
        device.hash,
        JSON.stringify(device.alert),
        device.knownDays,
        ...further.values,
      ],
    );
    return {
      id: rows[0].id,
      assurance: { ...how, authTime: rows[0].auth_time },
      alerted: rows[0].alerted,
    };
  }

  /**
   * The user a still-valid session belongs to, checked on every authenticated
   * request: null when the session is revoked or expired, or the user is
   * disabled or gone. One round trip, plain SQL (no query builder or entity
   * hydration on the hot path). Checks that arrive while earlier ones are
   * running go together in the next statement (`BatchedLookup`): under load
   * one round trip answers many requests, and none is answered by a
   * statement sent before it arrived, so a sign-out is still seen at once.
   */
  async findActiveSessionUser(sessionId: string, userId: string): Promise<UserEntity | null> {
    if (!UUID.test(sessionId) || !UUID.test(userId)) {
      return null;
    }
    const row = await this.sessionChecks.load({ sessionId, userId });
    return row ? userFromRow(row) : null;
  }

  private async fetchSessionUsers(keys: SessionKey[]): Promise<Map<string, UserRow>> {
    const rows = await this.hot.query<UserRow & { session_id: string }>(SESSION_USERS_SQL, [
      keys.map((key) => key.sessionId),
    ]);
    return new Map(
      rows.map((row) => [sessionKeyId({ sessionId: row.session_id, userId: row.id }), row]),
    );
  }

  /**
   * The common refresh (a live token of a live session), in one statement;
   * null when that is not the case: the token is unknown or spent, or its
   * session ended, which the caller's locked path sorts out. Refreshes that
   * arrive while one runs go together in the next statement (one commit for
   * all); the same token presented twice there is spent once, and both
   * presentations get its successor.
   */
  async rotateLive(
    tokenHash: string,
    successorHash: string,
  ): Promise<{ sessionId: string; user: UserEntity; assurance: Assurance } | null> {
    const row = await this.rotations.load({ tokenHash, successorHash });
    return row
      ? { sessionId: row.session_id, user: userFromRow(row), assurance: assuranceOf(row) }
      : null;
  }

  private async rotateMany(rotations: Rotation[]): Promise<Map<string, RotatedRow>> {
    const run = async (some: Rotation[]) =>
      this.hot.queryReplanned<RotatedRow>(ROTATE_LIVE_SQL, [
        some.map((rotation) => rotation.tokenHash),
        some.map((rotation) => rotation.successorHash),
        new Date(),
      ]);
    let rows: RotatedRow[];
    try {
      rows = await run(rotations);
    } catch (error) {
      // A statement over several sessions can meet a transaction that locks
      // their rows in another order (an account deleted with two of its
      // sessions in the batch: PostgreSQL ends one of the two as a deadlock).
      // Each rotation alone cannot, so they are retried one by one.
      if (rotations.length === 1 || !isRetryable(error)) {
        throw error;
      }
      rows = (await Promise.all(rotations.map((rotation) => run([rotation])))).flat();
    }
    return new Map(rows.map((row) => [row.presented_hash, row]));
  }

  async lockByRefreshTokenHash(tokenHash: string): Promise<LockedRefreshToken | null> {
    const token = await this.manager.findOneBy(RefreshTokenEntity, { tokenHash });
    if (!token) {
      return null;
    }
    // Concurrent rotations of one session queue on this row lock, so the chain never forks.
    const session = await this.manager
      .createQueryBuilder(SessionEntity, 's')
      .setLock('pessimistic_write')
      .where('s.id = :id', { id: token.sessionId })
      .getOne();
    if (!session) {
      return null;
    }
    const live = await this.manager.findOneBy(RefreshTokenEntity, {
      sessionId: session.id,
      spentAt: IsNull(),
    });
    // Re-read under the lock: a rotation that committed while we waited has spent it.
    const current =
      live?.id === token.id
        ? live
        : await this.manager.findOneBy(RefreshTokenEntity, { id: token.id });
    return current ? { token: current, session, live } : null;
  }

  async rotate(spent: RefreshTokenEntity, successorHash: string, at: Date): Promise<void> {
    await this.manager.update(RefreshTokenEntity, { id: spent.id }, { spentAt: at });
    await this.manager.insert(RefreshTokenEntity, {
      sessionId: spent.sessionId,
      tokenHash: successorHash,
      generation: spent.generation + 1,
    });
    await this.manager.update(SessionEntity, { id: spent.sessionId }, { lastUsedAt: at });
  }

  /**
   * A live session of this user, signed in since `notBefore` (a recent
   * sign-in, for sensitive changes).
   */
  async isSignedInSince(sessionId: string, userId: string, notBefore: Date): Promise<boolean> {
    const rows: unknown[] = await this.manager.query(
      `SELECT 1 FROM sessions
        WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now()
          AND auth_time >= $3`,
      [sessionId, userId, notBefore],
    );
    return rows.length > 0;
  }

  /** Raises a session to two factors (one was just added in it): its next tokens carry it. */
  async elevate(sessionId: string, factor: AuthMethodRef): Promise<void> {
    await this.manager.query(
      `UPDATE sessions
          SET amr = CASE WHEN $2 = ANY(amr) THEN amr ELSE array_append(amr, $2::text) END,
              aal = 'aal2'
        WHERE id = $1`,
      [sessionId, factor],
    );
  }

  async touch(sessionId: string, at: Date): Promise<void> {
    await this.manager.update(SessionEntity, { id: sessionId }, { lastUsedAt: at });
  }

  /** Revokes one session of a user; false when it is not theirs or already ended. */
  async revoke(sessionId: string, userId: string, reason: string): Promise<boolean> {
    const result = await this.manager.update(
      SessionEntity,
      { id: sessionId, userId, revokedAt: IsNull() },
      { revokedAt: () => 'now()', revokedReason: reason },
    );
    return (result.affected ?? 0) > 0;
  }

  /** Revokes every active session of a user, but `keepSessionId` when given. */
  async revokeAll(userId: string, reason: string, keepSessionId?: string): Promise<number> {
    const query = this.manager
      .createQueryBuilder()
      .update(SessionEntity)
      .set({ revokedAt: () => 'now()', revokedReason: reason })
      .where('user_id = :userId AND revoked_at IS NULL', { userId });
    if (keepSessionId) {
      query.andWhere('id <> :keepSessionId', { keepSessionId });
    }
    const result = await query.execute();
    return result.affected ?? 0;
  }

  /**
   * A user's live sessions, most recently used first. A refresh does not write
   * to its session row (one write fewer on the hottest write path): its last
   * use is when its live refresh token was made, or the session's own
   * `last_used_at` (sign-in, a retry within the grace window), whichever is later.
   */
  async listActive(userId: string): Promise<SessionEntity[]> {
    const rows: Array<{
      id: string;
      user_agent: string | null;
      ip: string | null;
      created_at: Date;
      last_used: Date;
    }> = await this.manager.query(LIST_ACTIVE_SQL, [userId]);
    return rows.map((row) => {
      const session = new SessionEntity();
      session.id = row.id;
      session.userId = userId;
      session.userAgent = row.user_agent;
      session.ip = row.ip;
      session.createdAt = row.created_at;
      session.lastUsedAt = row.last_used;
      return session;
    });
  }
}

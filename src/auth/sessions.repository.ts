import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager, IsNull, MoreThan } from 'typeorm';
import type { ClientInfo } from '../common/decorators/client-info.decorator';
import { UserEntity } from '../users/user.entity';
import { RefreshTokenEntity } from './refresh-token.entity';
import { SessionEntity } from './session.entity';

/** A refresh token found by its hash, with its session locked for the rest of the transaction. */
export interface LockedRefreshToken {
  token: RefreshTokenEntity;
  session: SessionEntity;
  /** The session's one unspent token, if any. */
  live: RefreshTokenEntity | null;
}

/**
 * Sessions and their refresh tokens (AuthModule's store). Methods that change
 * a rotation chain run inside `transaction`, which hands out a repository
 * bound to one database transaction.
 */
@Injectable()
export class SessionsRepository {
  constructor(@InjectEntityManager() private readonly manager: EntityManager) {}

  transaction<T>(work: (tx: SessionsRepository) => Promise<T>): Promise<T> {
    return this.manager.transaction((manager) => work(this.within(manager)));
  }

  /** This repository, bound to a transaction someone else opened. */
  within(manager: EntityManager): SessionsRepository {
    return new SessionsRepository(manager);
  }

  /** A new session and the first token of its chain. */
  async create(
    userId: string,
    client: ClientInfo,
    expiresAt: Date,
    refreshTokenHash: string,
  ): Promise<SessionEntity> {
    return this.manager.transaction(async (manager) => {
      const session = await manager.save(
        manager.create(SessionEntity, {
          userId,
          ip: client.ip,
          userAgent: client.userAgent,
          expiresAt,
        }),
      );
      await manager.insert(RefreshTokenEntity, {
        sessionId: session.id,
        tokenHash: refreshTokenHash,
        generation: 0,
      });
      return session;
    });
  }

  /**
   * The user a still-valid session belongs to, in one round trip: null when the
   * session is revoked or expired, or the user is disabled or gone.
   */
  findActiveSessionUser(sessionId: string, userId: string): Promise<UserEntity | null> {
    return this.manager
      .createQueryBuilder(UserEntity, 'u')
      .innerJoin(SessionEntity, 's', 's.user_id = u.id')
      .where('s.id = :sessionId AND u.id = :userId', { sessionId, userId })
      .andWhere('s.revoked_at IS NULL AND s.expires_at > now() AND u.disabled = false')
      .getOne();
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

  listActive(userId: string): Promise<SessionEntity[]> {
    return this.manager.find(SessionEntity, {
      where: { userId, revokedAt: IsNull(), expiresAt: MoreThan(new Date()) },
      order: { lastUsedAt: 'DESC', createdAt: 'DESC' },
    });
  }
}

import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { HotStatements } from '../../database/hot-statements';
import { returningRows } from '../../database/returning';
import { EmailVerificationEntity, PasswordResetEntity } from './account-token.entities';

/**
 * Single-use account tokens: email verification codes and password reset
 * tokens, one live of each per user. Every method takes the transaction's
 * manager, since each use reads and spends under a row lock.
 */
@Injectable()
export class AccountTokensRepository {
  /** The registration mail's statement (see HotStatements). */
  private readonly hot: HotStatements;

  constructor(@InjectEntityManager() private readonly manager: EntityManager) {
    this.hot = new HotStatements(manager);
  }

  /** Replaces the user's code (a resend supersedes the old one) and resets its attempt count. */
  async replaceVerificationCode(
    userId: string,
    codeHash: string,
    ttlSeconds: number,
    manager: EntityManager = this.manager,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO email_verifications (user_id, code_hash, attempts, expires_at)
       VALUES ($1, $2, 0, now() + make_interval(secs => $3))
       ON CONFLICT (user_id) DO UPDATE
         SET code_hash = EXCLUDED.code_hash, attempts = 0,
             expires_at = EXCLUDED.expires_at, created_at = now()`,
      [userId, codeHash, ttlSeconds],
    );
  }

  /**
   * {@link replaceVerificationCode} and the read that comes before it, in one
   * statement: only if the account `userId` still has the address `email`,
   * unverified. Returns its name (for the mail's greeting), or null when
   * nothing was written.
   */
  async replaceVerificationCodeIfUnverified(
    userId: string,
    email: string,
    codeHash: string,
    ttlSeconds: number,
  ): Promise<{ fullName: string | null } | null> {
    const rows = await this.hot.query<{ full_name: string | null }>(
      `WITH account AS (
         SELECT id, full_name FROM users
          WHERE id = $1 AND email = $2 AND NOT email_verified
       ), code AS (
         INSERT INTO email_verifications (user_id, code_hash, attempts, expires_at)
         SELECT id, $3, 0, now() + make_interval(secs => $4) FROM account
         ON CONFLICT (user_id) DO UPDATE
           SET code_hash = EXCLUDED.code_hash, attempts = 0,
               expires_at = EXCLUDED.expires_at, created_at = now()
         RETURNING user_id
       )
       SELECT account.full_name FROM account JOIN code ON code.user_id = account.id`,
      [userId, email, codeHash, ttlSeconds],
    );
    return rows.length > 0 ? { fullName: rows[0].full_name } : null;
  }

  lockVerification(
    userId: string,
    manager: EntityManager,
  ): Promise<EmailVerificationEntity | null> {
    return manager
      .createQueryBuilder(EmailVerificationEntity, 'v')
      .setLock('pessimistic_write')
      .where('v.user_id = :userId', { userId })
      .getOne();
  }

  async recordFailedVerification(userId: string, manager: EntityManager): Promise<void> {
    await manager.increment(EmailVerificationEntity, { userId }, 'attempts', 1);
  }

  async deleteVerification(userId: string, manager: EntityManager): Promise<void> {
    await manager.delete(EmailVerificationEntity, { userId });
  }

  /** Replaces the user's reset token: a newer request voids the older link. */
  async replaceResetToken(
    userId: string,
    tokenHash: string,
    ttlSeconds: number,
    manager: EntityManager = this.manager,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO password_resets (user_id, token_hash, expires_at)
       VALUES ($1, $2, now() + make_interval(secs => $3))
       ON CONFLICT (user_id) DO UPDATE
         SET token_hash = EXCLUDED.token_hash, expires_at = EXCLUDED.expires_at, created_at = now()`,
      [userId, tokenHash, ttlSeconds],
    );
  }

  findResetByTokenHash(tokenHash: string): Promise<PasswordResetEntity | null> {
    return this.manager.findOneBy(PasswordResetEntity, { tokenHash });
  }

  lockResetByTokenHash(
    tokenHash: string,
    manager: EntityManager,
  ): Promise<PasswordResetEntity | null> {
    return manager
      .createQueryBuilder(PasswordResetEntity, 'r')
      .setLock('pessimistic_write')
      .where('r.token_hash = :tokenHash', { tokenHash })
      .getOne();
  }

  async deleteReset(userId: string, manager: EntityManager): Promise<void> {
    await manager.delete(PasswordResetEntity, { userId });
  }

  /** A "this wasn't me" token of a new-device alert; expired ones go in the same statement. */
  async addSecureToken(
    userId: string,
    tokenHash: string,
    ttlSeconds: number,
    manager: EntityManager = this.manager,
  ): Promise<void> {
    await manager.query(
      `WITH pruned AS (DELETE FROM secure_account_tokens WHERE expires_at < now())
       INSERT INTO secure_account_tokens (token_hash, user_id, expires_at)
       VALUES ($1, $2, now() + make_interval(secs => $3))`,
      [tokenHash, userId, ttlSeconds],
    );
  }

  /** Spends a "this wasn't me" token; its account while it was valid. */
  async takeSecureToken(tokenHash: string, manager: EntityManager): Promise<string | null> {
    const rows = await returningRows<{ user_id: string; valid: boolean }>(
      manager,
      `DELETE FROM secure_account_tokens WHERE token_hash = $1
       RETURNING user_id, expires_at > now() AS valid`,
      [tokenHash],
    );
    return rows[0]?.valid ? rows[0].user_id : null;
  }
}

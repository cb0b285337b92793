import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { returningRows } from '../../database/returning';
import { MfaChallengeEntity, TotpAuthenticatorEntity } from './mfa.entities';

/** How long an authenticator waits for its first code before a new enrolment is needed. */
export const PENDING_TOTP_SECONDS = 600;

/**
 * The second factors' tables: TOTP authenticators, recovery codes and the
 * sign-ins waiting for their second step. Every use of a code is a
 * compare-and-set in one statement, so two requests with one code succeed once.
 */
@Injectable()
export class MfaRepository {
  constructor(@InjectEntityManager() private readonly manager: EntityManager) {}

  findTotp(userId: string, manager = this.manager): Promise<TotpAuthenticatorEntity | null> {
    return manager.findOneBy(TotpAuthenticatorEntity, { userId });
  }

  /** A new pending authenticator in place of a pending one; false when an active one exists. */
  async savePendingTotp(userId: string, secretSealed: string): Promise<boolean> {
    const rows: unknown[] = await this.manager.query(
      `INSERT INTO totp_authenticators (user_id, secret_sealed) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE
         SET secret_sealed = EXCLUDED.secret_sealed, created_at = now(),
             confirmed_at = NULL, last_used_at = NULL, last_used_step = NULL
         WHERE totp_authenticators.confirmed_at IS NULL
       RETURNING user_id`,
      [userId, secretSealed],
    );
    return rows.length > 0;
  }

  /** Activates the pending authenticator (not older than PENDING_TOTP_SECONDS) with its first code's step. */
  async confirmTotp(userId: string, step: number, manager: EntityManager): Promise<boolean> {
    const rows = await returningRows(
      manager,
      `UPDATE totp_authenticators
          SET confirmed_at = now(), last_used_at = now(), last_used_step = $2
        WHERE user_id = $1 AND confirmed_at IS NULL
          AND created_at > now() - make_interval(secs => $3)
       RETURNING user_id`,
      [userId, step, PENDING_TOTP_SECONDS],
    );
    return rows.length > 0;
  }

  /** Records the use of an active authenticator's code; false when that step (or a later one) was used already. */
  async useTotpStep(userId: string, step: number, manager = this.manager): Promise<boolean> {
    const rows = await returningRows(
      manager,
      `UPDATE totp_authenticators SET last_used_at = now(), last_used_step = $2
        WHERE user_id = $1 AND confirmed_at IS NOT NULL AND coalesce(last_used_step, -1) < $2
       RETURNING user_id`,
      [userId, step],
    );
    return rows.length > 0;
  }

  /** Removes the authenticator (active or pending) and the recovery codes; whether an active one was removed. */
  async deleteTotp(userId: string, manager: EntityManager): Promise<boolean> {
    const rows = await returningRows<{ active: boolean }>(
      manager,
      `DELETE FROM totp_authenticators WHERE user_id = $1
       RETURNING confirmed_at IS NOT NULL AS active`,
      [userId],
    );
    await manager.query(`DELETE FROM recovery_codes WHERE user_id = $1`, [userId]);
    return rows.some((row) => row.active);
  }

  /** Replaces every recovery code of the user: the older ones are void. */
  async replaceRecoveryCodes(
    userId: string,
    codeHashes: string[],
    manager: EntityManager,
  ): Promise<void> {
    await manager.query(`DELETE FROM recovery_codes WHERE user_id = $1`, [userId]);
    await manager.query(
      `INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, unnest($2::text[])`,
      [userId, codeHashes],
    );
  }

  /** Spends an unused recovery code; false when there is none with this hash. */
  async useRecoveryCode(
    userId: string,
    codeHash: string,
    manager = this.manager,
  ): Promise<boolean> {
    const rows = await returningRows(
      manager,
      `UPDATE recovery_codes SET used_at = now()
        WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL
       RETURNING id`,
      [userId, codeHash],
    );
    return rows.length > 0;
  }

  async countRecoveryCodesLeft(userId: string, manager = this.manager): Promise<number> {
    const rows: Array<{ left: number | string }> = await manager.query(
      `SELECT count(*)::int AS left FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL`,
      [userId],
    );
    return Number(rows[0].left);
  }

  /**
   * A sign-in waiting for its second step. Finished and expired ones of the
   * user go (and, now and then, everyone's long expired ones), so the table
   * holds little more than the sign-ins in progress.
   */
  async openChallenge(
    challenge: Pick<MfaChallengeEntity, 'userId' | 'tokenHash' | 'method' | 'amr'>,
    ttlSeconds: number,
  ): Promise<void> {
    await this.manager.query(
      `DELETE FROM mfa_challenges
        WHERE (user_id = $1 AND (expires_at <= now() OR spent_at IS NOT NULL))
           OR expires_at < now() - interval '1 day'`,
      [challenge.userId],
    );
    await this.manager.query(
      `INSERT INTO mfa_challenges (user_id, token_hash, method, amr, expires_at)
       VALUES ($1, $2, $3, $4::text[], now() + make_interval(secs => $5))`,
      [challenge.userId, challenge.tokenHash, challenge.method, challenge.amr, ttlSeconds],
    );
  }

  findChallenge(tokenHash: string): Promise<MfaChallengeEntity | null> {
    return this.manager.findOneBy(MfaChallengeEntity, { tokenHash });
  }

  /** The challenge, locked until the transaction ends: its codes are checked one at a time. */
  lockChallenge(id: string, manager: EntityManager): Promise<MfaChallengeEntity | null> {
    return manager
      .createQueryBuilder(MfaChallengeEntity, 'c')
      .setLock('pessimistic_write')
      .where('c.id = :id', { id })
      .getOne();
  }

  async recordChallengeFailure(id: string, manager: EntityManager): Promise<void> {
    await manager.increment(MfaChallengeEntity, { id }, 'failures', 1);
  }

  async spendChallenge(id: string, manager: EntityManager): Promise<void> {
    await manager.update(MfaChallengeEntity, { id }, { spentAt: () => 'now()' });
  }

  /** Every pending second step of a user ends (a factor was removed). */
  async deleteChallenges(userId: string, manager: EntityManager): Promise<void> {
    await manager.delete(MfaChallengeEntity, { userId });
  }
}

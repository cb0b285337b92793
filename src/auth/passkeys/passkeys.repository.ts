import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { returningRows } from '../../database/returning';
import { type ChallengePurpose, PasskeyEntity, WebAuthnChallengeEntity } from './passkey.entities';

/** A challenge as issued: what for, and bound to what. */
export type IssuedChallenge = Pick<
  WebAuthnChallengeEntity,
  'challenge' | 'purpose' | 'userId' | 'sessionId' | 'mfaChallengeId'
>;

/** A new passkey as verified, before it has an id. */
export type NewPasskey = Pick<
  PasskeyEntity,
  | 'userId'
  | 'credentialId'
  | 'publicKey'
  | 'transports'
  | 'deviceType'
  | 'backedUp'
  | 'aaguid'
  | 'name'
> & { counter: number };

/**
 * The passkeys and the WebAuthn challenges. A challenge is taken by its
 * first presentation, in one statement (DELETE … RETURNING): two requests
 * with one challenge, on any instances, get it once.
 */
@Injectable()
export class PasskeysRepository {
  constructor(@InjectEntityManager() private readonly manager: EntityManager) {}

  /** Stores a challenge for `ttlSeconds`; challenges expired for a minute go in the same statement. */
  async issueChallenge(challenge: IssuedChallenge, ttlSeconds: number): Promise<void> {
    await this.manager.query(
      `WITH pruned AS (
         DELETE FROM webauthn_challenges WHERE expires_at < now() - interval '1 minute'
       )
       INSERT INTO webauthn_challenges
         (challenge, purpose, user_id, session_id, mfa_challenge_id, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
      [
        challenge.challenge,
        challenge.purpose,
        challenge.userId,
        challenge.sessionId,
        challenge.mfaChallengeId,
        ttlSeconds,
      ],
    );
  }

  /** Spends the challenge, whatever it was issued for; what it was issued for, while it was valid. */
  async takeChallenge(challenge: string, manager = this.manager): Promise<IssuedChallenge | null> {
    const rows = await returningRows<{
      purpose: ChallengePurpose;
      user_id: string | null;
      session_id: string | null;
      mfa_challenge_id: string | null;
      valid: boolean;
    }>(
      manager,
      `DELETE FROM webauthn_challenges WHERE challenge = $1
       RETURNING purpose, user_id, session_id, mfa_challenge_id, expires_at > now() AS valid`,
      [challenge],
    );
    const row = rows[0];
    return row?.valid
      ? {
          challenge,
          purpose: row.purpose,
          userId: row.user_id,
          sessionId: row.session_id,
          mfaChallengeId: row.mfa_challenge_id,
        }
      : null;
  }

  listByUser(userId: string, manager = this.manager): Promise<PasskeyEntity[]> {
    return manager.find(PasskeyEntity, { where: { userId }, order: { createdAt: 'ASC' } });
  }

  count(userId: string, manager = this.manager): Promise<number> {
    return manager.countBy(PasskeyEntity, { userId });
  }

  findByCredentialId(credentialId: string, manager = this.manager): Promise<PasskeyEntity | null> {
    return manager.findOneBy(PasskeyEntity, { credentialId });
  }

  /** Stores a passkey; null when that credential is registered already (to anyone). */
  async add(passkey: NewPasskey, manager: EntityManager): Promise<PasskeyEntity | null> {
    const rows: PasskeyEntity[] = await manager.query(
      `INSERT INTO passkeys
         (user_id, credential_id, public_key, counter, transports, device_type, backed_up, aaguid, name)
       VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8, $9)
       ON CONFLICT (credential_id) DO NOTHING
       RETURNING id`,
      [
        passkey.userId,
        passkey.credentialId,
        passkey.publicKey,
        passkey.counter,
        passkey.transports,
        passkey.deviceType,
        passkey.backedUp,
        passkey.aaguid,
        passkey.name,
      ],
    );
    return rows[0] ? manager.findOneBy(PasskeyEntity, { id: rows[0].id }) : null;
  }

  /** Renames one of the user's passkeys; null when the user has none with this id. */
  async rename(userId: string, id: string, name: string): Promise<PasskeyEntity | null> {
    const result = await this.manager.update(PasskeyEntity, { id, userId }, { name });
    return result.affected ? this.manager.findOneBy(PasskeyEntity, { id }) : null;
  }

  /** One of the user's passkeys, locked until `manager`'s transaction ends. */
  lock(userId: string, id: string, manager: EntityManager): Promise<PasskeyEntity | null> {
    return manager
      .createQueryBuilder(PasskeyEntity, 'p')
      .setLock('pessimistic_write')
      .where('p.id = :id AND p.user_id = :userId', { id, userId })
      .getOne();
  }

  async remove(id: string, manager: EntityManager): Promise<void> {
    await manager.delete(PasskeyEntity, { id });
  }

  async removeAll(userId: string, manager: EntityManager): Promise<void> {
    await manager.delete(PasskeyEntity, { userId });
  }

  /**
   * Records a use with its signature counter: a compare-and-set, so a
   * counter that did not move forward (a cloned authenticator racing the
   * real one) is refused. Authenticators without a counter always send 0.
   */
  async recordUse(
    id: string,
    counter: number,
    backedUp: boolean,
    manager = this.manager,
  ): Promise<boolean> {
    const rows = await returningRows(
      manager,
      `UPDATE passkeys SET counter = $2, backed_up = $3, last_used_at = now()
        WHERE id = $1 AND (counter < $2 OR ($2 = 0 AND counter = 0))
       RETURNING id`,
      [id, counter, backedUp],
    );
    return rows.length > 0;
  }
}

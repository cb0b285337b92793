import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { UserEntity } from '../../users/user.entity';
import { MfaChallengeEntity } from '../mfa/mfa.entities';
import { SessionEntity } from '../sessions/session.entity';

/**
 * A passkey: a WebAuthn credential of one account. Only the public key is
 * here; the private key never leaves the authenticator.
 */
@Entity('passkeys')
@Index('passkeys_credential_id_key', ['credentialId'], { unique: true })
@Index('passkeys_user_id_idx', ['userId'])
export class PasskeyEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'passkeys_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'passkeys_user_id_fkey' })
  user?: UserEntity;

  /** The credential ID, base64url, as the browser names it. */
  @Column({ name: 'credential_id', type: 'varchar', length: 1400 })
  credentialId: string;

  /** The COSE public key. */
  @Column({ name: 'public_key', type: 'bytea' })
  publicKey: Buffer;

  /** The last signature counter seen (0 for authenticators that keep none, as synced passkeys). */
  @Column({ type: 'bigint', default: 0 })
  counter: string;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  transports: string[];

  /** `singleDevice` or `multiDevice` (may be synced). */
  @Column({ name: 'device_type', type: 'varchar', length: 16 })
  deviceType: string;

  @Column({ name: 'backed_up', type: 'boolean', default: false })
  backedUp: boolean;

  /** The authenticator model's AAGUID (all zeros when it tells none). */
  @Column({ type: 'varchar', length: 36 })
  aaguid: string;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;
}

/** What a WebAuthn challenge was issued for; it is accepted for that alone. */
export type ChallengePurpose = 'register' | 'login' | 'second_step';

/**
 * A WebAuthn challenge waiting for its ceremony: random, single use, short
 * lived, bound to the session adding a passkey or to the sign-in's second
 * step it belongs to. Kept here, not in a cookie, so every instance shares it.
 */
@Entity('webauthn_challenges')
@Index('webauthn_challenges_expires_at_idx', ['expiresAt'])
export class WebAuthnChallengeEntity {
  @PrimaryColumn({
    type: 'varchar',
    length: 128,
    primaryKeyConstraintName: 'webauthn_challenges_pkey',
  })
  challenge: string;

  @Column({ type: 'varchar', length: 16 })
  purpose: ChallengePurpose;

  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'webauthn_challenges_user_id_fkey' })
  user?: UserEntity;

  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId: string | null;

  @ManyToOne(() => SessionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'session_id',
    foreignKeyConstraintName: 'webauthn_challenges_session_id_fkey',
  })
  session?: SessionEntity;

  @Column({ name: 'mfa_challenge_id', type: 'uuid', nullable: true })
  mfaChallengeId: string | null;

  @ManyToOne(() => MfaChallengeEntity, { onDelete: 'CASCADE' })
  @JoinColumn({
    name: 'mfa_challenge_id',
    foreignKeyConstraintName: 'webauthn_challenges_mfa_challenge_id_fkey',
  })
  mfaChallenge?: MfaChallengeEntity;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}

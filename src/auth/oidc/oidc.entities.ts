import {
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { UserEntity } from '../../users/user.entity';

/**
 * An account's identity at another provider: the pair (provider, `sub`),
 * never the email, which is kept only to show it (and follows the
 * provider's current one).
 */
@Entity('identities')
@Index('identities_provider_subject_key', ['provider', 'subject'], { unique: true })
@Index('identities_user_provider_key', ['userId', 'provider'], { unique: true })
export class IdentityEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'identities_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'identities_user_id_fkey' })
  user?: UserEntity;

  @Column({ type: 'varchar', length: 32 })
  provider: string;

  @Column({ type: 'varchar', length: 255 })
  subject: string;

  @Column({ type: 'varchar', length: 320, nullable: true })
  email: string | null;

  @Column({ name: 'linked_at', type: 'timestamptz', default: () => 'now()' })
  linkedAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;
}

/**
 * A trip to a provider, from the authorize redirect to its callback: the
 * state (as a hash), the browser that started it (a hash of its cookie),
 * the nonce and PKCE verifier the callback checks, where the browser goes
 * afterwards, and the account to link for a link flow. Spent by the callback.
 */
@Entity('oidc_flows')
@Index('oidc_flows_expires_at_idx', ['expiresAt'])
export class OidcFlowEntity {
  @PrimaryColumn({
    name: 'state_hash',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'oidc_flows_pkey',
  })
  stateHash: string;

  @Column({ name: 'browser_hash', type: 'varchar', length: 64 })
  browserHash: string;

  @Column({ type: 'varchar', length: 32 })
  provider: string;

  @Column({ type: 'varchar', length: 128 })
  nonce: string;

  @Column({ name: 'code_verifier', type: 'varchar', length: 128 })
  codeVerifier: string;

  @Column({ name: 'redirect_to', type: 'text' })
  redirectTo: string;

  @Column({ name: 'link_user_id', type: 'uuid', nullable: true })
  linkUserId: string | null;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'link_user_id', foreignKeyConstraintName: 'oidc_flows_link_user_id_fkey' })
  linkUser?: UserEntity;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}

/** `code`: the one-time code a callback hands the page; `link`: a ticket that makes a flow link to its account. */
export type TicketKind = 'code' | 'link';

/** A one-time secret of a provider sign-in, as a SHA-256 hash. */
@Entity('oidc_tickets')
@Index('oidc_tickets_expires_at_idx', ['expiresAt'])
export class OidcTicketEntity {
  @PrimaryColumn({
    name: 'ticket_hash',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'oidc_tickets_pkey',
  })
  ticketHash: string;

  @Column({ type: 'varchar', length: 8 })
  kind: TicketKind;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'oidc_tickets_user_id_fkey' })
  user?: UserEntity;

  @Column({ type: 'varchar', length: 32 })
  provider: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}

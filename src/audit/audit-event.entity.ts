import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const AUDIT_TYPES = [
  'user.registered',
  'email.verified',
  'login.succeeded',
  'login.failed',
  'logout',
  'session.revoked',
  'refresh.reused',
  'password.changed',
  'password.reset',
  'user.updated',
  'user.disabled',
  'user.deleted',
  'role.changed',
  'mfa.enabled',
  'mfa.disabled',
  'mfa.reset',
  'recovery_code.used',
  'recovery_codes.regenerated',
  'passkey.added',
  'passkey.removed',
  'identity.linked',
  'identity.unlinked',
  'account.secured',
] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];
export type AuditOutcome = 'success' | 'failure';

/**
 * One security event. No foreign key to users: the trail outlives the
 * account (a deletion is itself an event). Never a password, code or token.
 */
@Entity('audit_events')
@Index('audit_events_user_id_at_idx', ['userId', 'at'])
@Index('audit_events_type_at_idx', ['type', 'at'])
@Index('audit_events_at_idx', ['at'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'audit_events_pkey' })
  id: string;

  @Column({ type: 'varchar', length: 40 })
  type: AuditType;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  at: Date;

  /** The account the event is about. */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  /** Who did it, when not the account itself (an administrator). */
  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  @Column({ type: 'varchar', length: 16 })
  outcome: AuditOutcome;

  @Column({ type: 'jsonb', nullable: true })
  detail: Record<string, unknown> | null;
}

import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type OutboxStatus = 'pending' | 'sent' | 'failed' | 'skipped';

/**
 * A mail to deliver, written in the same transaction as the change that
 * causes it. It holds no body: the message (with any code or link) is
 * composed at delivery time, so no secret ever sits here in plaintext; the
 * non-secret `payload` is erased once the mail is delivered or given up.
 */
@Entity('outbox')
@Index('outbox_due_idx', ['nextAttemptAt'], { where: "status = 'pending'" })
@Index('outbox_recipient_idx', ['recipient', 'kind', 'createdAt'])
@Index('outbox_requester_idx', ['requesterIp', 'createdAt'])
export class OutboxMailEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'outbox_pkey' })
  id: string;

  /** What to compose: each kind has a composer (the auth module registers its own). */
  @Column({ type: 'varchar', length: 40 })
  kind: string;

  @Column({ type: 'varchar', length: 254 })
  recipient: string;

  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  payload: Record<string, unknown> | null;

  /**
   * The client address of the request that caused the mail, for per-address
   * send limits: IPv4 as is, IPv6 as its /64 (`2001:db8:1:2::/64`), as the
   * request limit counts clients.
   */
  @Column({ name: 'requester_ip', type: 'varchar', length: 64, nullable: true })
  requesterIp: string | null;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: OutboxStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  /** A delivering worker's lease: until then no other worker claims the row. */
  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil: Date | null;

  @Column({ name: 'last_error', type: 'varchar', length: 200, nullable: true })
  lastError: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}

import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { SessionEntity } from './session.entity';

/**
 * One refresh token of a session's rotation chain, kept as a SHA-256 hash
 * only. Spent tokens stay so that presenting one again is recognised as reuse.
 * A partial unique index allows at most one unspent token per session.
 */
@Entity('refresh_tokens')
@Index('refresh_tokens_token_hash_key', ['tokenHash'], { unique: true })
@Index('refresh_tokens_one_live_per_session', ['sessionId'], {
  unique: true,
  where: 'spent_at IS NULL',
})
export class RefreshTokenEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'refresh_tokens_pkey' })
  id: string;

  @Column({ name: 'session_id', type: 'uuid' })
  sessionId: string;

  @ManyToOne(() => SessionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id', foreignKeyConstraintName: 'refresh_tokens_session_id_fkey' })
  session?: SessionEntity;

  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;

  /** 0 for the token issued at sign-in, +1 per rotation. */
  @Column({ type: 'integer' })
  generation: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'spent_at', type: 'timestamptz', nullable: true })
  spentAt: Date | null;
}

import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export type Role = 'user' | 'admin';

@Entity('users')
@Index('users_email_key', ['email'], { unique: true })
// Unique on lower(username): an expression index, so written in the migration, not derived.
@Index('users_username_key', { synchronize: false })
@Index('users_secret_hash_key', ['secretHash'], { unique: true })
// Trigram (GIN) indexes for the admin search, written in the migration.
@Index('users_email_trgm_idx', { synchronize: false })
@Index('users_username_trgm_idx', { synchronize: false })
@Index('users_created_at_idx', ['createdAt', 'id'])
@Check('users_email_lower_case', '"email" = lower("email")')
export class UserEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'users_pkey' })
  id: string;

  /** Stored lower-cased (a CHECK constraint holds it); null only for secret-key accounts. */
  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  /** Unique regardless of case (a unique index on lower(username)). */
  @Column({ type: 'varchar', length: 50, nullable: true })
  username: string | null;

  @Column({ name: 'full_name', type: 'varchar', length: 255, nullable: true })
  fullName: string | null;

  @Column({ name: 'image_url', type: 'varchar', length: 2048, nullable: true })
  imageUrl: string | null;

  @Column({ name: 'password_hash', type: 'text', nullable: true, select: false })
  passwordHash?: string | null;

  /** SHA-256 of the account's secret key (hex); the secret itself is shown once and never kept. */
  @Column({ name: 'secret_hash', type: 'varchar', length: 64, nullable: true, select: false })
  secretHash?: string | null;

  @Column({ name: 'email_verified', type: 'boolean', default: false })
  emailVerified: boolean;

  @Column({ type: 'text', array: true, default: () => "'{user}'" })
  roles: Role[];

  @Column({ type: 'boolean', default: false })
  disabled: boolean;

  /** True while the account has an active second factor; kept by the auth module with the factors. */
  @Column({ name: 'mfa_enabled', type: 'boolean', default: false })
  mfaEnabled: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

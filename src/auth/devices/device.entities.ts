import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { UserEntity } from '../../users/user.entity';

/**
 * A device an account signed in from in the last 90 days: a keyed hash of
 * its browser family, operating system and network, nothing else.
 */
@Entity('known_devices')
@Index('known_devices_last_seen_at_idx', ['lastSeenAt'])
export class KnownDeviceEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid', primaryKeyConstraintName: 'known_devices_pkey' })
  userId: string;

  @PrimaryColumn({
    name: 'device_hash',
    type: 'varchar',
    length: 64,
    primaryKeyConstraintName: 'known_devices_pkey',
  })
  deviceHash: string;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'known_devices_user_id_fkey' })
  user?: UserEntity;

  @Column({ name: 'last_seen_at', type: 'timestamptz', default: () => 'now()' })
  lastSeenAt: Date;
}

import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AuditEventEntity, AuditType } from './audit-event.entity';

export interface AuditFilter {
  userId?: string;
  type?: AuditType;
  from?: Date;
  to?: Date;
}

/** The audit_events table. */
@Injectable()
export class AuditRepository {
  constructor(@InjectEntityManager() private readonly manager: EntityManager) {}

  async insert(
    event: QueryDeepPartialEntity<AuditEventEntity>,
    manager: EntityManager = this.manager,
  ): Promise<void> {
    await manager.insert(AuditEventEntity, event);
  }

  /** Newest first; `total` counts every match. */
  async find(
    filter: AuditFilter,
    page: number,
    size: number,
  ): Promise<{ items: AuditEventEntity[]; total: number }> {
    const query = this.manager.createQueryBuilder(AuditEventEntity, 'e');
    if (filter.userId) {
      query.andWhere('e.user_id = :userId', { userId: filter.userId });
    }
    if (filter.type) {
      query.andWhere('e.type = :type', { type: filter.type });
    }
    if (filter.from) {
      query.andWhere('e.at >= :from', { from: filter.from });
    }
    if (filter.to) {
      query.andWhere('e.at <= :to', { to: filter.to });
    }
    const [items, total] = await query
      .orderBy('e.at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .skip((page - 1) * size)
      .take(size)
      .getManyAndCount();
    return { items, total };
  }
}

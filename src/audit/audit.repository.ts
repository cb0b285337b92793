import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { StatementParams } from '../database/statement-params';
import { AuditEventEntity, AuditOutcome, AuditType } from './audit-event.entity';

export interface AuditFilter {
  userId?: string;
  type?: AuditType;
  from?: Date;
  to?: Date;
}

/** An event's columns (the user's id comes from the statement). */
export interface NewAuditEvent {
  type: AuditType;
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
  outcome: AuditOutcome;
  detail: Record<string, unknown> | null;
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

  /**
   * A WITH item inserting the event in the statement that makes what it is
   * about: `from` names that statement's item, and `userId` and `detail` are
   * SQL expressions over it (e.g. `u.id`, `jsonb_build_object('sessionId',
   * s.id)`, merged into the event's own detail).
   */
  insertWithin(
    event: NewAuditEvent,
    params: StatementParams,
    source: { from: string; userId: string; detail?: string },
  ): string {
    const detail = `${params.add(event.detail === null ? null : JSON.stringify(event.detail))}::jsonb`;
    return `audit_event AS (
      INSERT INTO audit_events (type, user_id, actor_id, ip, user_agent, outcome, detail)
      SELECT ${params.add(event.type)}, ${source.userId}, ${params.add(event.actorId)}::uuid,
             ${params.add(event.ip)}, ${params.add(event.userAgent)}, ${params.add(event.outcome)},
             ${source.detail ? `coalesce(${detail}, '{}'::jsonb) || ${source.detail}` : detail}
      FROM ${source.from})`;
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

import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { ClientInfo } from '../common/decorators/client-info.decorator';
import type { Page } from '../common/dto/pagination.dto';
import { AuditEventEntity, AuditOutcome, AuditType } from './audit-event.entity';
import { AuditFilter, AuditRepository } from './audit.repository';

export interface AuditRecord {
  type: AuditType;
  /** The account the event is about (null for a failed sign-in of an unknown account). */
  userId: string | null;
  /** Who did it, when someone else than the account (an administrator). */
  actorId?: string | null;
  client?: ClientInfo | null;
  outcome?: AuditOutcome;
  /** Non-secret facts only: never a password, code or token. */
  detail?: Record<string, unknown>;
}

/** Writing and reading the security events. */
@Injectable()
export class AuditService {
  constructor(private readonly events: AuditRepository) {}

  /** Records an event; inside `manager`'s transaction when given, so it stands or falls with the change. */
  record(event: AuditRecord, manager?: EntityManager): Promise<void> {
    return this.events.insert(
      {
        type: event.type,
        userId: event.userId,
        actorId: event.actorId ?? null,
        ip: event.client?.ip ?? null,
        userAgent: event.client?.userAgent ?? null,
        outcome: event.outcome ?? 'success',
        detail: (event.detail ?? null) as AuditEventEntity['detail'] & object,
      },
      manager,
    );
  }

  async find(filter: AuditFilter, page: number, size: number): Promise<Page<AuditEventEntity>> {
    const { items, total } = await this.events.find(filter, page, size);
    return { items, page, size, total };
  }
}

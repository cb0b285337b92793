import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { ClientInfo } from '../common/decorators/client-info.decorator';
import type { Page } from '../common/dto/pagination.dto';
import { AuditEventEntity, AuditOutcome, AuditType } from './audit-event.entity';
import type { StatementParams } from '../database/statement-params';
import { AuditFilter, AuditRepository, type NewAuditEvent } from './audit.repository';

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

function columnsOf(event: Omit<AuditRecord, 'userId'>): NewAuditEvent {
  return {
    type: event.type,
    actorId: event.actorId ?? null,
    ip: event.client?.ip ?? null,
    userAgent: event.client?.userAgent ?? null,
    outcome: event.outcome ?? 'success',
    detail: event.detail ?? null,
  };
}

/** Writing and reading the security events. */
@Injectable()
export class AuditService {
  constructor(private readonly events: AuditRepository) {}

  /** Records an event; inside `manager`'s transaction when given, so it stands or falls with the change. */
  record(event: AuditRecord, manager?: EntityManager): Promise<void> {
    return this.events.insert(
      {
        ...columnsOf(event),
        userId: event.userId,
        detail: (event.detail ?? null) as AuditEventEntity['detail'] & object,
      },
      manager,
    );
  }

  /** The event of a new user, written by the statement that creates it (see UserAlongside). */
  recordForNewUser(event: Omit<AuditRecord, 'userId'>, params: StatementParams): string {
    return this.events.insertWithin(columnsOf(event), params, { from: 'u', userId: 'u.id' });
  }

  /**
   * The event of a new session, written by the statement that creates it
   * (the session `s`): its detail gets the session's id.
   */
  recordForNewSession(event: AuditRecord, params: StatementParams): string {
    return this.events.insertWithin(columnsOf(event), params, {
      from: 's',
      userId: `${params.add(event.userId)}::uuid`,
      detail: `jsonb_build_object('sessionId', s.id)`,
    });
  }

  async find(filter: AuditFilter, page: number, size: number): Promise<Page<AuditEventEntity>> {
    const { items, total } = await this.events.find(filter, page, size);
    return { items, page, size, total };
  }
}

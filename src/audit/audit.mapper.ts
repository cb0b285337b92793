import type { AuditEventEntity } from './audit-event.entity';
import type { ActivityItemDto, AuditItemDto } from './dto/audit.dto';

export function toActivityItem(event: AuditEventEntity): ActivityItemDto {
  return {
    type: event.type,
    at: event.at.toISOString(),
    ip: event.ip,
    userAgent: event.userAgent,
    outcome: event.outcome,
  };
}

export function toAuditItem(event: AuditEventEntity): AuditItemDto {
  return {
    id: event.id,
    ...toActivityItem(event),
    userId: event.userId,
    detail: event.actorId ? { ...(event.detail ?? {}), actorId: event.actorId } : event.detail,
  };
}

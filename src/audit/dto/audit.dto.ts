import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateString, IsIn, IsOptional, IsUUID } from 'class-validator';
import { PageMetaDto, PageQueryDto } from '../../common/dto/pagination.dto';
import { AUDIT_TYPES, type AuditType } from '../audit-event.entity';

export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  userId?: string;

  @ApiPropertyOptional({ enum: AUDIT_TYPES })
  @IsOptional()
  @IsIn(AUDIT_TYPES)
  type?: AuditType;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events at or after this time.' })
  @IsOptional()
  @IsDateString({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Events at or before this time.' })
  @IsOptional()
  @IsDateString({ strict: true })
  to?: string;
}

export class ActivityItemDto {
  @ApiProperty({ enum: AUDIT_TYPES, example: 'login.succeeded' })
  type: string;

  @ApiProperty({ format: 'date-time' })
  at: string;

  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  ip: string | null;

  @ApiProperty({ type: String, nullable: true })
  userAgent: string | null;

  @ApiProperty({ enum: ['success', 'failure'] })
  outcome: string;
}

export class AuditItemDto extends ActivityItemDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ type: String, nullable: true, format: 'uuid' })
  userId: string | null;

  @ApiProperty({
    type: 'object',
    nullable: true,
    additionalProperties: true,
    description:
      'Non-secret facts about the event (reason, changed fields, roles, the acting admin).',
  })
  detail: Record<string, unknown> | null;
}

export class ActivityPageDto extends PageMetaDto {
  @ApiProperty({ type: [ActivityItemDto] })
  items: ActivityItemDto[];
}

export class AuditPageDto extends PageMetaDto {
  @ApiProperty({ type: [AuditItemDto] })
  items: AuditItemDto[];
}

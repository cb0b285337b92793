import { Module } from '@nestjs/common';
import { ActivityController } from './activity.controller';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

@Module({
  controllers: [ActivityController],
  providers: [AuditService, AuditRepository],
  exports: [AuditService],
})
export class AuditModule {}

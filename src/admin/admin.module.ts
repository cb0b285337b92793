import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { UsersModule } from '../users/users.module';
import { AdminBootstrapService } from './admin-bootstrap.service';
import { AdminUsersController } from './admin-users.controller';
import { AdminService } from './admin.service';
import { AuditController } from './audit.controller';

/** Operator routes and tools, on top of users, auth and audit. */
@Module({
  imports: [AuthModule, UsersModule, AuditModule],
  controllers: [AdminUsersController, AuditController],
  providers: [AdminService, AdminBootstrapService],
  exports: [AdminService],
})
export class AdminModule {}

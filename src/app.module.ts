import { APP_SCHEMA } from './app.entities';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AdminModule } from './admin/admin.module';
import { AuthModule } from './auth/auth.module';
import { JwtAuthGuard } from './auth/tokens/jwt-auth.guard';
import { RolesGuard } from './auth/roles/roles.guard';
import { ProblemDetailsFilter } from './common/filters/problem-details.filter';
import { ContentTypeGuard } from './common/guards/content-type.guard';
import { createValidationPipe } from './common/validation';
import { appConfig } from './config/configuration';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { UsersModule } from './users/users.module';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [appConfig] }),
    LoggingModule,
    DatabaseModule.forRoot(APP_SCHEMA),
    MetricsModule,
    RateLimitModule,
    UsersModule,
    AuthModule,
    AdminModule,
    HealthModule,
  ],
  providers: [
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: ProblemDetailsFilter },
    // Global guards run in this order: the media type, the bearer token, the roles.
    { provide: APP_GUARD, useClass: ContentTypeGuard },
    { provide: APP_GUARD, useExisting: JwtAuthGuard },
    { provide: APP_GUARD, useExisting: RolesGuard },
  ],
})
export class AppModule {}

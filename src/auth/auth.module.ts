import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { type AppConfig, appConfig } from '../config/configuration';
import { AuditModule } from '../audit/audit.module';
import { MailModule } from '../mail/mail.module';
import { UsersModule } from '../users/users.module';
import { AccountMailService } from './account-mail.service';
import { AccountTokensRepository } from './account-tokens.repository';
import { EmailVerificationService } from './email-verification.service';
import { PasswordResetService } from './password-reset.service';
import { AccountController } from './account.controller';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtAuthGuard } from './guards/jwt-auth.guard';
import { RolesGuard } from './guards/roles.guard';
import { PasswordsService } from './passwords.service';
import { RefreshTokenEntity } from './refresh-token.entity';
import { SessionEntity } from './session.entity';
import { SessionsRepository } from './sessions.repository';
import { JwtStrategy } from './strategies/jwt.strategy';
import { LocalStrategy } from './strategies/local.strategy';
import { TokensService } from './tokens.service';
import { WellKnownController } from './well-known.controller';
import { AccessTokenCodec } from './access-token-codec';

@Module({
  imports: [
    UsersModule,
    MailModule,
    AuditModule,
    PassportModule,
    TypeOrmModule.forFeature([SessionEntity, RefreshTokenEntity]),
  ],
  controllers: [AuthController, AccountController, WellKnownController],
  providers: [
    {
      provide: AccessTokenCodec,
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) =>
        new AccessTokenCodec(config.jwt.algorithm, config.jwt.keys, {
          issuer: config.jwt.issuer,
          audience: config.jwt.audience,
          ttl: config.jwt.accessTtl,
        }),
    },
    AuthService,
    EmailVerificationService,
    PasswordResetService,
    AccountMailService,
    AccountTokensRepository,
    PasswordsService,
    TokensService,
    SessionsRepository,
    LocalStrategy,
    JwtStrategy,
    JwtAuthGuard,
    RolesGuard,
  ],
  exports: [JwtAuthGuard, RolesGuard, AuthService, PasswordsService, PasswordResetService],
})
export class AuthModule {}

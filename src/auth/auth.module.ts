import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
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
import { secretKeyOnce, TokensService } from './tokens.service';

@Module({
  imports: [
    UsersModule,
    MailModule,
    AuditModule,
    PassportModule,
    TypeOrmModule.forFeature([SessionEntity, RefreshTokenEntity]),
    JwtModule.registerAsync({
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => ({
        // A KeyObject made once: given a string, jsonwebtoken first tries to
        // parse it as a PEM public key on every call, and that failure cost a
        // third of a profile read's CPU.
        secretOrKeyProvider: secretKeyOnce(config.jwt.secret),
        signOptions: {
          algorithm: 'HS256',
          expiresIn: config.jwt.accessTtl,
          issuer: config.jwt.issuer,
          audience: config.jwt.audience,
        },
        verifyOptions: {
          algorithms: ['HS256'],
          issuer: config.jwt.issuer,
          audience: config.jwt.audience,
        },
      }),
    }),
  ],
  controllers: [AuthController, AccountController],
  providers: [
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
  exports: [JwtAuthGuard, RolesGuard, AuthService, PasswordsService],
})
export class AuthModule {}

import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { appConfig } from '../config/configuration';
import { AuditModule } from '../audit/audit.module';
import { MailModule } from '../mail/mail.module';
import { UsersModule } from '../users/users.module';
import { AccountController } from './account/account.controller';
import { AccountService } from './account/account.service';
import { ReauthenticationService } from './account/reauthentication.service';
import { SignInMethodsService } from './account/sign-in-methods.service';
import { MfaChallengesService } from './mfa/mfa-challenges.service';
import { MfaController } from './mfa/mfa.controller';
import {
  MfaChallengeEntity,
  RecoveryCodeEntity,
  TotpAuthenticatorEntity,
} from './mfa/mfa.entities';
import { MfaRepository } from './mfa/mfa.repository';
import { MfaService } from './mfa/mfa.service';
import { PasskeyEntity, WebAuthnChallengeEntity } from './passkeys/passkey.entities';
import { PasskeysController } from './passkeys/passkeys.controller';
import { PasskeysRepository } from './passkeys/passkeys.repository';
import { PasskeysService } from './passkeys/passkeys.service';
import { IdentitiesController } from './oidc/identities.controller';
import { OidcController } from './oidc/oidc.controller';
import { IdentityEntity, OidcFlowEntity, OidcTicketEntity } from './oidc/oidc.entities';
import { OidcRepository } from './oidc/oidc.repository';
import { OidcService } from './oidc/oidc.service';
import { OidcProvidersService } from './oidc/oidc-providers.service';
import { OAuthController } from './oauth/oauth.controller';
import { OAuthService } from './oauth/oauth.service';
import { PasswordsService } from './passwords/passwords.service';
import { AccountMailService } from './recovery/account-mail.service';
import { AccountTokensRepository } from './recovery/account-tokens.repository';
import { EmailVerificationService } from './recovery/email-verification.service';
import { PasswordResetService } from './recovery/password-reset.service';
import { RecoveryController } from './recovery/recovery.controller';
import { SecureAccountService } from './recovery/secure-account.service';
import { DevicesService } from './devices/devices.service';
import { RolesGuard } from './roles/roles.guard';
import { RefreshCookieInterceptor } from './sessions/refresh-cookie.interceptor';
import { RefreshTokenEntity } from './sessions/refresh-token.entity';
import { SessionEntity } from './sessions/session.entity';
import { SessionsController } from './sessions/sessions.controller';
import { SessionsRepository } from './sessions/sessions.repository';
import { SessionsService } from './sessions/sessions.service';
import { LocalStrategy } from './sign-in/local.strategy';
import { PasskeySignInController } from './sign-in/passkey-sign-in.controller';
import { SecondStepController } from './sign-in/second-step.controller';
import { SignInController } from './sign-in/sign-in.controller';
import { SignInService } from './sign-in/sign-in.service';
import { JwtAuthGuard } from './tokens/jwt-auth.guard';
import { jwtModuleOptions } from './tokens/jwt.options';
import { JwtStrategy } from './sessions/jwt.strategy';
import { TokensService } from './tokens/tokens.service';
import { WellKnownController } from './tokens/well-known.controller';

/**
 * Credentials and sessions, a room per concern: sign-in/ (the ways in),
 * sessions/ (refresh rotation, sign-out), tokens/ (JWTs, keys, JWKS),
 * oauth/ (RFC 6749's token endpoint), passwords/ (hashing, policy),
 * recovery/ (email verification, password reset, their mails), account/
 * (the credential routes under /users/me, re-authentication, the ways in),
 * mfa/ (second factors and the sign-ins waiting for one), passkeys/
 * (WebAuthn credentials and ceremonies), oidc/ (other providers), devices/
 * (known devices, the new-device check) and roles/.
 */
@Module({
  imports: [
    UsersModule,
    MailModule,
    AuditModule,
    PassportModule,
    JwtModule.registerAsync({ inject: [appConfig.KEY], useFactory: jwtModuleOptions }),
    TypeOrmModule.forFeature([
      SessionEntity,
      RefreshTokenEntity,
      TotpAuthenticatorEntity,
      RecoveryCodeEntity,
      MfaChallengeEntity,
      PasskeyEntity,
      WebAuthnChallengeEntity,
      IdentityEntity,
      OidcFlowEntity,
      OidcTicketEntity,
    ]),
  ],
  controllers: [
    SignInController,
    SecondStepController,
    PasskeySignInController,
    SessionsController,
    OAuthController,
    RecoveryController,
    AccountController,
    WellKnownController,
    MfaController,
    PasskeysController,
    OidcController,
    IdentitiesController,
  ],
  providers: [
    SignInService,
    SessionsService,
    OAuthService,
    AccountService,
    ReauthenticationService,
    SignInMethodsService,
    MfaService,
    MfaChallengesService,
    MfaRepository,
    PasskeysService,
    PasskeysRepository,
    OidcService,
    OidcProvidersService,
    OidcRepository,
    EmailVerificationService,
    PasswordResetService,
    SecureAccountService,
    DevicesService,
    AccountMailService,
    AccountTokensRepository,
    PasswordsService,
    TokensService,
    SessionsRepository,
    RefreshCookieInterceptor,
    LocalStrategy,
    JwtStrategy,
    JwtAuthGuard,
    RolesGuard,
  ],
  exports: [
    JwtAuthGuard,
    RolesGuard,
    SessionsService,
    PasswordsService,
    PasswordResetService,
    MfaService,
  ],
})
export class AuthModule {}

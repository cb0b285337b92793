import { Injectable } from '@nestjs/common';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { AuditService } from '../../audit/audit.service';
import type { ClientInfo } from '../../common/decorators/client-info.decorator';
import { ProblemException } from '../../common/problem';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import { OutboxService } from '../../mail/outbox.service';
import { MetricsService, type SignInMethod } from '../../metrics/metrics.service';
import { AttemptLimiter } from '../../rate-limit/attempt-limiter.service';
import { UserEntity } from '../../users/user.entity';
import { UsersService } from '../../users/users.service';
import { PasswordsService } from '../passwords/passwords.service';
import { ACCOUNT_MAIL } from '../recovery/account-mail.service';
import { MfaChallengesService, type SecondFactorProof } from '../mfa/mfa-challenges.service';
import { DevicesService } from '../devices/devices.service';
import { passkeyAmr, PasskeysService } from '../passkeys/passkeys.service';
import { TokenPairDto } from '../sessions/dto/token-pair.dto';
import { type Authentication, SessionsService } from '../sessions/sessions.service';
import { TokensService } from '../tokens/tokens.service';
import { RegisterDto } from './dto/register.dto';
import { SecretAccountDto } from './dto/secret.dto';
import { signInSubject } from '../../rate-limit/sign-in-subject';

export const invalidCredentials = () =>
  new ProblemException('invalid_credentials', 'The email, username, password or secret is wrong.');
const accountDisabled = () => new ProblemException('account_disabled', 'This account is disabled.');

/** One factor: something the user knows (RFC 8176 `pwd` covers a password and a secret key). */
export const BY_PASSWORD: Authentication = { method: 'password', amr: ['pwd'], aal: 'aal1' };
export const BY_SECRET: Authentication = { method: 'secret', amr: ['pwd'], aal: 'aal1' };

/**
 * The ways in: registration, password and secret-key sign-in, and the second
 * step. Every sign-in ends in `complete`, the gate: one factor is not enough
 * for an account with a second one.
 */
@Injectable()
export class SignInService {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordsService,
    private readonly tokens: TokensService,
    private readonly sessions: SessionsService,
    private readonly outbox: OutboxService,
    private readonly audit: AuditService,
    private readonly limiter: AttemptLimiter,
    @InjectAppConfig() private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly challenges: MfaChallengesService,
    private readonly passkeys: PasskeysService,
    private readonly devices: DevicesService,
  ) {}

  /**
   * Creates the account, queues its verification code, records the event
   * and the device in one statement: the mail exists exactly when the account
   * does, and a slow or failing mail server never fails (or delays) the
   * registration. This mail does not count toward the per-address mail limit
   * (registration has limits of its own), so a new user can ask for a new
   * code or a reset link straight away.
   */
  async register(dto: RegisterDto, client: ClientInfo): Promise<UserEntity> {
    this.passwords.assertStrong(dto.password, dto);
    const passwordHash = await this.passwords.hash(dto.password);
    const user = await this.users.create(
      {
        email: dto.email,
        username: dto.username ?? null,
        fullName: dto.fullName ?? null,
        passwordHash,
      },
      undefined,
      (params) => [
        this.outbox.addForNewUser({ kind: ACCOUNT_MAIL.verification }, params),
        this.audit.recordForNewUser({ type: 'user.registered', client }, params),
        ...this.devices.rememberForNewUser(client, params),
      ],
    );
    this.outbox.deliverSoon();
    return user;
  }

  /**
   * Where every sign-in ends, whatever its method: a session and its token
   * pair, unless the account has a second factor and this sign-in proved
   * one factor only. Then it stops with 403 `mfa_required` and an mfaToken
   * for the second step, and no token is issued.
   */
  async complete(
    user: UserEntity,
    client: ClientInfo,
    authentication: Authentication,
  ): Promise<TokenPairDto> {
    if (authentication.aal === 'aal1' && user.mfaEnabled) {
      throw await this.challenges.open(user, authentication);
    }
    return this.sessions.start(user, client, authentication);
  }

  /**
   * The second step of a sign-in: its mfaToken and the proof of a second
   * factor (a TOTP or recovery code, or a passkey). The session's `amr` is
   * the first factor's and the second's.
   */
  async completeSecondStep(
    mfaToken: string,
    second: { code?: string; passkey?: Record<string, unknown> },
    client: ClientInfo,
  ): Promise<TokenPairDto> {
    const proof: SecondFactorProof = second.passkey
      ? this.passkeys.secondStepProof(second.passkey, client)
      : this.challenges.codeProof(second.code ?? '', client);
    const passed = await this.counted(proof.method, () =>
      this.challenges.redeem(mfaToken, proof, client),
    );
    const { method, amr } = passed.factor;
    return this.complete(passed.user, client, {
      method,
      amr: [...passed.firstFactor.filter((ref) => !amr.includes(ref)), ...amr],
      aal: 'aal2',
    });
  }

  /**
   * The account behind an identifier and password. Unknown accounts cost the
   * same argon2 work as a wrong password and get the same answer; a hash made
   * with older cost parameters is replaced. Failed attempts are limited per
   * account (per identifier when it has none, counted alike) and per client
   * address and account; the check comes before any hashing.
   */
  validatePassword(identifier: string, password: string, client: ClientInfo): Promise<UserEntity> {
    return this.counted('password', () => this.checkPassword(identifier, password, client));
  }

  async registerWithSecret(username: string): Promise<SecretAccountDto> {
    const userSecret = this.tokens.newRefreshToken();
    const user = await this.users.create({
      email: null,
      username,
      fullName: null,
      secretHash: this.tokens.hash(userSecret),
    });
    return { id: user.id, username: user.username ?? username, userSecret };
  }

  async signInWithSecret(userSecret: string, client: ClientInfo): Promise<TokenPairDto> {
    const user = await this.counted('secret', () => this.checkSecret(userSecret, client));
    return this.complete(user, client, BY_SECRET);
  }

  /**
   * A passwordless sign-in with a passkey: two factors in one gesture
   * (`aal2`; `amr` hwk, plus user when the authenticator verified the
   * person). Any failure is 401 invalid_credentials, audited with why.
   */
  async signInWithPasskey(
    response: Record<string, unknown>,
    client: ClientInfo,
  ): Promise<TokenPairDto> {
    const user = await this.counted('passkey', async () => {
      const outcome = await this.passkeys.checkSignIn(response, client);
      const owner = outcome.passkey ? await this.users.findById(outcome.passkey.userId) : null;
      const refusal =
        !outcome.ok || !owner ? invalidCredentials() : owner.disabled ? accountDisabled() : null;
      if (refusal || !outcome.ok || !owner) {
        await this.audit.record({
          type: 'login.failed',
          userId: owner?.id ?? null,
          client,
          outcome: 'failure',
          detail: { method: 'passkey', reason: outcome.ok ? refusal?.code : outcome.reason },
        });
        throw refusal ?? invalidCredentials();
      }
      return { owner, userVerified: outcome.userVerified };
    });
    return this.complete(user.owner, client, {
      method: 'passkey',
      amr: passkeyAmr(user.userVerified),
      aal: 'aal2',
    });
  }

  /** Options for the second step with a passkey: the account's passkeys, for this sign-in only. */
  async secondStepPasskeyOptions(mfaToken: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const { challenge, user } = await this.challenges.pending(mfaToken);
    return this.passkeys.secondStepOptions(user.id, challenge.id);
  }

  /** Runs a sign-in check and counts its outcome: `succeeded`, or the problem code it was refused with. */
  private async counted<T>(method: SignInMethod, check: () => Promise<T>): Promise<T> {
    try {
      const result = await check();
      this.metrics.signIn(method, 'succeeded');
      return result;
    } catch (error) {
      this.metrics.signIn(method, error instanceof ProblemException ? error.code : 'error');
      throw error;
    }
  }

  private async checkPassword(
    identifier: string,
    password: string,
    client: ClientInfo,
  ): Promise<UserEntity> {
    const user = await this.users.findForPasswordSignIn(identifier);
    const attempt = await this.limiter.begin('signin', client.ip, signInSubject(user, identifier));
    const check = await this.passwords.verify(user?.passwordHash, password);
    if (check.valid) {
      await attempt.succeeded();
    }
    const refusal =
      !user || !check.valid
        ? invalidCredentials()
        : user.disabled
          ? accountDisabled()
          : this.config.requireVerifiedEmail && !user.emailVerified
            ? new ProblemException(
                'email_not_verified',
                'Confirm your email address first: enter the code we mailed you, or ask for a new one.',
              )
            : null;
    if (refusal || !user) {
      await this.recordFailure(user?.id ?? null, client, 'password', refusal, identifier);
      throw refusal ?? invalidCredentials();
    }
    if (check.needsRehash) {
      await this.users.setPasswordHash(user.id, await this.passwords.hash(password));
    }
    delete user.passwordHash;
    return user;
  }

  private async checkSecret(userSecret: string, client: ClientInfo): Promise<UserEntity> {
    // The secret is its own identifier: failures are limited per client address.
    const attempt = await this.limiter.begin('secret', client.ip, null);
    const user = await this.users.findBySecretHash(this.tokens.hash(userSecret));
    if (user) {
      await attempt.succeeded();
    }
    const refusal = !user ? invalidCredentials() : user.disabled ? accountDisabled() : null;
    if (refusal || !user) {
      await this.recordFailure(user?.id ?? null, client, 'secret', refusal);
      throw refusal ?? invalidCredentials();
    }
    return user;
  }

  private recordFailure(
    userId: string | null,
    client: ClientInfo,
    method: SignInMethod,
    refusal: ProblemException | null,
    identifier?: string,
  ): Promise<void> {
    return this.audit.record({
      type: 'login.failed',
      userId,
      client,
      outcome: 'failure',
      detail: {
        method,
        reason: refusal?.code ?? 'invalid_credentials',
        // The account names itself; otherwise only a keyed hash of what was typed.
        ...(userId === null && identifier
          ? { identifierHash: this.tokens.identifierDigest(identifier) }
          : {}),
      },
    });
  }
}

import { MetricsService, type SignInMethod } from '../metrics/metrics.service';
import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { AuthPrincipal } from '../common/auth-principal';
import type { ClientInfo } from '../common/decorators/client-info.decorator';
import { OAuthException, ProblemException } from '../common/problem';
import { fieldProblem } from '../common/validation';
import { type AppConfig, InjectAppConfig } from '../config/configuration';
import { OutboxService } from '../mail/outbox.service';
import { AttemptLimiter } from '../rate-limit/attempt-limiter.service';
import { UserEntity } from '../users/user.entity';
import { toUserResponse } from '../users/user.mapper';
import { UsersService } from '../users/users.service';
import { ChangePasswordDto, DeleteAccountDto } from './dto/account.dto';
import { RegisterDto } from './dto/register.dto';
import { SecretAccountDto } from './dto/secret.dto';
import { OAuthTokenResponseDto, SessionDto, TokenPairDto } from './dto/token-response.dto';
import { ACCOUNT_MAIL, noticeContext } from './account-mail.service';
import { PasswordResetService } from './password-reset.service';
import { PasswordsService } from './passwords.service';
import { RefreshTokenEntity } from './refresh-token.entity';
import { SessionsRepository } from './sessions.repository';
import { signInSubject } from './sign-in-subject';
import { TokensService } from './tokens.service';

/** How far along a chain a retry within the grace window may find the session's live token. */
const MAX_GRACE_STEPS = 3;

type RefreshOutcome =
  | { kind: 'rotated'; userId: string; sessionId: string; refreshToken: string }
  | { kind: 'invalid' }
  | { kind: 'reused'; userId: string; sessionId: string };

const invalidCredentials = () =>
  new ProblemException(
    HttpStatus.UNAUTHORIZED,
    'invalid_credentials',
    'The email, username, password or secret is wrong.',
  );
const accountDisabled = () =>
  new ProblemException(HttpStatus.FORBIDDEN, 'account_disabled', 'This account is disabled.');
const invalidRefreshToken = () =>
  new ProblemException(
    HttpStatus.UNAUTHORIZED,
    'invalid_refresh_token',
    'The refresh token is invalid, expired or revoked; sign in again.',
  );

/**
 * The credential flows: registration, password and secret-key sign-in,
 * sessions with rotating refresh tokens, sign-out, and the account's own
 * credential changes.
 */
@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordsService,
    private readonly tokens: TokensService,
    private readonly sessions: SessionsRepository,
    private readonly outbox: OutboxService,
    private readonly audit: AuditService,
    private readonly limiter: AttemptLimiter,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectAppConfig() private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly passwordResets: PasswordResetService,
  ) {}

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

  /**
   * Creates the account and queues its verification code in one transaction:
   * the mail exists exactly when the account does, and a slow or failing mail
   * server never fails (or delays) the registration. This mail does not count
   * toward the per-address mail limit (registration has limits of its own), so
   * a new user can ask for a new code or a reset link straight away.
   */
  async register(dto: RegisterDto, client: ClientInfo): Promise<UserEntity> {
    this.passwords.assertStrong(dto.password, dto);
    const passwordHash = await this.passwords.hash(dto.password);
    const user = await this.dataSource.transaction(async (manager) => {
      const created = await this.users.create(
        {
          email: dto.email,
          username: dto.username ?? null,
          fullName: dto.fullName ?? null,
          passwordHash,
        },
        manager,
      );
      await this.outbox.add(manager, {
        kind: ACCOUNT_MAIL.verification,
        recipient: dto.email,
        userId: created.id,
      });
      await this.audit.record({ type: 'user.registered', userId: created.id, client }, manager);
      return created;
    });
    this.outbox.deliverSoon();
    return user;
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
                HttpStatus.FORBIDDEN,
                'email_not_verified',
                'Confirm your email address first: enter the code we mailed you, or ask for a new one.',
              )
            : null;
    if (refusal || !user) {
      await this.recordFailedSignIn(user?.id ?? null, client, 'password', refusal, identifier);
      throw refusal ?? invalidCredentials();
    }
    if (check.needsRehash) {
      await this.users.setPasswordHash(user.id, await this.passwords.hash(password));
    }
    delete user.passwordHash;
    return user;
  }

  async startSession(
    user: UserEntity,
    client: ClientInfo,
    method: 'password' | 'secret',
  ): Promise<TokenPairDto> {
    const refreshToken = this.tokens.newRefreshToken();
    const expiresAt = new Date(Date.now() + this.config.refresh.ttl * 1000);
    const session = await this.sessions.create(
      user.id,
      client,
      expiresAt,
      this.tokens.hash(refreshToken),
    );
    await this.audit.record({
      type: 'login.succeeded',
      userId: user.id,
      client,
      detail: { method, sessionId: session.id },
    });
    return this.tokenPair(user, session.id, refreshToken);
  }

  /**
   * Rotates a refresh token. A spent token presented again within the grace
   * window gets the same successor (derived, never stored); later, it revokes
   * the whole session.
   */
  async refresh(refreshToken: string, client: ClientInfo): Promise<TokenPairDto> {
    // The common case, a live token: one statement.
    const tokenHash = this.tokens.hash(refreshToken);
    const successorOfLive = this.tokens.successorOf(refreshToken);
    const fast = await this.sessions.rotateLive(tokenHash, this.tokens.hash(successorOfLive));
    if (fast) {
      return this.tokenPair(fast.user, fast.sessionId, successorOfLive);
    }
    // Otherwise, under the session's lock: the grace window, reuse detection, or a refusal.
    const outcome = await this.sessions.transaction(async (tx): Promise<RefreshOutcome> => {
      const now = new Date();
      const found = await tx.lockByRefreshTokenHash(tokenHash);
      if (!found || found.session.revokedAt || found.session.expiresAt <= now) {
        return { kind: 'invalid' };
      }
      const { token, session, live } = found;
      const rotated = (successor: string): RefreshOutcome => ({
        kind: 'rotated',
        userId: session.userId,
        sessionId: session.id,
        refreshToken: successor,
      });
      if (!token.spentAt) {
        await tx.rotate(token, this.tokens.hash(successorOfLive), now);
        return rotated(successorOfLive);
      }
      const withinGrace =
        now.getTime() - token.spentAt.getTime() <= this.config.refresh.reuseGraceSeconds * 1000;
      const successor = withinGrace && live ? this.liveDescendant(refreshToken, token, live) : null;
      if (successor) {
        await tx.touch(session.id, now);
        return rotated(successor);
      }
      await tx.revoke(session.id, session.userId, 'refresh_token_reused');
      return { kind: 'reused', userId: session.userId, sessionId: session.id };
    });

    if (outcome.kind === 'reused') {
      this.metrics.refreshReuseDetected();
      await this.audit.record({
        type: 'refresh.reused',
        userId: outcome.userId,
        client,
        outcome: 'failure',
        detail: { sessionId: outcome.sessionId, sessionRevoked: true },
      });
      throw new ProblemException(
        HttpStatus.UNAUTHORIZED,
        'refresh_token_reused',
        'This refresh token was already used; the session has been revoked. Sign in again.',
      );
    }
    if (outcome.kind === 'invalid') {
      throw invalidRefreshToken();
    }
    const user = await this.users.findById(outcome.userId);
    if (!user || user.disabled) {
      throw invalidRefreshToken();
    }
    return this.tokenPair(user, outcome.sessionId, outcome.refreshToken);
  }

  /** OAuth2 token endpoint (RFC 6749 §4.3, §6): answers and errors in the RFC's shape. */
  async grantToken(body: unknown, client: ClientInfo): Promise<OAuthTokenResponseDto> {
    const params = this.oauthParams(body);
    const required = (name: string): string => {
      const value = params[name];
      if (value === undefined) {
        throw new OAuthException('invalid_request', `The ${name} parameter is missing.`);
      }
      return value;
    };
    const grantType = required('grant_type');
    let pair: TokenPairDto;
    try {
      if (grantType === 'password') {
        const username = required('username');
        const password = required('password');
        const user = await this.validatePassword(username, password, client);
        pair = await this.startSession(user, client, 'password');
      } else if (grantType === 'refresh_token') {
        pair = await this.refresh(required('refresh_token'), client);
      } else {
        throw new OAuthException(
          'unsupported_grant_type',
          'Supported grant types: password, refresh_token.',
        );
      }
    } catch (error) {
      // 429 and 503 keep their status and problem shape (RFC 6749 has no error for them).
      if (error instanceof ProblemException && error.getStatus() < 429) {
        throw new OAuthException('invalid_grant', error.detail);
      }
      throw error;
    }
    return {
      access_token: pair.accessToken,
      token_type: 'bearer',
      expires_in: pair.expiresIn,
      refresh_token: pair.refreshToken,
    };
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

  validateSecret(userSecret: string, client: ClientInfo): Promise<UserEntity> {
    return this.counted('secret', () => this.checkSecret(userSecret, client));
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
      await this.recordFailedSignIn(user?.id ?? null, client, 'secret', refusal);
      throw refusal ?? invalidCredentials();
    }
    return user;
  }

  async logout(principal: AuthPrincipal, client: ClientInfo): Promise<void> {
    await this.sessions.revoke(principal.sessionId, principal.user.id, 'logout');
    await this.audit.record({
      type: 'logout',
      userId: principal.user.id,
      client,
      detail: { sessionId: principal.sessionId },
    });
  }

  async logoutAll(principal: AuthPrincipal, client: ClientInfo): Promise<void> {
    const sessions = await this.sessions.revokeAll(principal.user.id, 'logout_all');
    await this.audit.record({
      type: 'logout',
      userId: principal.user.id,
      client,
      detail: { everywhere: true, sessions },
    });
  }

  /** Ends every session of a user, inside `manager`'s transaction when given (administration). */
  async endAllSessions(userId: string, reason: string, manager?: EntityManager): Promise<number> {
    return (manager ? this.sessions.within(manager) : this.sessions).revokeAll(userId, reason);
  }

  async listSessions(principal: AuthPrincipal): Promise<SessionDto[]> {
    const sessions = await this.sessions.listActive(principal.user.id);
    return sessions.map((session) => ({
      id: session.id,
      userAgent: session.userAgent,
      ip: session.ip,
      createdAt: session.createdAt.toISOString(),
      lastUsedAt: session.lastUsedAt.toISOString(),
      current: session.id === principal.sessionId,
    }));
  }

  async revokeSession(
    principal: AuthPrincipal,
    sessionId: string,
    client: ClientInfo,
  ): Promise<void> {
    if (!(await this.sessions.revoke(sessionId, principal.user.id, 'revoked_by_user'))) {
      throw new ProblemException(HttpStatus.NOT_FOUND, 'not_found', 'You have no such session.');
    }
    await this.audit.record({
      type: 'session.revoked',
      userId: principal.user.id,
      client,
      detail: { sessionId },
    });
  }

  /** Changes the password, ends every other session of the user and mails a notice, all at once. */
  async changePassword(
    principal: AuthPrincipal,
    dto: ChangePasswordDto,
    client: ClientInfo,
  ): Promise<void> {
    const user = await this.passwordAccount(principal);
    await this.confirmPassword(user, dto.currentPassword, client, () =>
      new ProblemException(
        HttpStatus.UNAUTHORIZED,
        'invalid_credentials',
        'The current password is wrong.',
      ),
    );
    this.passwords.assertStrong(dto.newPassword, user);
    const passwordHash = await this.passwords.hash(dto.newPassword);
    await this.dataSource.transaction(async (manager) => {
      await this.users.setPasswordHash(user.id, passwordHash, manager);
      await this.passwordResets.voidOutstanding(user, manager);
      await this.sessions
        .within(manager)
        .revokeAll(user.id, 'password_changed', principal.sessionId);
      if (user.email) {
        await this.outbox.add(manager, {
          kind: ACCOUNT_MAIL.passwordChanged,
          recipient: user.email,
          userId: user.id,
          payload: { ...noticeContext(client) },
        });
      }
      await this.audit.record({ type: 'password.changed', userId: user.id, client }, manager);
    });
    this.outbox.deliverSoon();
  }

  /** A new secret for a secret-key account; the old one stops working, other sessions end. */
  async rotateSecret(
    principal: AuthPrincipal,
    client: ClientInfo,
  ): Promise<{ userSecret: string }> {
    const user = await this.users.findByIdWithPasswordHash(principal.user.id);
    if (!user || user.passwordHash) {
      throw new ProblemException(
        HttpStatus.FORBIDDEN,
        'forbidden',
        'Only secret-key accounts have a secret; this account signs in with a password.',
      );
    }
    const userSecret = this.tokens.newRefreshToken();
    await this.users.setSecretHash(user.id, this.tokens.hash(userSecret));
    await this.sessions.revokeAll(user.id, 'secret_rotated', principal.sessionId);
    await this.audit.record({
      type: 'user.updated',
      userId: user.id,
      client,
      detail: { fields: ['userSecret'] },
    });
    return { userSecret };
  }

  /** Deletes the account (sessions and tokens go with it); password accounts confirm with the password. */
  async deleteAccount(
    principal: AuthPrincipal,
    dto: DeleteAccountDto,
    client: ClientInfo,
  ): Promise<void> {
    const user = await this.users.findByIdWithPasswordHash(principal.user.id);
    if (!user) {
      throw invalidCredentials();
    }
    if (user.passwordHash) {
      if (dto.password === undefined) {
        throw fieldProblem('password', 'password is required to delete a password account');
      }
      await this.confirmPassword(user, dto.password, client, invalidCredentials);
    }
    await this.dataSource.transaction(async (manager) => {
      await this.users.deleteUser(user.id, manager);
      await this.audit.record({ type: 'user.deleted', userId: user.id, client }, manager);
    });
  }

  /**
   * Checks a signed-in account's password before a sensitive change. A stolen
   * access token must not become a password oracle: failures count in the
   * sign-in limits (per address and account, and per account), and once they
   * are reached even the right password is refused until the window passes.
   */
  private async confirmPassword(
    user: UserEntity,
    password: string,
    client: ClientInfo,
    refusal: () => ProblemException,
  ): Promise<void> {
    const attempt = await this.limiter.begin('signin', client.ip, signInSubject(user, ''));
    if (!(await this.passwords.verify(user.passwordHash, password)).valid) {
      throw refusal();
    }
    await attempt.succeeded();
  }

  private recordFailedSignIn(
    userId: string | null,
    client: ClientInfo,
    method: 'password' | 'secret',
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

  private async passwordAccount(principal: AuthPrincipal): Promise<UserEntity> {
    const user = await this.users.findByIdWithPasswordHash(principal.user.id);
    if (!user?.passwordHash) {
      throw new ProblemException(
        HttpStatus.FORBIDDEN,
        'forbidden',
        'This account signs in with a secret key; it has no password.',
      );
    }
    return user;
  }

  private tokenPair(user: UserEntity, sessionId: string, refreshToken: string): TokenPairDto {
    return {
      accessToken: this.tokens.signAccessToken(user.id, sessionId),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.tokens.accessTtl,
      user: toUserResponse(user),
    };
  }

  /** The session's live token when it descends from `presented` within a few rotations. */
  private liveDescendant(
    presented: string,
    token: RefreshTokenEntity,
    live: RefreshTokenEntity,
  ): string | null {
    const steps = live.generation - token.generation;
    if (steps < 1 || steps > MAX_GRACE_STEPS) {
      return null;
    }
    let candidate = presented;
    for (let i = 0; i < steps; i++) {
      candidate = this.tokens.successorOf(candidate);
    }
    return this.tokens.hash(candidate) === live.tokenHash ? candidate : null;
  }

  /**
   * Token request parameters as RFC 6749 reads them: empty values count as
   * absent, unknown ones are ignored, repeated ones are an error.
   */
  private oauthParams(body: unknown): Record<string, string | undefined> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new OAuthException('invalid_request', 'The request body must carry the parameters.');
    }
    const params: Record<string, string | undefined> = {};
    for (const name of ['grant_type', 'username', 'password', 'refresh_token']) {
      const value: unknown = (body as Record<string, unknown>)[name];
      if (value === undefined || value === null || value === '') {
        continue;
      }
      if (typeof value !== 'string' || value.length > 1024 || value.includes('\u0000')) {
        throw new OAuthException('invalid_request', `The ${name} parameter is malformed.`);
      }
      params[name] = value;
    }
    return params;
  }
}

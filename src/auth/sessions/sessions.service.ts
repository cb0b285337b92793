import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import type { AuthPrincipal } from '../../common/auth-principal';
import type { ClientInfo } from '../../common/decorators/client-info.decorator';
import { ProblemException } from '../../common/problem';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import { MetricsService, type SignInMethod } from '../../metrics/metrics.service';
import type { UserEntity } from '../../users/user.entity';
import { toUserResponse } from '../../users/user.mapper';
import { UsersService } from '../../users/users.service';
import type { Assurance, AssuranceLevel, AuthMethodRef } from '../tokens/assurance';
import { TokensService } from '../tokens/tokens.service';
import { DevicesService, KNOWN_DEVICE_DAYS } from '../devices/devices.service';
import { OutboxService } from '../../mail/outbox.service';
import { SessionDto, TokenPairDto } from './dto/token-pair.dto';
import { RefreshTokenEntity } from './refresh-token.entity';
import { type SessionAlongside, SessionsRepository } from './sessions.repository';

/** How far along a chain a retry within the grace window may find the session's live token. */
const MAX_GRACE_STEPS = 3;

/** A sign-in that passed every factor it needs: how it went, as the session keeps it. */
export interface Authentication {
  /** For the audit and metrics: `password`, `secret`, `totp`, `recovery_code`, … */
  method: SignInMethod;
  amr: readonly AuthMethodRef[];
  aal: AssuranceLevel;
}

type RefreshOutcome =
  | {
      kind: 'rotated';
      userId: string;
      sessionId: string;
      refreshToken: string;
      assurance: Assurance;
    }
  | { kind: 'invalid' }
  | { kind: 'reused'; userId: string; sessionId: string };

const invalidRefreshToken = () =>
  new ProblemException(
    'invalid_refresh_token',
    'The refresh token is invalid, expired or revoked; sign in again.',
  );

/**
 * Sessions and their rotating refresh tokens: a session starts at a sign-in,
 * each refresh rotates its token (reuse of a spent one ends the session), and
 * it ends at sign-out, revocation or expiry.
 */
@Injectable()
export class SessionsService {
  constructor(
    private readonly users: UsersService,
    private readonly tokens: TokensService,
    private readonly sessions: SessionsRepository,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    private readonly devices: DevicesService,
    private readonly outbox: OutboxService,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  /**
   * A new session for a signed-in user, and its first token pair. Only the
   * sign-in gate (SignInService.complete) and the second step call this.
   */
  async start(
    user: UserEntity,
    client: ClientInfo,
    { method, amr, aal }: Authentication,
  ): Promise<TokenPairDto> {
    const refreshToken = this.tokens.newRefreshToken();
    const expiresAt = new Date(Date.now() + this.config.refresh.ttl * 1000);
    // The sign-in's audit event, written by the statement that makes the session.
    const audited: SessionAlongside = (params) => [
      this.audit.recordForNewSession(
        { type: 'login.succeeded', userId: user.id, client, detail: { method, aal } },
        params,
      ),
    ];
    const session = this.devices.enabled
      ? await this.startOnDevice(
          user,
          client,
          expiresAt,
          refreshToken,
          { method, amr, aal },
          audited,
        )
      : await this.sessions.create(
          user.id,
          client,
          expiresAt,
          this.tokens.hash(refreshToken),
          { amr, aal },
          audited,
        );
    return this.tokenPair(user, session.id, refreshToken, session.assurance);
  }

  /**
   * The session, on a device: a device the account has not signed in from
   * within KNOWN_DEVICE_DAYS gets its alert mail queued by the same statement.
   */
  private async startOnDevice(
    user: UserEntity,
    client: ClientInfo,
    expiresAt: Date,
    refreshToken: string,
    { method, amr, aal }: Authentication,
    alongside: SessionAlongside,
  ): Promise<{ id: string; assurance: Assurance }> {
    const device = this.devices.identify(client);
    const session = await this.sessions.createOnDevice(
      user.id,
      client,
      expiresAt,
      this.tokens.hash(refreshToken),
      { amr, aal },
      {
        hash: device.hash,
        knownDays: KNOWN_DEVICE_DAYS,
        alert: {
          at: new Date().toISOString(),
          browser: device.browser,
          os: device.os,
          ip: client.ip,
          method,
        },
      },
      alongside,
    );
    if (session.alerted) {
      this.outbox.deliverSoon();
    }
    return session;
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
      return this.tokenPair(fast.user, fast.sessionId, successorOfLive, fast.assurance);
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
        assurance: { authTime: session.authTime, amr: session.amr, aal: session.aal },
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
    return this.tokenPair(user, outcome.sessionId, outcome.refreshToken, outcome.assurance);
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

  /**
   * Ends every session of a user (but `except`), inside `manager`'s
   * transaction when given: credential changes and administration.
   */
  endAll(
    userId: string,
    reason: string,
    manager?: EntityManager,
    except?: string,
  ): Promise<number> {
    return (manager ? this.sessions.within(manager) : this.sessions).revokeAll(
      userId,
      reason,
      except,
    );
  }

  /** Raises the caller's session to two factors, `factor` (one just added in it) among its methods. */
  elevate(principal: AuthPrincipal, factor: AuthMethodRef): Promise<void> {
    return this.sessions.elevate(principal.sessionId, factor);
  }

  /** Whether the caller's session was signed in within the last `maxAgeSeconds`. */
  isRecent(principal: AuthPrincipal, maxAgeSeconds: number): Promise<boolean> {
    return this.sessions.isSignedInSince(
      principal.sessionId,
      principal.user.id,
      new Date(Date.now() - maxAgeSeconds * 1000),
    );
  }

  async list(principal: AuthPrincipal): Promise<SessionDto[]> {
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

  async revoke(principal: AuthPrincipal, sessionId: string, client: ClientInfo): Promise<void> {
    if (!(await this.sessions.revoke(sessionId, principal.user.id, 'revoked_by_user'))) {
      throw new ProblemException('not_found', 'You have no such session.');
    }
    await this.audit.record({
      type: 'session.revoked',
      userId: principal.user.id,
      client,
      detail: { sessionId },
    });
  }

  private tokenPair(
    user: UserEntity,
    sessionId: string,
    refreshToken: string,
    assurance: Assurance,
  ): TokenPairDto {
    return {
      accessToken: this.tokens.signAccessToken(user.id, sessionId, assurance),
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
}

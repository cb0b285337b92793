import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import type { AuthPrincipal } from '../../common/auth-principal';
import type { ClientInfo } from '../../common/decorators/client-info.decorator';
import { ProblemException } from '../../common/problem';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import { OutboxService } from '../../mail/outbox.service';
import { AttemptLimiter } from '../../rate-limit/attempt-limiter.service';
import { signInSubject } from '../../rate-limit/sign-in-subject';
import type { UserEntity } from '../../users/user.entity';
import { UsersService } from '../../users/users.service';
import { ReauthenticationService } from '../account/reauthentication.service';
import { AccountMailService } from '../recovery/account-mail.service';
import { SessionsService } from '../sessions/sessions.service';
import { MfaStatusDto, RecoveryCodesDto, TotpEnrolmentDto } from './dto/mfa.dto';
import { MfaRepository, PENDING_TOTP_SECONDS } from './mfa.repository';
import { newRecoveryCodes, normalizeRecoveryCode } from './recovery-codes';
import { SecretBox } from './secret-box';
import { looksLikeTotp, matchingStep, newTotpSecret, qrCodeDataUrl, totpUri } from './totp';

/** The security notices of second factors (none carries a secret or a code). */
export const MFA_MAIL = {
  enabled: 'mfa_enabled',
  disabled: 'mfa_disabled',
  reset: 'mfa_reset',
  recoveryCodeUsed: 'recovery_code_used',
} as const;

/** What a second-factor code turned out to be. */
export type SecondFactorKind = 'totp' | 'recovery_code';

/** A second factor the sign-in's second step may ask for. */
export type SecondFactorMethod = SecondFactorKind | 'passkey';

/**
 * A second factor kept by a room above this one (passkeys): registered at
 * start-up, so that this room counts it (`mfaEnabled`, `methods`, the
 * status) and clears it (the administrator's reset) without knowing it.
 */
export interface OtherSecondFactor {
  method: Exclude<SecondFactorMethod, SecondFactorKind>;
  count(userId: string, manager?: EntityManager): Promise<number>;
  removeAll(userId: string, manager: EntityManager): Promise<void>;
}

export const invalidCode = () =>
  new ProblemException(
    'invalid_code',
    'This code is wrong, or was already used. Enter the code your authenticator app shows now, or an unused recovery code.',
  );

const noAuthenticator = () =>
  new ProblemException('not_found', 'No authenticator app is set up for this account.');

/**
 * Second factors: a TOTP authenticator app (RFC 6238, by otplib; its seed
 * sealed at rest) and single-use recovery codes (keyed hashes only); their
 * management under /users/me/mfa, the lost-phone reset by an administrator,
 * and the check of a code, counted in the sign-in limits.
 */
@Injectable()
export class MfaService implements OnModuleInit {
  private readonly box: SecretBox;
  private readonly recoveryCodeKey: Buffer;
  private readonly others: OtherSecondFactor[] = [];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly factors: MfaRepository,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly reauthentication: ReauthenticationService,
    private readonly limiter: AttemptLimiter,
    private readonly outbox: OutboxService,
    private readonly mails: AccountMailService,
    private readonly audit: AuditService,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {
    this.box = new SecretBox(config.jwt.secret, 'totp');
    this.recoveryCodeKey = createHmac('sha256', config.jwt.secret)
      .update('recovery-code/v1')
      .digest();
  }

  onModuleInit(): void {
    this.mails.registerNotice(
      MFA_MAIL.enabled,
      'Two-step sign-in is on',
      () =>
        'An authenticator app was set up for your account: signing in now asks for its code. Every other session was signed out.',
    );
    this.mails.registerNotice(
      MFA_MAIL.disabled,
      'Two-step sign-in is off',
      () =>
        'The authenticator app of your account was removed, with its recovery codes: signing in no longer asks for a code.',
    );
    this.mails.registerNotice(
      MFA_MAIL.reset,
      'Your second factors were removed',
      () =>
        'An administrator removed the second factors of your account (authenticator app, recovery codes and passkeys), as asked for a lost device, and signed out every session.',
    );
    this.mails.registerNotice(
      MFA_MAIL.recoveryCodeUsed,
      'A recovery code was used',
      (payload) =>
        `A recovery code was used to sign in to your account. ${Number(payload.left)} of your recovery codes are left; you can make new ones in your profile.`,
    );
  }

  /** A second factor of another room (see OtherSecondFactor). */
  registerFactor(factor: OtherSecondFactor): void {
    this.others.push(factor);
  }

  async status(principal: AuthPrincipal): Promise<MfaStatusDto> {
    const userId = principal.user.id;
    const totp = await this.factors.findTotp(userId);
    const active = totp?.confirmedAt ? totp : null;
    const passkeys = this.others.find((factor) => factor.method === 'passkey');
    return {
      totp: {
        enabled: Boolean(active),
        createdAt: active ? (active.confirmedAt as Date).toISOString() : null,
        lastUsedAt: active?.lastUsedAt ? active.lastUsedAt.toISOString() : null,
      },
      recoveryCodesLeft: active ? await this.factors.countRecoveryCodesLeft(userId) : 0,
      passkeys: passkeys ? await passkeys.count(userId) : 0,
    };
  }

  /** The second factors a sign-in of this user may continue with. */
  async methodsOf(userId: string): Promise<SecondFactorMethod[]> {
    const methods: SecondFactorMethod[] = [];
    if ((await this.factors.findTotp(userId))?.confirmedAt) {
      methods.push('totp');
      if ((await this.factors.countRecoveryCodesLeft(userId)) > 0) {
        methods.push('recovery_code');
      }
    }
    for (const factor of this.others) {
      if ((await factor.count(userId)) > 0) {
        methods.push(factor.method);
      }
    }
    return methods;
  }

  /**
   * Sets the user's `mfaEnabled` from the factors there are now: an active
   * authenticator app or any factor of another room; without any, the
   * sign-ins waiting for a second step go. Takes the user's row lock first,
   * so concurrent changes of factors cannot leave it stale.
   */
  async refreshEnabled(userId: string, manager: EntityManager): Promise<boolean> {
    await this.users.lockCredentials(userId, manager);
    let enabled = Boolean((await this.factors.findTotp(userId, manager))?.confirmedAt);
    for (const factor of this.others) {
      enabled ||= (await factor.count(userId, manager)) > 0;
    }
    await this.users.setMfaEnabled(userId, enabled, manager);
    if (!enabled) {
      await this.factors.deleteChallenges(userId, manager);
    }
    return enabled;
  }

  /**
   * A new authenticator, pending until its first code confirms it (a new
   * call replaces a pending one). The caller proves to be the owner first.
   */
  async beginTotp(
    principal: AuthPrincipal,
    password: string | undefined,
    client: ClientInfo,
  ): Promise<TotpEnrolmentDto> {
    const user = await this.reauthentication.confirm(principal, password, client);
    const secret = newTotpSecret();
    if (!(await this.factors.savePendingTotp(user.id, this.box.seal(secret, user.id)))) {
      throw new ProblemException(
        'totp_already_enabled',
        'An authenticator app is already set up; turn it off before setting up another.',
      );
    }
    const otpauthUri = totpUri(
      this.config.mfa.issuer,
      user.email ?? user.username ?? user.id,
      secret,
    );
    return { secret, otpauthUri, qrCode: await qrCodeDataUrl(otpauthUri) };
  }

  /**
   * Activates the pending authenticator with a current code: ten recovery
   * codes are made (and shown this once), every other session of the user
   * ends, this one becomes two-factor, and a notice is mailed.
   */
  async confirmTotp(
    principal: AuthPrincipal,
    code: string,
    client: ClientInfo,
  ): Promise<RecoveryCodesDto> {
    const userId = principal.user.id;
    const pending = await this.factors.findTotp(userId);
    if (
      !pending ||
      pending.confirmedAt ||
      pending.createdAt.getTime() + PENDING_TOTP_SECONDS * 1000 <= Date.now()
    ) {
      throw new ProblemException(
        'not_found',
        'No authenticator app is waiting for confirmation: start the set-up again.',
      );
    }
    const attempt = await this.limiter.begin(
      'signin',
      client.ip,
      signInSubject(principal.user, ''),
    );
    const secret = this.box.open(pending.secretSealed, userId);
    const step = secret === null ? null : await matchingStep(secret, code, null);
    if (step === null) {
      throw invalidCode();
    }
    const recoveryCodes = newRecoveryCodes();
    const user = await this.dataSource.transaction(async (manager) => {
      if (!(await this.factors.confirmTotp(userId, step, manager))) {
        return null;
      }
      await this.factors.replaceRecoveryCodes(
        userId,
        this.recoveryCodeHashes(userId, recoveryCodes),
        manager,
      );
      await this.refreshEnabled(userId, manager);
      await this.sessions.endAll(userId, 'mfa_enabled', manager, principal.sessionId);
      const owner = await this.users.findById(userId, manager);
      await this.mails.queueNotice(manager, MFA_MAIL.enabled, owner, client);
      await this.audit.record(
        { type: 'mfa.enabled', userId, client, detail: { factor: 'totp' } },
        manager,
      );
      return owner;
    });
    if (!user) {
      throw new ProblemException('not_found', 'No authenticator app is waiting for confirmation.');
    }
    await attempt.succeeded();
    await this.sessions.elevate(principal, 'otp');
    this.outbox.deliverSoon();
    return { recoveryCodes };
  }

  /** Removes the authenticator and the recovery codes: the password (password accounts) and a code prove the owner. */
  async disableTotp(
    principal: AuthPrincipal,
    dto: { password?: string; code: string },
    client: ClientInfo,
  ): Promise<void> {
    const user = await this.reauthentication.confirmPasswordIfAny(principal, dto.password, client);
    if (!(await this.factors.findTotp(user.id))?.confirmedAt) {
      throw noAuthenticator();
    }
    if (!(await this.useCode(user, dto.code, client, { recoveryCodes: true }))) {
      throw invalidCode();
    }
    await this.dataSource.transaction(async (manager) => {
      await this.factors.deleteTotp(user.id, manager);
      await this.refreshEnabled(user.id, manager);
      await this.mails.queueNotice(manager, MFA_MAIL.disabled, user, client);
      await this.audit.record(
        { type: 'mfa.disabled', userId: user.id, client, detail: { factor: 'totp' } },
        manager,
      );
    });
    this.outbox.deliverSoon();
  }

  /** Ten new recovery codes for a current TOTP code; every older one is void. */
  async regenerateRecoveryCodes(
    principal: AuthPrincipal,
    code: string,
    client: ClientInfo,
  ): Promise<RecoveryCodesDto> {
    const user = await this.users.findById(principal.user.id);
    if (!user || !(await this.factors.findTotp(user.id))?.confirmedAt) {
      throw noAuthenticator();
    }
    if (!(await this.useCode(user, code, client, { recoveryCodes: false }))) {
      throw invalidCode();
    }
    const recoveryCodes = newRecoveryCodes();
    await this.dataSource.transaction(async (manager) => {
      await this.factors.replaceRecoveryCodes(
        user.id,
        this.recoveryCodeHashes(user.id, recoveryCodes),
        manager,
      );
      await this.audit.record(
        { type: 'recovery_codes.regenerated', userId: user.id, client },
        manager,
      );
    });
    return { recoveryCodes };
  }

  /**
   * The lost-phone case, by an administrator: every second factor of the
   * user goes, every session ends, a notice is mailed; audited with the actor.
   */
  async resetByAdmin(
    userId: string,
    actorId: string | null,
    client: ClientInfo | null,
  ): Promise<void> {
    const found = await this.dataSource.transaction(async (manager) => {
      const user = await this.users.findById(userId, manager);
      if (!user) {
        return false;
      }
      await this.removeFactors(userId, manager);
      const sessions = await this.sessions.endAll(userId, 'mfa_reset', manager);
      await this.mails.queueNotice(manager, MFA_MAIL.reset, user, client);
      await this.audit.record(
        { type: 'mfa.reset', userId, actorId, client, detail: { sessions } },
        manager,
      );
      return true;
    });
    if (!found) {
      throw new ProblemException('not_found', 'No such user.');
    }
    this.outbox.deliverSoon();
  }

  /**
   * Checks a second-factor code of the user and uses it up: a TOTP code of
   * the current step or one either side, newer than the last one used, or
   * (when allowed) an unused recovery code, whose use is mailed with the
   * count left. Counted in the sign-in limits (per address and account, and
   * per account). Inside `manager`'s transaction when given.
   */
  async useCode(
    user: Pick<UserEntity, 'id' | 'email'>,
    code: string,
    client: ClientInfo,
    options: { recoveryCodes: boolean },
    manager?: EntityManager,
  ): Promise<SecondFactorKind | null> {
    const attempt = await this.limiter.begin('signin', client.ip, signInSubject(user, ''));
    const kind = looksLikeTotp(code.trim())
      ? await this.useTotpCode(user.id, code.trim(), manager)
      : options.recoveryCodes
        ? await this.useRecoveryCode(user, code, client, manager)
        : null;
    if (kind) {
      await attempt.succeeded();
    }
    return kind;
  }

  private async useTotpCode(
    userId: string,
    code: string,
    manager?: EntityManager,
  ): Promise<SecondFactorKind | null> {
    const totp = await this.factors.findTotp(userId, manager);
    if (!totp?.confirmedAt) {
      return null;
    }
    const secret = this.box.open(totp.secretSealed, userId);
    const lastStep = totp.lastUsedStep === null ? null : Number(totp.lastUsedStep);
    const step = secret === null ? null : await matchingStep(secret, code, lastStep);
    return step !== null && (await this.factors.useTotpStep(userId, step, manager)) ? 'totp' : null;
  }

  private async useRecoveryCode(
    user: Pick<UserEntity, 'id' | 'email'>,
    typed: string,
    client: ClientInfo,
    manager?: EntityManager,
  ): Promise<SecondFactorKind | null> {
    const code = normalizeRecoveryCode(typed);
    if (code === null) {
      return null;
    }
    const spend = async (tx: EntityManager): Promise<boolean> => {
      if (
        !(await this.factors.useRecoveryCode(user.id, this.recoveryCodeHash(user.id, code), tx))
      ) {
        return false;
      }
      const left = await this.factors.countRecoveryCodesLeft(user.id, tx);
      await this.mails.queueNotice(tx, MFA_MAIL.recoveryCodeUsed, user, client, { left });
      await this.audit.record(
        { type: 'recovery_code.used', userId: user.id, client, detail: { left } },
        tx,
      );
      return true;
    };
    const spent = manager ? await spend(manager) : await this.dataSource.transaction(spend);
    if (spent && !manager) {
      this.outbox.deliverSoon();
    }
    return spent ? 'recovery_code' : null;
  }

  /** Every second factor of the user goes (passkeys too), with the sign-ins waiting for one. */
  private async removeFactors(userId: string, manager: EntityManager): Promise<void> {
    await this.factors.deleteTotp(userId, manager);
    for (const factor of this.others) {
      await factor.removeAll(userId, manager);
    }
    await this.factors.deleteChallenges(userId, manager);
    await this.users.setMfaEnabled(userId, false, manager);
  }

  /** A recovery code's stored form: an HMAC with a server key, bound to the user. */
  private recoveryCodeHash(userId: string, code: string): string {
    return createHmac('sha256', this.recoveryCodeKey).update(`${userId}:${code}`).digest('hex');
  }

  private recoveryCodeHashes(userId: string, codes: string[]): string[] {
    return codes.map((code) =>
      this.recoveryCodeHash(userId, normalizeRecoveryCode(code) as string),
    );
  }
}

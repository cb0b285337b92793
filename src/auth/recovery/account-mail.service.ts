import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { ClientInfo } from '../../common/decorators/client-info.decorator';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import { MailComposers } from '../../mail/mail-composers';
import { NEW_DEVICE_MAIL } from '../devices/devices.service';
import { OutboxService } from '../../mail/outbox.service';
import type { MailMessage } from '../../mail/mail.transport';
import type { OutboxMailEntity } from '../../mail/outbox-mail.entity';
import { renderMail } from '../../mail/templates';
import { UserEntity } from '../../users/user.entity';
import { UsersService } from '../../users/users.service';
import { AccountTokensRepository } from './account-tokens.repository';
import { TokensService } from '../tokens/tokens.service';

/** The kinds of mail the auth module sends. */
export const ACCOUNT_MAIL = {
  verification: 'email_verification',
  reset: 'password_reset',
  passwordChanged: 'password_changed',
  passwordWasReset: 'password_was_reset',
} as const;

/** The mails public routes send on request, which share one per-address send limit. */
/** How long the "this wasn't me" link of a new-device alert works, and the reset link it mails. */
export const SECURE_LINK_SECONDS = 7 * 86400;

export const ON_REQUEST_MAIL_KINDS = [ACCOUNT_MAIL.verification, ACCOUNT_MAIL.reset];

/** Who caused a security notice, as the notice tells it (no secret). */
export interface NoticeContext {
  ip: string;
  userAgent: string | null;
  at: string;
}

export function noticeContext(client: ClientInfo): NoticeContext {
  return { ip: client.ip, userAgent: client.userAgent, at: new Date().toISOString() };
}

/**
 * Composes the auth module's mails when the outbox delivers them. Codes and
 * reset tokens are made here, at delivery time, so they exist in plaintext
 * only inside the message; their hashes are stored in the same step, and a
 * new one supersedes the last.
 */
@Injectable()
export class AccountMailService implements OnModuleInit {
  constructor(
    private readonly composers: MailComposers,
    private readonly users: UsersService,
    private readonly tokens: TokensService,
    private readonly accountTokens: AccountTokensRepository,
    private readonly outbox: OutboxService,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.composers.register(ACCOUNT_MAIL.verification, (mail) => this.verificationCode(mail));
    this.composers.register(ACCOUNT_MAIL.reset, (mail) => this.resetLink(mail));
    this.composers.register(NEW_DEVICE_MAIL, (mail) => this.newDevice(mail));
    this.composers.register(ACCOUNT_MAIL.passwordChanged, (mail) =>
      this.notice(mail, 'Your password was changed', 'The password of your account was changed.'),
    );
    this.composers.register(ACCOUNT_MAIL.passwordWasReset, (mail) =>
      this.notice(
        mail,
        'Your password was reset',
        'The password of your account was reset with a link sent to this address, and every session was signed out.',
      ),
    );
  }

  /**
   * A registration's mail (which names its account) reads the account and
   * writes the code in one statement; a resend's (which names an address) in
   * two. No transaction either way: the read takes no lock and the upsert is
   * atomic on its own, so a transaction would add two round trips (BEGIN and
   * COMMIT) and guard nothing.
   */
  private async verificationCode(mail: OutboxMailEntity): Promise<MailMessage | null> {
    const code = this.tokens.newVerificationCode();
    let account: Pick<UserEntity, 'fullName'> | null;
    if (mail.userId) {
      account = await this.accountTokens.replaceVerificationCodeIfUnverified(
        mail.userId,
        mail.recipient,
        this.tokens.verificationCodeHash(mail.userId, code),
        this.config.otpTtl,
      );
    } else {
      const user = await this.recipientAccount(mail);
      if (!user || user.emailVerified) {
        return null;
      }
      await this.accountTokens.replaceVerificationCode(
        user.id,
        this.tokens.verificationCodeHash(user.id, code),
        this.config.otpTtl,
      );
      account = user;
    }
    if (!account) {
      return null;
    }
    return renderMail({
      to: mail.recipient,
      subject: `Your verification code: ${code}`,
      greeting: greeting(account),
      paragraphs: ['Enter this code to confirm your email address:'],
      code,
      footer: `The code is valid for ${duration(this.config.otpTtl)} and works once. If you did not sign up, ignore this mail.`,
    });
  }

  private resetLink(mail: OutboxMailEntity): Promise<MailMessage | null> {
    return this.dataSource.transaction(async (manager) => {
      // A password change or disabling that cancels this mail either sees the
      // link made here (and voids it) or is seen here first.
      if (!(await this.outbox.lockForComposing(manager, mail.id))) {
        return null;
      }
      const user = await this.recipientAccount(mail, manager);
      if (!user || user.disabled) {
        return null;
      }
      const token = this.tokens.newRefreshToken();
      // A reset link sent after "this wasn't me" lasts longer (SECURED_RESET_SECONDS).
      const ttl = Number(mail.payload?.ttlSeconds) || this.config.passwordResetTtl;
      await this.accountTokens.replaceResetToken(user.id, this.tokens.hash(token), ttl, manager);
      // Built from PUBLIC_URL only, never from a request's Host header.
      const href = `${this.config.publicUrl}/reset?token=${encodeURIComponent(token)}`;
      return renderMail({
        to: mail.recipient,
        subject: 'Reset your password',
        greeting: greeting(user),
        paragraphs: [
          'Someone asked to reset the password of your account. To choose a new one, open:',
        ],
        link: { href, label: 'Choose a new password' },
        footer: `The link is valid for ${duration(ttl)} and works once; a newer request replaces it. If you did not ask, ignore this mail: your password stays as it is.`,
      });
    });
  }

  /**
   * "New sign-in to your account": when (UTC), browser and system, address
   * and method, and a "this wasn't me" link whose token is made here (7
   * days, single use, stored as a hash).
   */
  private async newDevice(mail: OutboxMailEntity): Promise<MailMessage | null> {
    // Two statements, no transaction, as for the verification code: the read
    // takes no lock and the token's insert is atomic on its own.
    const user = await this.recipientAccount(mail);
    if (!user || user.disabled) {
      return null;
    }
    const alert = (mail.payload ?? {}) as Record<string, string | undefined>;
    const token = this.tokens.newRefreshToken();
    await this.accountTokens.addSecureToken(user.id, this.tokens.hash(token), SECURE_LINK_SECONDS);
    const href = `${this.config.publicUrl}/secure?token=${encodeURIComponent(token)}`;
    const at = alert.at ? alert.at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : 'just now';
    return renderMail({
      to: mail.recipient,
      subject: 'New sign-in to your account',
      greeting: greeting(user),
      paragraphs: [
        'Your account was signed in to from a device it has not used recently:',
        `When: ${at}. Browser: ${alert.browser ?? 'unknown'} on ${alert.os ?? 'an unknown system'}. Address: ${alert.ip ?? 'unknown'}. How: ${methodName(alert.method)}.`,
        'If this was you, there is nothing to do. If it was not, open the link below: every session of your account ends at once (that device included) and we mail you a link to choose a new password.',
      ],
      link: { href, label: "This wasn't me" },
      footer: `The link is valid for ${duration(SECURE_LINK_SECONDS)} and works once.`,
    });
  }

  /**
   * Queues a security notice of a registered kind for the account (given,
   * or read by its id), inside `manager`'s transaction: to its email, with
   * when and from where, and `extra` (never a secret). Accounts without an
   * email get none.
   */
  async queueNotice(
    manager: EntityManager,
    kind: string,
    account: Pick<UserEntity, 'id' | 'email'> | string | null,
    client: ClientInfo | null,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const user =
      typeof account === 'string' ? await this.users.findById(account, manager) : account;
    if (!user?.email) {
      return;
    }
    await this.outbox.add(manager, {
      kind,
      recipient: user.email,
      userId: user.id,
      payload: { ...(client ? noticeContext(client) : {}), ...extra },
    });
  }

  /**
   * A kind of security notice another part of the auth module sends: a
   * subject, and what happened (from the mail's payload, which holds no
   * secret), told with when, from where and what to do if it was not you.
   */
  registerNotice(
    kind: string,
    subject: string,
    what: (payload: Record<string, unknown>) => string,
  ): void {
    this.composers.register(kind, (mail) => this.notice(mail, subject, what(mail.payload ?? {})));
  }

  private async notice(
    mail: OutboxMailEntity,
    subject: string,
    what: string,
  ): Promise<MailMessage | null> {
    const user = await this.recipientAccount(mail);
    if (!user) {
      return null;
    }
    const context = mail.payload as Partial<NoticeContext> | null;
    const where = context?.at
      ? `It happened at ${context.at} (UTC) from address ${context.ip ?? 'unknown'}${context.userAgent ? `, ${context.userAgent}` : ''}.`
      : '';
    return renderMail({
      to: mail.recipient,
      subject,
      greeting: greeting(user),
      paragraphs: [
        what,
        where,
        'If this was not you, reset your password at once and contact us.',
      ].filter(Boolean),
    });
  }

  /** The account a mail is for, still at that address. */
  private async recipientAccount(
    mail: OutboxMailEntity,
    manager?: EntityManager,
  ): Promise<UserEntity | null> {
    const user = mail.userId
      ? await this.users.findById(mail.userId, manager)
      : await this.users.findByEmail(mail.recipient, manager);
    return user && user.email === mail.recipient ? user : null;
  }
}

function greeting(user: Pick<UserEntity, 'fullName'>): string {
  return `Hello${user.fullName ? ` ${user.fullName}` : ''},`;
}

function duration(seconds: number): string {
  return seconds % 86400 === 0
    ? `${seconds / 86400} days`
    : seconds % 60 === 0
      ? `${seconds / 60} minutes`
      : `${seconds} seconds`;
}

/** How the alert names a sign-in method (`oidc:<name>`: the provider's name). */
function methodName(method: string | undefined): string {
  if (method?.startsWith('oidc:')) {
    return `through ${method.slice('oidc:'.length)}`;
  }
  return SIGN_IN_METHODS[method ?? ''] ?? method ?? 'unknown';
}

/** How the alert names a sign-in method. */
const SIGN_IN_METHODS: Record<string, string> = {
  password: 'password',
  secret: 'secret key',
  passkey: 'passkey',
  totp: 'password and authenticator code',
  recovery_code: 'password and recovery code',
};

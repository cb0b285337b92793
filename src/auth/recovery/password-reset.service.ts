import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { ClientInfo } from '../../common/decorators/client-info.decorator';
import { AuditService } from '../../audit/audit.service';
import { ProblemException } from '../../common/problem';
import { OutboxService } from '../../mail/outbox.service';
import { AttemptLimiter } from '../../rate-limit/attempt-limiter.service';
import { UsersService } from '../../users/users.service';
import { ACCOUNT_MAIL, noticeContext, ON_REQUEST_MAIL_KINDS } from './account-mail.service';
import { AccountTokensRepository } from './account-tokens.repository';
import type { AcceptedDto } from './dto/email.dto';
import { PasswordsService } from '../passwords/passwords.service';
import { SessionsService } from '../sessions/sessions.service';
import { signInSubject } from '../../rate-limit/sign-in-subject';
import { TokensService } from '../tokens/tokens.service';

const invalidToken = () =>
  new ProblemException(
    'invalid_token',
    'This reset link is wrong, expired, already used or replaced by a newer one. Ask for a new one.',
  );

/** Forgotten passwords: a single-use link by mail, then a new password and every session ended. */
@Injectable()
export class PasswordResetService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly accountTokens: AccountTokensRepository,
    private readonly passwords: PasswordsService,
    private readonly tokens: TokensService,
    private readonly sessions: SessionsService,
    private readonly outbox: OutboxService,
    private readonly audit: AuditService,
    private readonly limiter: AttemptLimiter,
  ) {}

  /**
   * Queues a reset link for the address. The request does the same work
   * whether or not an account has it (the link is made at delivery), so the
   * answer is the same in body and in time.
   */
  async forgot(email: string, client: ClientInfo): Promise<AcceptedDto> {
    await this.outbox.sendOnRequest(
      { kind: ACCOUNT_MAIL.reset, recipient: email, requesterIp: client.ip },
      ON_REQUEST_MAIL_KINDS,
    );
    return {
      message: 'If this address belongs to an account, a link to reset the password is on its way.',
    };
  }

  /**
   * Voids every reset link of the user, inside the caller's transaction: the
   * stored token, and any reset mail still waiting in the outbox (its link
   * would be made at delivery). A password change, a reset and disabling the
   * account call it; deleting the account removes both with the user.
   */
  async voidOutstanding(
    account: { id: string; email: string | null },
    manager: EntityManager,
  ): Promise<void> {
    await this.outbox.cancelPending(manager, account, [ACCOUNT_MAIL.reset]);
    await this.accountTokens.deleteReset(account.id, manager);
  }

  /**
   * Sets a new password with a reset token: the token is spent, every session
   * ends, nobody is signed in, and a notice is mailed. Receiving the link
   * proves the address, so it also counts as verified.
   */
  async reset(token: string, newPassword: string, client: ClientInfo): Promise<void> {
    const tokenHash = this.tokens.hash(token);
    // Policy and hashing first, outside the transaction: argon2 must not hold a connection.
    const candidate = await this.accountTokens.findResetByTokenHash(tokenHash);
    const user = candidate && (await this.users.findById(candidate.userId));
    if (!candidate || !user || candidate.expiresAt.getTime() <= Date.now()) {
      throw invalidToken();
    }
    this.passwords.assertStrong(newPassword, user);
    const passwordHash = await this.passwords.hash(newPassword);

    const done = await this.dataSource.transaction(async (manager) => {
      const locked = await this.accountTokens.lockResetByTokenHash(tokenHash, manager);
      if (!locked || locked.expiresAt.getTime() <= Date.now()) {
        return false;
      }
      await this.voidOutstanding(user, manager);
      await this.users.setPasswordHash(user.id, passwordHash, manager);
      await this.users.markEmailVerified(user.id, manager);
      await this.sessions.endAll(user.id, 'password_reset', manager);
      await this.audit.record({ type: 'password.reset', userId: user.id, client }, manager);
      await this.outbox.add(manager, {
        kind: ACCOUNT_MAIL.passwordWasReset,
        recipient: user.email as string,
        userId: user.id,
        payload: { ...noticeContext(client) },
      });
      return true;
    });
    if (!done) {
      throw invalidToken();
    }
    // The owner proved control of the address: failed sign-ins counted against the account are forgiven.
    await this.limiter.forgive('signin', client.ip, signInSubject(user, ''));
    this.outbox.deliverSoon();
  }
}

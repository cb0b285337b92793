import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import type { ClientInfo } from '../../common/decorators/client-info.decorator';
import { ProblemException } from '../../common/problem';
import { OutboxService } from '../../mail/outbox.service';
import { UsersService } from '../../users/users.service';
import { SessionsService } from '../sessions/sessions.service';
import { TokensService } from '../tokens/tokens.service';
import { ACCOUNT_MAIL, SECURE_LINK_SECONDS } from './account-mail.service';
import { AccountTokensRepository } from './account-tokens.repository';
import { PasswordResetService } from './password-reset.service';

/**
 * "This wasn't me", from a new-device alert: every session of the account
 * ends (the suspicious one too), outstanding reset links are voided, a
 * fresh reset link is mailed (valid 7 days), and the account's known
 * devices are forgotten (any further sign-in alerts again). One transaction; the link's
 * token works once.
 */
@Injectable()
export class SecureAccountService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly accountTokens: AccountTokensRepository,
    private readonly tokens: TokensService,
    private readonly sessions: SessionsService,
    private readonly passwordReset: PasswordResetService,
    private readonly outbox: OutboxService,
    private readonly audit: AuditService,
  ) {}

  async secure(token: string, client: ClientInfo): Promise<void> {
    const secured = await this.dataSource.transaction(async (manager) => {
      const userId = await this.accountTokens.takeSecureToken(this.tokens.hash(token), manager);
      const user = userId ? await this.users.findById(userId, manager) : null;
      if (!user?.email) {
        return false;
      }
      const sessions = await this.sessions.endAll(user.id, 'account_secured', manager);
      // Every device is new again: the intruder's next sign-in alerts as well.
      await manager.query(`DELETE FROM known_devices WHERE user_id = $1`, [user.id]);
      await this.passwordReset.voidOutstanding(user, manager);
      await this.outbox.add(manager, {
        kind: ACCOUNT_MAIL.reset,
        recipient: user.email,
        userId: user.id,
        payload: { ttlSeconds: SECURE_LINK_SECONDS },
      });
      await this.audit.record(
        { type: 'account.secured', userId: user.id, client, detail: { sessions } },
        manager,
      );
      return true;
    });
    if (!secured) {
      throw new ProblemException(
        'invalid_token',
        'This link is wrong, expired or already used. If you still think someone else signed in, reset your password.',
      );
    }
    this.outbox.deliverSoon();
  }
}

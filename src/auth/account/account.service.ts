import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import type { AuthPrincipal } from '../../common/auth-principal';
import type { ClientInfo } from '../../common/decorators/client-info.decorator';
import { ProblemException } from '../../common/problem';
import { OutboxService } from '../../mail/outbox.service';
import { UserEntity } from '../../users/user.entity';
import { UsersService } from '../../users/users.service';
import { PasswordsService } from '../passwords/passwords.service';
import { ACCOUNT_MAIL, noticeContext } from '../recovery/account-mail.service';
import { PasswordResetService } from '../recovery/password-reset.service';
import { SessionsService } from '../sessions/sessions.service';
import { TokensService } from '../tokens/tokens.service';
import { ChangePasswordDto, DeleteAccountDto } from './dto/account.dto';
import { ReauthenticationService } from './reauthentication.service';

/** The account's own credentials: changing the password, a new secret key, deleting the account. */
@Injectable()
export class AccountService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly passwords: PasswordsService,
    private readonly tokens: TokensService,
    private readonly sessions: SessionsService,
    private readonly passwordResets: PasswordResetService,
    private readonly outbox: OutboxService,
    private readonly audit: AuditService,
    private readonly reauthentication: ReauthenticationService,
  ) {}

  /**
   * Changes the password, ends every other session of the user, voids
   * outstanding reset links and mails a notice, all at once.
   */
  async changePassword(
    principal: AuthPrincipal,
    dto: ChangePasswordDto,
    client: ClientInfo,
  ): Promise<void> {
    const user = await this.passwordAccount(principal);
    await this.reauthentication.confirmPassword(
      user,
      dto.currentPassword,
      client,
      () => new ProblemException('invalid_credentials', 'The current password is wrong.'),
    );
    this.passwords.assertStrong(dto.newPassword, user);
    const passwordHash = await this.passwords.hash(dto.newPassword);
    await this.dataSource.transaction(async (manager) => {
      await this.users.setPasswordHash(user.id, passwordHash, manager);
      await this.passwordResets.voidOutstanding(user, manager);
      await this.sessions.endAll(user.id, 'password_changed', manager, principal.sessionId);
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
    const userId = principal.user.id;
    const userSecret = this.tokens.newRefreshToken();
    // Under the account's row lock: the check and the new secret go together.
    await this.dataSource.transaction(async (manager) => {
      const credentials = await this.users.lockCredentials(userId, manager);
      if (!credentials?.secret || credentials.password) {
        throw new ProblemException(
          'forbidden',
          'Only secret-key accounts have a secret; this account signs in another way.',
        );
      }
      await this.users.setSecretHash(userId, this.tokens.hash(userSecret), manager);
      await this.sessions.endAll(userId, 'secret_rotated', manager, principal.sessionId);
      await this.audit.record(
        { type: 'user.updated', userId, client, detail: { fields: ['userSecret'] } },
        manager,
      );
    });
    return { userSecret };
  }

  /** Deletes the account (sessions and tokens go with it); password accounts confirm with the password. */
  async deleteAccount(
    principal: AuthPrincipal,
    dto: DeleteAccountDto,
    client: ClientInfo,
  ): Promise<void> {
    const user = await this.reauthentication.confirmPasswordIfAny(principal, dto.password, client);
    await this.dataSource.transaction(async (manager) => {
      await this.users.deleteUser(user.id, manager);
      await this.audit.record({ type: 'user.deleted', userId: user.id, client }, manager);
    });
  }

  private async passwordAccount(principal: AuthPrincipal): Promise<UserEntity> {
    const user = await this.users.findByIdWithPasswordHash(principal.user.id);
    if (!user?.passwordHash) {
      throw new ProblemException(
        'forbidden',
        'This account signs in with a secret key; it has no password.',
      );
    }
    return user;
  }
}

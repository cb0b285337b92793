import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ClientInfo } from '../../common/decorators/client-info.decorator';
import { AuditService } from '../../audit/audit.service';
import { ProblemException } from '../../common/problem';
import { OutboxService } from '../../mail/outbox.service';
import { AttemptLimiter } from '../../rate-limit/attempt-limiter.service';
import { UserEntity } from '../../users/user.entity';
import { UsersService } from '../../users/users.service';
import { ACCOUNT_MAIL, ON_REQUEST_MAIL_KINDS } from './account-mail.service';
import { AccountTokensRepository } from './account-tokens.repository';
import type { AcceptedDto } from './dto/email.dto';
import { TokensService } from '../tokens/tokens.service';

/** Wrong codes after which a code is void. */
export const MAX_CODE_ATTEMPTS = 5;

type Outcome = { kind: 'verified'; userId: string } | { kind: 'invalid' } | { kind: 'void' };

const invalidCode = () =>
  new ProblemException(
    'invalid_code',
    'This code is wrong, expired or already used. Ask for a new one if needed.',
  );

/** Proving an email address with a mailed 6-digit code. */
@Injectable()
export class EmailVerificationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly accountTokens: AccountTokensRepository,
    private readonly tokens: TokensService,
    private readonly outbox: OutboxService,
    private readonly audit: AuditService,
    private readonly limiter: AttemptLimiter,
  ) {}

  /**
   * Checks a code under a row lock, so concurrent submissions of the right
   * code succeed once. Wrong, expired, spent, superseded and unknown-address
   * codes get one answer; the fifth wrong code voids it (429).
   */
  async verify(email: string, code: string, client: ClientInfo): Promise<UserEntity> {
    const attempt = await this.limiter.begin('code', client.ip, email.trim().toLowerCase());
    const outcome = await this.dataSource.transaction(async (manager): Promise<Outcome> => {
      const user = await this.users.findByEmail(email, manager);
      const pending = user && (await this.accountTokens.lockVerification(user.id, manager));
      if (!user || !pending || pending.expiresAt.getTime() <= Date.now()) {
        return { kind: 'invalid' };
      }
      if (pending.attempts >= MAX_CODE_ATTEMPTS) {
        return { kind: 'void' };
      }
      if (
        !this.tokens.sameDigest(pending.codeHash, this.tokens.verificationCodeHash(user.id, code))
      ) {
        await this.accountTokens.recordFailedVerification(user.id, manager);
        return pending.attempts + 1 >= MAX_CODE_ATTEMPTS ? { kind: 'void' } : { kind: 'invalid' };
      }
      await this.accountTokens.deleteVerification(user.id, manager);
      await this.users.markEmailVerified(user.id, manager);
      await this.audit.record({ type: 'email.verified', userId: user.id, client }, manager);
      return { kind: 'verified', userId: user.id };
    });
    if (outcome.kind === 'verified') {
      await attempt.succeeded();
    }
    if (outcome.kind === 'void') {
      throw new ProblemException(
        'too_many_attempts',
        `Too many wrong codes: this code no longer works. Ask for a new one.`,
        undefined,
        { 'Retry-After': '60' },
      );
    }
    if (outcome.kind === 'invalid') {
      throw invalidCode();
    }
    return (await this.users.findById(outcome.userId)) as UserEntity;
  }

  /** Mails a new code (superseding the last) if the address has an unverified account; answers alike either way. */
  async resend(email: string, client: ClientInfo): Promise<AcceptedDto> {
    await this.outbox.sendOnRequest(
      { kind: ACCOUNT_MAIL.verification, recipient: email, requesterIp: client.ip },
      ON_REQUEST_MAIL_KINDS,
    );
    return {
      message:
        'If this address belongs to an account waiting for verification, a new code is on its way.',
    };
  }
}

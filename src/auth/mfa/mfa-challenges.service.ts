import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import type { ClientInfo } from '../../common/decorators/client-info.decorator';
import { ProblemException } from '../../common/problem';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import { OutboxService } from '../../mail/outbox.service';
import type { UserEntity } from '../../users/user.entity';
import { UsersService } from '../../users/users.service';
import type { Authentication } from '../sessions/sessions.service';
import type { AuthMethodRef } from '../tokens/assurance';
import { TokensService } from '../tokens/tokens.service';
import { MfaRepository } from './mfa.repository';
import { MfaChallengeEntity } from './mfa.entities';
import {
  invalidCode,
  MfaService,
  type SecondFactorKind,
  type SecondFactorMethod,
} from './mfa.service';
import { looksLikeTotp } from './totp';

/** Wrong codes after which an mfaToken is void. */
export const MAX_SECOND_STEP_FAILURES = 5;

/** A second factor that passed, and the `amr` values it adds. */
export interface PassedFactor {
  method: SecondFactorMethod;
  amr: AuthMethodRef[];
}

/** A second factor that failed, and why (for the audit). */
export interface RefusedFactor {
  refused: string;
}

/**
 * One try at a sign-in's second step: `check` proves the factor inside the
 * challenge's transaction, `method` names it in the audit of a failure, and
 * `refusal` is the answer to a wrong one.
 */
export interface SecondFactorProof {
  method: SecondFactorMethod;
  check: (
    user: UserEntity,
    challenge: MfaChallengeEntity,
    manager: EntityManager,
  ) => Promise<PassedFactor | RefusedFactor>;
  refusal: () => ProblemException;
}

/** A second step passed: who, with what, after which first factor. */
export interface PassedSecondStep {
  user: UserEntity;
  factor: PassedFactor;
  firstFactor: AuthMethodRef[];
}

/** A sign-in waiting for its second step. */
export interface PendingSecondStep {
  challenge: MfaChallengeEntity;
  user: UserEntity;
}

type Outcome =
  | { kind: 'passed'; factor: PassedFactor }
  | { kind: 'wrong'; reason: string }
  | { kind: 'void'; reason: string }
  | { kind: 'unknown' };

const invalidMfaToken = () =>
  new ProblemException(
    'invalid_mfa_token',
    'This sign-in is unknown, expired or already finished: sign in again.',
  );

/**
 * Sign-ins stopped halfway for their second factor. `open` makes the
 * mfaToken (opaque, single use, MFA_TOKEN_TTL seconds, stored as a hash,
 * bound to the account and to the first factor passed); `redeem` takes it
 * with a code. Codes are checked one at a time under the challenge's row
 * lock; the fifth wrong one voids it.
 */
@Injectable()
export class MfaChallengesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly challenges: MfaRepository,
    private readonly mfa: MfaService,
    private readonly users: UsersService,
    private readonly tokens: TokensService,
    private readonly outbox: OutboxService,
    private readonly audit: AuditService,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  /** The 403 `mfa_required` that stops a one-factor sign-in of this user, with a new mfaToken. */
  async open(user: UserEntity, first: Authentication): Promise<ProblemException> {
    const mfaToken = this.tokens.newRefreshToken();
    await this.challenges.openChallenge(
      {
        userId: user.id,
        tokenHash: this.tokens.hash(mfaToken),
        method: first.method,
        amr: [...first.amr],
      },
      this.config.mfa.tokenTtl,
    );
    return new ProblemException(
      'mfa_required',
      'This account has two-step sign-in: send the mfaToken to POST /api/v1/auth/mfa/verify with a code from the authenticator app, a recovery code or a passkey, as `methods` lists.',
      undefined,
      undefined,
      { mfaToken, methods: await this.mfa.methodsOf(user.id) },
    );
  }

  /**
   * The sign-in waiting behind this mfaToken, and its user. Unknown,
   * expired and spent tokens get 401; a token voided by wrong codes 429.
   */
  async pending(mfaToken: string): Promise<PendingSecondStep> {
    const found = await this.challenges.findChallenge(this.tokens.hash(mfaToken));
    if (!found || found.spentAt || found.expiresAt.getTime() <= Date.now()) {
      throw invalidMfaToken();
    }
    const user = await this.users.findById(found.userId);
    if (!user) {
      throw invalidMfaToken();
    }
    if (user.disabled) {
      throw new ProblemException('account_disabled', 'This account is disabled.');
    }
    if (found.failures >= MAX_SECOND_STEP_FAILURES) {
      throw tooManyAttempts();
    }
    return { challenge: found, user };
  }

  /** A TOTP or recovery code as the proof of a second step (see MfaService.useCode). */
  codeProof(code: string, client: ClientInfo): SecondFactorProof {
    return {
      method: secondFactorOf(code),
      check: async (user, _challenge, manager) => {
        const kind = await this.mfa.useCode(user, code, client, { recoveryCodes: true }, manager);
        return kind ? { method: kind, amr: ['otp'] } : { refused: 'invalid_code' };
      },
      refusal: invalidCode,
    };
  }

  /**
   * The user once the proof passes for this mfaToken. Unknown, expired and
   * spent tokens get 401; a wrong proof 400 (counted, in the challenge and
   * in the sign-in limits); the fifth wrong one, and any use after it, 429.
   */
  async redeem(
    mfaToken: string,
    proof: SecondFactorProof,
    client: ClientInfo,
  ): Promise<PassedSecondStep> {
    const { challenge: found, user } = await this.pending(mfaToken);
    const outcome = await this.dataSource.transaction(async (manager): Promise<Outcome> => {
      const challenge = await this.challenges.lockChallenge(found.id, manager);
      if (!challenge || challenge.spentAt || challenge.expiresAt.getTime() <= Date.now()) {
        return { kind: 'unknown' };
      }
      if (challenge.failures >= MAX_SECOND_STEP_FAILURES) {
        return { kind: 'void', reason: 'too_many_attempts' };
      }
      const result = await proof.check(user, challenge, manager);
      if (!('refused' in result)) {
        await this.challenges.spendChallenge(challenge.id, manager);
        return { kind: 'passed', factor: result };
      }
      await this.challenges.recordChallengeFailure(challenge.id, manager);
      return challenge.failures + 1 >= MAX_SECOND_STEP_FAILURES
        ? { kind: 'void', reason: result.refused }
        : { kind: 'wrong', reason: result.refused };
    });
    if (outcome.kind === 'passed') {
      this.outbox.deliverSoon();
      return { user, factor: outcome.factor, firstFactor: found.amr as AuthMethodRef[] };
    }
    if (outcome.kind === 'unknown') {
      throw invalidMfaToken();
    }
    await this.audit.record({
      type: 'login.failed',
      userId: user.id,
      client,
      outcome: 'failure',
      detail: { method: proof.method, reason: outcome.reason },
    });
    throw outcome.kind === 'void' ? tooManyAttempts() : proof.refusal();
  }
}

/** What a submitted code was meant to be, for the audit of a wrong one. */
export function secondFactorOf(code: string): SecondFactorKind {
  return looksLikeTotp(code.trim()) ? 'totp' : 'recovery_code';
}

function tooManyAttempts(): ProblemException {
  return new ProblemException(
    'too_many_attempts',
    'Too many wrong codes: this sign-in no longer works. Sign in again.',
    undefined,
    { 'Retry-After': '60' },
  );
}

import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import type { AuthPrincipal } from '../../common/auth-principal';
import type { ClientInfo } from '../../common/decorators/client-info.decorator';
import { ProblemException } from '../../common/problem';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import { OutboxService } from '../../mail/outbox.service';
import { AttemptLimiter } from '../../rate-limit/attempt-limiter.service';
import { signInSubject } from '../../rate-limit/sign-in-subject';
import { UsersService } from '../../users/users.service';
import { ReauthenticationService } from '../account/reauthentication.service';
import { SignInMethodsService } from '../account/sign-in-methods.service';
import type { SecondFactorProof } from '../mfa/mfa-challenges.service';
import { MfaService } from '../mfa/mfa.service';
import { AccountMailService } from '../recovery/account-mail.service';
import type { AuthMethodRef } from '../tokens/assurance';
import { authenticatorName } from './authenticator-names';
import { AddPasskeyDto, PasskeyDto } from './dto/passkey.dto';
import type { PasskeyEntity } from './passkey.entities';
import { type IssuedChallenge, PasskeysRepository } from './passkeys.repository';

type WebAuthnServer = typeof import('@simplewebauthn/server');
type WebAuthnHelpers = typeof import('@simplewebauthn/server/helpers');
let library: { server: WebAuthnServer; helpers: WebAuthnHelpers } | undefined;

/**
 * @simplewebauthn/server, loaded at the first passkey request: its
 * certificate and ASN.1 parsers take a fifth of a second to load, which the
 * start (and every request that is not about passkeys) need not wait for.
 */
function webauthn(): { server: WebAuthnServer; helpers: WebAuthnHelpers } {
  /* eslint-disable @typescript-eslint/no-require-imports */
  library ??= {
    server: require('@simplewebauthn/server') as WebAuthnServer,
    helpers: require('@simplewebauthn/server/helpers') as WebAuthnHelpers,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  return library;
}

/** How long a WebAuthn challenge waits for its ceremony. */
export const CHALLENGE_SECONDS = 300;

/** The security notices of passkeys (the payload holds the passkey's name only). */
export const PASSKEY_MAIL = { added: 'passkey_added', removed: 'passkey_removed' } as const;

/** Why an assertion was refused, as the audit records it. */
type Refusal = 'invalid_assertion' | 'counter_regressed' | 'unknown_credential';

/** An assertion checked: who it proves, and whether the authenticator verified the person. */
export type AssertionOutcome =
  | { ok: true; passkey: PasskeyEntity; userVerified: boolean }
  | { ok: false; reason: Refusal; passkey: PasskeyEntity | null };

const invalidPasskey = (
  detail = 'The passkey could not be verified: start again from the options.',
) => new ProblemException('invalid_passkey', detail);

const notFound = () => new ProblemException('not_found', 'No such passkey on this account.');

/** The `amr` values of a passkey assertion (RFC 8176): `hwk`, and `user` when the authenticator verified the person. */
export function passkeyAmr(userVerified: boolean): AuthMethodRef[] {
  return userVerified ? ['hwk', 'user'] : ['hwk'];
}

/** The WebAuthn user handle of an account: its UUID's 16 bytes. */
function userHandleOf(userId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(userId.replace(/-/g, ''), 'hex'));
}

/** How options name passkeys to the browser (excluded or allowed ones). */
function descriptors(passkeys: PasskeyEntity[]): Array<{ id: string; transports: string[] }> {
  return passkeys.map((passkey) => ({ id: passkey.credentialId, transports: passkey.transports }));
}

function toDto(passkey: PasskeyEntity): PasskeyDto {
  return {
    id: passkey.id,
    name: passkey.name,
    createdAt: passkey.createdAt.toISOString(),
    lastUsedAt: passkey.lastUsedAt ? passkey.lastUsedAt.toISOString() : null,
    backedUp: passkey.backedUp,
  };
}

/**
 * Passkeys (WebAuthn, by @simplewebauthn/server): adding one to a signed-in
 * account, their list, names and removal, and the check of an assertion for
 * a passwordless sign-in or a second step. Challenges are kept server-side,
 * bound to what they were issued for, and spent by their first use.
 */
@Injectable()
export class PasskeysService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly passkeys: PasskeysRepository,
    private readonly users: UsersService,
    private readonly mfa: MfaService,
    private readonly signInMethods: SignInMethodsService,
    private readonly reauthentication: ReauthenticationService,
    private readonly limiter: AttemptLimiter,
    private readonly outbox: OutboxService,
    private readonly mails: AccountMailService,
    private readonly audit: AuditService,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const count = (userId: string, manager?: EntityManager) => this.passkeys.count(userId, manager);
    this.mfa.registerFactor({
      method: 'passkey',
      count,
      removeAll: (userId, manager) => this.passkeys.removeAll(userId, manager),
    });
    this.signInMethods.register('passkey', count);
    this.mails.registerNotice(
      PASSKEY_MAIL.added,
      'A passkey was added to your account',
      (payload) =>
        `A passkey named "${String(payload.name)}" was added to your account: it signs you in without a password, and counts as a second factor.`,
    );
    this.mails.registerNotice(
      PASSKEY_MAIL.removed,
      'A passkey was removed from your account',
      (payload) =>
        `The passkey named "${String(payload.name)}" was removed from your account: it no longer signs you in.`,
    );
  }

  /**
   * Options for a new passkey of the caller: a discoverable credential, user
   * verification preferred, the account's passkeys excluded. Its challenge
   * is bound to the caller's session.
   */
  async registrationOptions(
    principal: AuthPrincipal,
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const user = await this.users.getById(principal.user.id);
    const existing = await this.passkeys.listByUser(user.id);
    const account = user.email ?? user.username ?? user.id;
    const options = await webauthn().server.generateRegistrationOptions({
      rpName: this.config.webauthn.name,
      rpID: this.config.webauthn.id,
      userID: userHandleOf(user.id),
      userName: account,
      userDisplayName: user.fullName ?? account,
      timeout: CHALLENGE_SECONDS * 1000,
      attestationType: 'none',
      excludeCredentials: descriptors(existing),
      authenticatorSelection: {
        residentKey: 'required',
        requireResidentKey: true,
        userVerification: 'preferred',
      },
    });
    await this.passkeys.issueChallenge(
      {
        challenge: options.challenge,
        purpose: 'register',
        userId: user.id,
        sessionId: principal.sessionId,
        mfaChallengeId: null,
      },
      CHALLENGE_SECONDS,
    );
    return options;
  }

  /**
   * Verifies the browser's answer to the caller's registration options and
   * stores the passkey: the account now has a second factor. A notice is
   * mailed and the addition audited.
   */
  async add(principal: AuthPrincipal, dto: AddPasskeyDto, client: ClientInfo): Promise<PasskeyDto> {
    const userId = principal.user.id;
    const verification = await webauthn()
      .server.verifyRegistrationResponse({
        response: dto.response as unknown as RegistrationResponseJSON,
        expectedChallenge: async (challenge) => {
          const issued = await this.passkeys.takeChallenge(challenge);
          return (
            issued?.purpose === 'register' &&
            issued.userId === userId &&
            issued.sessionId === principal.sessionId
          );
        },
        expectedOrigin: this.config.webauthn.origins,
        expectedRPID: this.config.webauthn.id,
        requireUserVerification: false,
      })
      .catch(() => null);
    if (!verification?.verified) {
      throw invalidPasskey();
    }
    const info = verification.registrationInfo;
    const added = await this.dataSource.transaction(async (manager) => {
      const passkey = await this.passkeys.add(
        {
          userId,
          credentialId: info.credential.id,
          publicKey: Buffer.from(info.credential.publicKey),
          counter: info.credential.counter,
          transports: info.credential.transports ?? [],
          deviceType: info.credentialDeviceType,
          backedUp: info.credentialBackedUp,
          aaguid: info.aaguid,
          name: dto.name ?? authenticatorName(info.aaguid),
        },
        manager,
      );
      if (!passkey) {
        return null;
      }
      await this.mfa.refreshEnabled(userId, manager);
      await this.mails.queueNotice(manager, PASSKEY_MAIL.added, userId, client, {
        name: passkey.name,
      });
      await this.audit.record(
        {
          type: 'passkey.added',
          userId,
          client,
          detail: { passkeyId: passkey.id, aaguid: passkey.aaguid, backedUp: passkey.backedUp },
        },
        manager,
      );
      return passkey;
    });
    if (!added) {
      throw invalidPasskey('This passkey is registered already.');
    }
    this.outbox.deliverSoon();
    return toDto(added);
  }

  async list(principal: AuthPrincipal): Promise<PasskeyDto[]> {
    return (await this.passkeys.listByUser(principal.user.id)).map(toDto);
  }

  async rename(principal: AuthPrincipal, id: string, name: string): Promise<PasskeyDto> {
    const passkey = await this.passkeys.rename(principal.user.id, id, name);
    if (!passkey) {
      throw notFound();
    }
    return toDto(passkey);
  }

  /**
   * Removes one of the caller's passkeys, once the owner is proven (the
   * password, or a recent sign-in for accounts without one), unless it is
   * the account's last way in (409). A notice is mailed.
   */
  async remove(
    principal: AuthPrincipal,
    id: string,
    password: string | undefined,
    client: ClientInfo,
  ): Promise<void> {
    const user = await this.reauthentication.confirm(principal, password, client);
    await this.dataSource.transaction(async (manager) => {
      const passkey = await this.passkeys.lock(user.id, id, manager);
      if (!passkey) {
        throw notFound();
      }
      await this.signInMethods.assertOneRemains(user.id, { kind: 'passkey', count: 1 }, manager);
      await this.passkeys.remove(passkey.id, manager);
      await this.mfa.refreshEnabled(user.id, manager);
      await this.mails.queueNotice(manager, PASSKEY_MAIL.removed, user, client, {
        name: passkey.name,
      });
      await this.audit.record(
        { type: 'passkey.removed', userId: user.id, client, detail: { passkeyId: passkey.id } },
        manager,
      );
    });
    this.outbox.deliverSoon();
  }

  /** Options for a passwordless sign-in: no allowCredentials, so the browser offers its discoverable passkeys (also through autofill). */
  async signInOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.requestOptions(
      { purpose: 'login', userId: null, sessionId: null, mfaChallengeId: null },
      [],
    );
  }

  /**
   * Checks a passwordless sign-in's assertion: the account it proves, or
   * why not (audited by the caller). Counted in the sign-in limits: per
   * address and account once the credential is known, per address before.
   */
  async checkSignIn(
    response: Record<string, unknown>,
    client: ClientInfo,
  ): Promise<AssertionOutcome> {
    const passkey = await this.findCredential(response);
    const attempt = await this.limiter.begin(
      passkey ? 'signin' : 'secret',
      client.ip,
      passkey ? signInSubject({ id: passkey.userId }, '') : null,
    );
    if (!passkey) {
      await this.spendChallengeOf(response);
      return { ok: false, reason: 'unknown_credential', passkey: null };
    }
    const outcome = await this.verifyAssertion(
      passkey,
      response,
      (issued) => issued?.purpose === 'login',
    );
    if (outcome.ok) {
      await attempt.succeeded();
    }
    return outcome;
  }

  /** Options for the second step of this user's sign-in: their passkeys, the challenge bound to that sign-in. */
  async secondStepOptions(
    userId: string,
    mfaChallengeId: string,
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const passkeys = await this.passkeys.listByUser(userId);
    if (passkeys.length === 0) {
      throw new ProblemException(
        'not_found',
        'This account has no passkey: finish the sign-in with a code instead.',
      );
    }
    return this.requestOptions(
      { purpose: 'second_step', userId, sessionId: null, mfaChallengeId },
      passkeys,
    );
  }

  /**
   * Request options (user verification preferred), their challenge stored
   * with what it is issued for; `allowed` lists the passkeys the browser may
   * use (none: any discoverable one).
   */
  private async requestOptions(
    issuedFor: Omit<IssuedChallenge, 'challenge'>,
    allowed: PasskeyEntity[],
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await webauthn().server.generateAuthenticationOptions({
      rpID: this.config.webauthn.id,
      userVerification: 'preferred',
      timeout: CHALLENGE_SECONDS * 1000,
      ...(allowed.length > 0 ? { allowCredentials: descriptors(allowed) } : {}),
    });
    await this.passkeys.issueChallenge(
      { challenge: options.challenge, ...issuedFor },
      CHALLENGE_SECONDS,
    );
    return options;
  }

  /**
   * A passkey assertion as the proof of a sign-in's second step: one of the
   * account's passkeys, answering a challenge issued for this very sign-in.
   * Counted in the sign-in limits like a code.
   */
  secondStepProof(response: Record<string, unknown>, client: ClientInfo): SecondFactorProof {
    return {
      method: 'passkey',
      check: async (user, challenge, manager) => {
        const attempt = await this.limiter.begin('signin', client.ip, signInSubject(user, ''));
        const passkey = await this.findCredential(response, manager);
        if (passkey?.userId !== user.id) {
          await this.spendChallengeOf(response, manager);
          return { refused: 'unknown_credential' };
        }
        const outcome = await this.verifyAssertion(
          passkey,
          response,
          (issued) =>
            issued?.purpose === 'second_step' &&
            issued.userId === user.id &&
            issued.mfaChallengeId === challenge.id,
          manager,
        );
        if (!outcome.ok) {
          return { refused: outcome.reason };
        }
        await attempt.succeeded();
        return { method: 'passkey', amr: passkeyAmr(outcome.userVerified) };
      },
      refusal: () =>
        new ProblemException(
          'invalid_code',
          'This passkey could not be verified for this sign-in: ask for new passkey options and try again.',
        ),
    };
  }

  /**
   * Spends the challenge an assertion answers (read from its
   * clientDataJSON) when no passkey can check it: a challenge works once,
   * whatever became of its first use.
   */
  private async spendChallengeOf(
    response: Record<string, unknown>,
    manager?: EntityManager,
  ): Promise<void> {
    const inner = response.response as { clientDataJSON?: unknown } | undefined;
    if (typeof inner?.clientDataJSON !== 'string') {
      return;
    }
    try {
      const { challenge } = webauthn().helpers.decodeClientDataJSON(inner.clientDataJSON);
      if (typeof challenge === 'string' && challenge.length <= 128) {
        await this.passkeys.takeChallenge(challenge, manager);
      }
    } catch {
      // Not a clientDataJSON: there is no challenge to spend.
    }
  }

  private findCredential(
    response: Record<string, unknown>,
    manager?: EntityManager,
  ): Promise<PasskeyEntity | null> {
    const id = response.id;
    return typeof id === 'string' && id.length > 0 && id.length <= 1400
      ? this.passkeys.findByCredentialId(id, manager)
      : Promise.resolve(null);
  }

  /**
   * @simplewebauthn/server checks the assertion against the stored passkey:
   * the challenge (spent here, whatever the outcome, and accepted when
   * `expected` says it was issued for this), origin, RP ID, flags, signature
   * and counter; the user handle, when sent, must be the passkey's owner.
   * The new counter is stored by compare-and-set. A counter that went
   * backwards on an otherwise genuine assertion (a cloned authenticator) is
   * told apart from any other failure, for the audit.
   */
  private async verifyAssertion(
    passkey: PasskeyEntity,
    response: Record<string, unknown>,
    expected: (issued: IssuedChallenge | null) => boolean,
    manager?: EntityManager,
  ): Promise<AssertionOutcome> {
    const assertion = response as unknown as AuthenticationResponseJSON;
    let challengeAccepted: boolean | undefined;
    const check = (counter: number) =>
      webauthn().server.verifyAuthenticationResponse({
        response: assertion,
        expectedChallenge: async (challenge) => {
          challengeAccepted ??= expected(await this.passkeys.takeChallenge(challenge, manager));
          return challengeAccepted;
        },
        expectedOrigin: this.config.webauthn.origins,
        expectedRPID: this.config.webauthn.id,
        credential: {
          id: passkey.credentialId,
          publicKey: new Uint8Array(passkey.publicKey),
          counter,
          transports: passkey.transports,
        },
        requireUserVerification: false,
      });
    const stored = Number(passkey.counter);
    const verification = await check(stored).catch(async (error: unknown) => {
      // The library checks the counter before the signature: run it again
      // without the counter, with the challenge's first verdict, to learn
      // whether the assertion is otherwise genuine.
      if (stored > 0 && error instanceof Error && /counter/i.test(error.message)) {
        const genuine = await check(0).catch(() => null);
        if (genuine?.verified) {
          return 'counter_regressed' as const;
        }
      }
      return null;
    });
    if (verification === 'counter_regressed') {
      return { ok: false, reason: 'counter_regressed', passkey };
    }
    const handle = assertion.response?.userHandle;
    if (
      !verification?.verified ||
      (handle && handle !== Buffer.from(userHandleOf(passkey.userId)).toString('base64url'))
    ) {
      return { ok: false, reason: 'invalid_assertion', passkey };
    }
    const info = verification.authenticationInfo;
    if (
      !(await this.passkeys.recordUse(
        passkey.id,
        info.newCounter,
        info.credentialBackedUp,
        manager,
      ))
    ) {
      return { ok: false, reason: 'counter_regressed', passkey };
    }
    return { ok: true, passkey, userVerified: info.userVerified };
  }
}

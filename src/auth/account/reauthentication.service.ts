import { Injectable } from '@nestjs/common';
import type { AuthPrincipal } from '../../common/auth-principal';
import type { ClientInfo } from '../../common/decorators/client-info.decorator';
import { ProblemException } from '../../common/problem';
import { fieldProblem } from '../../common/validation';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import { AttemptLimiter } from '../../rate-limit/attempt-limiter.service';
import { signInSubject } from '../../rate-limit/sign-in-subject';
import type { UserEntity } from '../../users/user.entity';
import { UsersService } from '../../users/users.service';
import { PasswordsService } from '../passwords/passwords.service';
import { SessionsService } from '../sessions/sessions.service';

const wrongPassword = () => new ProblemException('invalid_credentials', 'The password is wrong.');

/**
 * Proof, before a sensitive change, that the caller is the account's owner
 * and not someone holding a stolen access token: the password for a
 * password account; for an account without one (secret key, passkey or
 * another provider only), a sign-in less than REAUTH_MAX_AGE seconds old.
 */
@Injectable()
export class ReauthenticationService {
  constructor(
    private readonly users: UsersService,
    private readonly passwords: PasswordsService,
    private readonly sessions: SessionsService,
    private readonly limiter: AttemptLimiter,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  /** The caller's account (with its password hash) once proven; 400, 401 or 403 otherwise. */
  async confirm(
    principal: AuthPrincipal,
    password: string | undefined,
    client: ClientInfo,
  ): Promise<UserEntity> {
    const user = await this.confirmPasswordIfAny(principal, password, client);
    if (
      !user.passwordHash &&
      !(await this.sessions.isRecent(principal, this.config.reauthMaxAge))
    ) {
      throw new ProblemException(
        'reauthentication_required',
        `Sign in again first: this change needs a sign-in less than ${this.config.reauthMaxAge} seconds old.`,
      );
    }
    return user;
  }

  /**
   * The caller's account (with its password hash); for a password account,
   * once `password` is confirmed (400 when it is missing, 401 when wrong).
   */
  async confirmPasswordIfAny(
    principal: AuthPrincipal,
    password: string | undefined,
    client: ClientInfo,
  ): Promise<UserEntity> {
    const user = await this.users.findByIdWithPasswordHash(principal.user.id);
    if (!user) {
      throw new ProblemException('unauthorized', 'This account no longer exists.');
    }
    if (user.passwordHash) {
      if (password === undefined) {
        throw fieldProblem('password', 'password is required: this account has one');
      }
      await this.confirmPassword(user, password, client, wrongPassword);
    }
    return user;
  }

  /**
   * Checks a signed-in account's password. A stolen access token must not
   * become a password oracle: failures count in the sign-in limits (per
   * address and account, and per account), and once they are reached even
   * the right password is refused until the window passes.
   */
  async confirmPassword(
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
}

import { MetricsService } from '../../metrics/metrics.service';
import { Injectable, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import * as argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import { ProblemException } from '../../common/problem';
import { HashingPool } from './hashing-pool';
import { sharedStrengthChecker } from './strength/strength-checker';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;
/** zxcvbn score below which a password is refused: 0-1 fall to under a million guesses. */
const MIN_SCORE = 2;

export interface PasswordCheck {
  valid: boolean;
  /** The hash was made with other parameters than the configured ones: store a new one. */
  needsRehash: boolean;
}

/** Length in characters (code points) after NFKC normalisation, as the policy counts it. */
export function passwordLength(password: string): number {
  return [...password.normalize('NFKC')].length;
}

/** argon2's own salt length. */
const SALT_BYTES = 16;

/**
 * argon2id hashing with the configured cost, the password policy (length,
 * common and guessable passwords, closeness to the account's own names) and
 * rehashing when the cost parameters change.
 */
@Injectable()
export class PasswordsService implements OnModuleInit, OnModuleDestroy {
  private readonly options: argon2.Options & { raw?: false };
  private dummyHash?: Promise<string>;
  private warmUp?: NodeJS.Timeout;
  private readonly pool: HashingPool;

  constructor(@InjectAppConfig() config: AppConfig, @Optional() metrics?: MetricsService) {
    const { concurrency, queueLimit, threads } = config.hashing;
    // When the pool's threads are no more than the hashes at once, each thread's next hash
    // waits in libuv's queue (docs/performance.md, changes 17 and 18).
    const ahead = threads <= concurrency ? threads : 0;
    this.pool = new HashingPool(concurrency, queueLimit, ahead);
    metrics?.readFrom({ hashing: () => this.pool.stats() });
    this.options = {
      type: argon2.argon2id,
      memoryCost: config.argon2.memoryCost,
      timeCost: config.argon2.timeCost,
      parallelism: config.argon2.parallelism,
    };
    // Started now, on the hashing threads, so that it runs while the rest of the app starts.
    this.getDummyHash().catch(() => undefined);
  }

  /**
   * The dummy hash (started by the constructor) is made before the service answers (so that the first
   * sign-in of an unknown account is not faster than the rest, and so that
   * it never takes a hashing slot from a request); zxcvbn's dictionaries (a
   * third of a second of CPU, then a quarter for their index, in two turns of
   * the event loop) are built two seconds after start, once the service is up,
   * or at first use.
   */
  async onModuleInit(): Promise<void> {
    this.warmUp = setTimeout(() => sharedStrengthChecker(), 2000).unref();
    await this.getDummyHash();
  }

  onModuleDestroy(): void {
    clearTimeout(this.warmUp);
  }

  /**
   * The salt (16 random bytes, argon2's default length) is drawn here, at
   * once: left to argon2, it is drawn on the hashing threads first, a second
   * trip through them (and through the event loop) for every hash.
   */
  hash(password: string): Promise<string> {
    const normalized = password.normalize('NFKC');
    return this.pool.run(() =>
      argon2.hash(normalized, { ...this.options, salt: randomBytes(SALT_BYTES) }),
    );
  }

  hashingStats(): ReturnType<HashingPool['stats']> {
    return this.pool.stats();
  }

  /**
   * Checks a password against a stored hash. With no hash (unknown account,
   * or one without a password) it still does the same argon2 work against a
   * dummy hash, so the answer takes the same time either way.
   */
  async verify(hash: string | null | undefined, password: string): Promise<PasswordCheck> {
    const normalized = password.normalize('NFKC');
    if (!hash) {
      const dummy = await this.getDummyHash();
      await this.pool.run(() => argon2.verify(dummy, normalized).catch(() => false));
      return { valid: false, needsRehash: false };
    }
    const valid = await this.pool.run(() => argon2.verify(hash, normalized).catch(() => false));
    return { valid, needsRehash: valid && argon2.needsRehash(hash, this.options) };
  }

  /** Throws 400 `weak_password` for a password that is common, guessable or close to the account's names. */
  assertStrong(
    password: string,
    account: { email?: string | null; username?: string | null },
  ): void {
    const normalized = password.normalize('NFKC');
    const names = [account.email, account.email?.split('@')[0], account.username].filter(
      (name): name is string => typeof name === 'string' && name.length > 0,
    );
    const lowered = normalized.toLowerCase();
    const sameAsName = names.some((name) => lowered === name.toLowerCase());
    const result = sharedStrengthChecker().check(normalized, names);
    if (sameAsName || result.score < MIN_SCORE) {
      const hint = sameAsName
        ? 'It must not be your email or username.'
        : (result.feedback.warning ?? 'It is too common or too easy to guess.');
      throw new ProblemException(
        'weak_password',
        `This password is too weak. ${hint} A few unrelated words make a strong one.`,
        [{ field: 'password', message: 'password is too common or too easy to guess' }],
      );
    }
  }

  private getDummyHash(): Promise<string> {
    this.dummyHash ??= this.hash(randomBytes(32).toString('base64url'));
    return this.dummyHash;
  }
}

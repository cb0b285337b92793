import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { normalizeIp } from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import { type AppConfig, InjectAppConfig } from '../config/configuration';
import type { AttemptCounters, CounterLimit } from './attempt-counters';
import { failClosed, rateLimitedProblem } from './rate-limit.problems';

export const ATTEMPT_COUNTERS = Symbol('ATTEMPT_COUNTERS');

/** What is being guessed: a password sign-in, an email code, a secret key. */
export type AttemptKind = 'signin' | 'code' | 'secret';

const PAIR_WINDOW_MS = 15 * 60_000;
const SUBJECT_WINDOW_MS = 60 * 60_000;

/** An attempt counted against the limits; it stays counted as a failure unless `succeeded()`. */
export interface Attempt {
  succeeded(): Promise<void>;
}

const NO_LIMIT: Attempt = { succeeded: () => Promise.resolve() };

function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('base64url');
}

/**
 * Failed-attempt limits on the routes where something is guessed: per
 * (client address, subject) and per subject from every address together. The
 * subject is what is guessed at (an account, or an identifier that has no
 * account: both are counted alike), hashed before it becomes a key. Secret
 * keys have no identifier besides the secret, so they are limited per address.
 */
@Injectable()
export class AttemptLimiter implements OnModuleDestroy {
  constructor(
    @Inject(ATTEMPT_COUNTERS) private readonly counters: AttemptCounters,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  /**
   * Counts one attempt before its credential is checked, or answers 429
   * (Retry-After and RateLimit-* headers) when a limit is reached: no hash is
   * computed for a refused attempt.
   */
  async begin(kind: AttemptKind, ip: string, subject: string | null): Promise<Attempt> {
    if (!this.config.rateLimit) {
      return NO_LIMIT;
    }
    const limits = this.limitsFor(kind, ip, subject);
    const refusal = await this.guard(() => this.counters.reserve(limits));
    if (refusal) {
      throw rateLimitedProblem(
        refusal.limit.limit,
        refusal.limit.windowMs / 1000,
        Math.max(1, Math.ceil(refusal.retryAfterMs / 1000)),
        kind === 'code'
          ? 'Too many wrong codes for this address; try again later.'
          : 'Too many failed sign-ins; try again later, or reset the password.',
      );
    }
    const keys = limits.map((limit) => limit.key);
    return { succeeded: () => this.guard(() => this.counters.release(keys)) };
  }

  /** Forgets the failures counted against a subject (its owner proved control, e.g. by a password reset). */
  async forgive(kind: AttemptKind, ip: string, subject: string): Promise<void> {
    if (!this.config.rateLimit) {
      return;
    }
    const keys = this.limitsFor(kind, ip, subject).map((limit) => limit.key);
    await this.guard(() => this.counters.clear(keys));
  }

  onModuleDestroy(): Promise<void> {
    return this.counters.close();
  }

  private limitsFor(kind: AttemptKind, ip: string, subject: string | null): CounterLimit[] {
    const address = normalizeIp(ip);
    const { failuresPerAddressAndIdentifier, failuresPerIdentifier } = this.config.rateLimits;
    const pair: CounterLimit = {
      key: `auth:fail:${kind}:pair:${digest(address, subject ?? '')}`,
      limit: failuresPerAddressAndIdentifier,
      windowMs: PAIR_WINDOW_MS,
    };
    if (subject === null) {
      return [pair];
    }
    return [
      pair,
      {
        key: `auth:fail:${kind}:subject:${digest(subject)}`,
        limit: failuresPerIdentifier,
        windowMs: SUBJECT_WINDOW_MS,
      },
    ];
  }

  /** A store that cannot be reached fails closed: 503, never an unlimited attempt. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw failClosed(error);
    }
  }
}

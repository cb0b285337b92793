import { ProblemException } from '../../common/problem';

/**
 * At most `concurrency` argon2 computations at once (each holds
 * ARGON2_MEMORY_KIB), the rest waiting in order; past `queueLimit` waiting,
 * a request is refused with 503 rather than queued, so a flood of sign-ins
 * costs bounded memory and bounded waiting.
 */
export class HashingPool {
  private active = 0;
  private peak = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly concurrency: number,
    readonly queueLimit: number,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.queueLimit) {
        throw new ProblemException(
          'service_unavailable',
          'Too many sign-ins at once; try again in a moment.',
          undefined,
          { 'Retry-After': '1' },
        );
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active += 1;
    }
    this.peak = Math.max(this.peak, this.active);
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) {
        // The slot passes straight to the next in line: `active` stays the same.
        next();
      } else {
        this.active -= 1;
      }
    }
  }

  /** For operators and tests: what runs now, what waits, and the most that ever ran at once. */
  stats(): { active: number; waiting: number; peak: number } {
    return { active: this.active, waiting: this.waiting.length, peak: this.peak };
  }
}

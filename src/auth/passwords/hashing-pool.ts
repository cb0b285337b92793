import { ProblemException } from '../../common/problem';

/**
 * At most `concurrency` argon2 computations at once (each holds
 * ARGON2_MEMORY_KIB), the rest waiting in order; past `queueLimit` waiting,
 * a request is refused with 503 rather than queued, so a flood of sign-ins
 * costs bounded memory and bounded waiting.
 *
 * `ahead`: how many more to hand to the hashing threads than they run at
 * once, when the process's thread pool has no more threads than
 * `concurrency` (main.ts sizes it so): those wait in libuv's own queue, and a
 * thread that finishes a hash starts the next at once instead of idling
 * until the event loop hands it one. With more threads than that, `ahead`
 * must stay 0, or the extra hashes would run at once and take their memory.
 */
export class HashingPool {
  private active = 0;
  private peak = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly handed: number;

  constructor(
    readonly concurrency: number,
    readonly queueLimit: number,
    readonly ahead = 0,
  ) {
    this.handed = concurrency + ahead;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.handed) {
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

  /**
   * For operators and tests: what the hashing threads have now (running, or
   * next in their queue), what waits for them, and the most they ever had at once.
   */
  stats(): { active: number; waiting: number; peak: number } {
    return { active: this.active, waiting: this.waiting.length, peak: this.peak };
  }
}

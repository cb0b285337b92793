import type Redis from 'ioredis';
import type { Cluster } from 'ioredis';

/** One counter and its ceiling: at most `limit` attempts per `windowMs`, counted from the first. */
export interface CounterLimit {
  key: string;
  limit: number;
  windowMs: number;
}

/** The first full counter of a refused reservation, and how long until its window ends. */
export interface Refusal {
  limit: CounterLimit;
  retryAfterMs: number;
}

/**
 * Counters of attempts that may fail (sign-ins, codes). `reserve` is atomic:
 * it counts one attempt on every counter, or, when one of them is already
 * full, counts nothing and says which; so concurrent attempts can never get
 * past a limit together. An attempt that succeeds is handed back with
 * `release`; a failed one stays counted until its window ends.
 */
export interface AttemptCounters {
  reserve(limits: CounterLimit[]): Promise<Refusal | null>;
  release(keys: string[]): Promise<void>;
  clear(keys: string[]): Promise<void>;
  close(): Promise<void>;
}

/** One process's counters, for a single instance (no REDIS_URL). Expired counters are swept every minute. */
export class MemoryAttemptCounters implements AttemptCounters {
  private readonly counters = new Map<string, { count: number; expiresAt: number }>();
  private readonly sweeper = setInterval(() => this.sweep(), 60_000).unref();

  reserve(limits: CounterLimit[]): Promise<Refusal | null> {
    const now = Date.now();
    for (const limit of limits) {
      const counter = this.live(limit.key, now);
      if (counter && counter.count >= limit.limit) {
        return Promise.resolve({ limit, retryAfterMs: counter.expiresAt - now });
      }
    }
    for (const limit of limits) {
      const counter = this.live(limit.key, now);
      if (counter) {
        counter.count += 1;
      } else {
        this.counters.set(limit.key, { count: 1, expiresAt: now + limit.windowMs });
      }
    }
    return Promise.resolve(null);
  }

  release(keys: string[]): Promise<void> {
    const now = Date.now();
    for (const key of keys) {
      const counter = this.live(key, now);
      if (counter && counter.count > 0) {
        counter.count -= 1;
      }
    }
    return Promise.resolve();
  }

  clear(keys: string[]): Promise<void> {
    keys.forEach((key) => this.counters.delete(key));
    return Promise.resolve();
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    this.counters.clear();
    return Promise.resolve();
  }

  private live(key: string, now: number) {
    const counter = this.counters.get(key);
    if (counter && counter.expiresAt <= now) {
      this.counters.delete(key);
      return undefined;
    }
    return counter;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, counter] of this.counters) {
      if (counter.expiresAt <= now) {
        this.counters.delete(key);
      }
    }
  }
}

// KEYS: the counters; ARGV: limit and window (ms) of each, in turn.
const RESERVE = `
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[2 * i - 1]) then
    local left = redis.call('PTTL', key)
    if left < 0 then left = tonumber(ARGV[2 * i]) end
    return { i, left }
  end
end
for i, key in ipairs(KEYS) do
  redis.call('INCR', key)
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ARGV[2 * i]) end
end
return { 0, 0 }
`;

const RELEASE = `
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0
`;

/** Counters in Redis (REDIS_URL), shared by every instance; each window is the key's expiry. */
export class RedisAttemptCounters implements AttemptCounters {
  constructor(private readonly redis: Redis | Cluster) {}

  async reserve(limits: CounterLimit[]): Promise<Refusal | null> {
    const args = limits.flatMap((limit) => [limit.limit, limit.windowMs]);
    const [index, left] = (await this.redis.eval(
      RESERVE,
      limits.length,
      ...limits.map((limit) => limit.key),
      ...args,
    )) as [number, number];
    return index === 0 ? null : { limit: limits[index - 1], retryAfterMs: left };
  }

  async release(keys: string[]): Promise<void> {
    await this.redis.eval(RELEASE, keys.length, ...keys);
  }

  async clear(keys: string[]): Promise<void> {
    await this.redis.del(...keys);
  }

  /** The connection belongs to the throttler's storage, which closes it. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

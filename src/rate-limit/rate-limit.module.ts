import { Global, Logger, Module } from '@nestjs/common';
import { getStorageToken, ThrottlerModule, type ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { type AppConfig, appConfig } from '../config/configuration';
import { AddressRateLimitGuard } from './address-rate-limit.guard';
import { MemoryAttemptCounters, RedisAttemptCounters } from './attempt-counters';
import { ATTEMPT_COUNTERS, AttemptLimiter } from './attempt-limiter.service';

/** A broken Redis must answer fast (503), not hold requests while ioredis retries. */
const REDIS_OPTIONS = { maxRetriesPerRequest: 1, connectTimeout: 2000, disconnectTimeout: 200 };

function redisStorage(url: string): ThrottlerStorageRedisService {
  // Loaded only with REDIS_URL: ioredis is a cost at every start otherwise.
  const { ThrottlerStorageRedisService: RedisStorage } =
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@nest-lab/throttler-storage-redis') as typeof import('@nest-lab/throttler-storage-redis');
  const storage = new RedisStorage(url, REDIS_OPTIONS);
  const logger = new Logger('RateLimit');
  let down = false;
  storage.redis.on('error', (error: Error) => {
    if (!down) {
      down = true;
      logger.error(`Redis is unreachable (${error.message}); limited routes answer 503`);
    }
  });
  storage.redis.on('ready', () => {
    if (down) {
      down = false;
      logger.log('Redis is reachable again');
    }
  });
  return storage;
}

/**
 * The abuse limits: @nestjs/throttler for requests per address, and the
 * failed-attempt counters; in Redis when REDIS_URL is set (one connection for
 * both), so every instance shares them, else in this process's memory.
 */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => ({
        throttlers: [
          { name: 'default', ttl: 60_000, limit: config.rateLimits.perAddressPerMinute },
        ],
        ...(config.redisUrl ? { storage: redisStorage(config.redisUrl) } : {}),
      }),
    }),
  ],
  providers: [
    {
      provide: ATTEMPT_COUNTERS,
      inject: [getStorageToken(), appConfig.KEY],
      useFactory: (storage: ThrottlerStorage, config: AppConfig) =>
        config.redisUrl && 'redis' in storage
          ? new RedisAttemptCounters((storage as ThrottlerStorageRedisService).redis)
          : new MemoryAttemptCounters(),
    },
    AttemptLimiter,
    AddressRateLimitGuard,
  ],
  exports: [AttemptLimiter, AddressRateLimitGuard],
})
export class RateLimitModule {}

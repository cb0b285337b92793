import { HttpException } from '@nestjs/common';
import { ProblemException } from '../common/problem';

/**
 * 429 `rate_limited` with Retry-After and the RateLimit-* fields of the IETF
 * draft (limit, remaining, seconds to reset, and the policy `limit;w=window`).
 */
export function rateLimitedProblem(
  limit: number,
  windowSeconds: number,
  retryAfterSeconds: number,
  detail: string,
): ProblemException {
  return new ProblemException('rate_limited', detail, undefined, {
    'Retry-After': String(retryAfterSeconds),
    'RateLimit-Limit': String(limit),
    'RateLimit-Remaining': '0',
    'RateLimit-Reset': String(retryAfterSeconds),
    'RateLimit-Policy': `${limit};w=${windowSeconds}`,
  });
}

/**
 * What a failure of the rate-limit store becomes: an HTTP answer already
 * decided passes as it is; anything else (Redis cannot be reached) fails
 * closed as 503, never as an unlimited attempt.
 */
export function failClosed(error: unknown): HttpException {
  return error instanceof HttpException ? error : storeUnavailable();
}

/** The shared rate-limit store (Redis) cannot be reached: refuse rather than let attempts through unlimited. */
function storeUnavailable(): ProblemException {
  return new ProblemException(
    'service_unavailable',
    'The service is temporarily unavailable; try again shortly.',
    undefined,
    { 'Retry-After': '1' },
  );
}

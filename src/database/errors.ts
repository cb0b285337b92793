import { QueryFailedError } from 'typeorm';

/**
 * The name of the unique constraint a failed statement broke, or null when it
 * was something else: through TypeORM (a QueryFailedError) or straight from
 * node-postgres (see HotStatements).
 */
export function violatedUniqueConstraint(error: unknown): string | null {
  const driverError = (error instanceof QueryFailedError ? error.driverError : error) as {
    code?: unknown;
    constraint?: string;
  } | null;
  if (driverError === null || typeof driverError !== 'object') {
    return null;
  }
  return driverError.code === '23505' ? (driverError.constraint ?? 'unknown') : null;
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
]);
/** node-postgres's own errors for a lost or unobtainable connection carry no code. */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection ended',
];

/**
 * Connection-level failures of the database, wherever they sit in the chain
 * (TypeORM's driverError, an error's cause): the client gets 503, never a 500.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 4) {
    return false;
  }
  const { code, message, driverError, cause } = error as {
    code?: unknown;
    message?: unknown;
    driverError?: unknown;
    cause?: unknown;
  };
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) {
    return true;
  }
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) {
    return true;
  }
  return isDatabaseUnavailable(driverError, depth + 1) || isDatabaseUnavailable(cause, depth + 1);
}

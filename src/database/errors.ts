import { QueryFailedError } from 'typeorm';

/** The name of the unique constraint a failed statement broke, or null when it was something else. */
export function violatedUniqueConstraint(error: unknown): string | null {
  if (!(error instanceof QueryFailedError)) {
    return null;
  }
  const driverError = error.driverError as { code?: string; constraint?: string };
  return driverError.code === '23505' ? (driverError.constraint ?? 'unknown') : null;
}

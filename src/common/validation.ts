import { ArgumentMetadata, HttpStatus, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError, ProblemException } from './problem';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

export function validationProblem(errors: ValidationError[]): ProblemException {
  return new ProblemException(
    HttpStatus.BAD_REQUEST,
    'validation_failed',
    'Some fields are missing or invalid.',
    flatten(errors),
  );
}

/** Options shared by the global pipe and the checks that must run before it (the local guard). */
export const VALIDATION_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  // One message per field: the first rule it breaks.
  stopAtFirstError: true,
  validationError: { target: false, value: false },
} as const;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The first problem with raw input that a DTO cannot see: a string holding a
 * NUL character (PostgreSQL cannot store it in text), or a `__proto__`,
 * `constructor` or `prototype` key (class-transformer silently drops them, so
 * the unknown-field rule would never fire).
 */
export function unsafeInput(value: unknown, path = ''): FieldError | null {
  if (typeof value === 'string') {
    const field = path || 'body';
    return value.includes('\u0000')
      ? { field, message: `${field} must not contain NUL characters` }
      : null;
  }
  if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      const field = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) {
        return { field, message: `property ${key} should not exist` };
      }
      const found = unsafeInput((value as Record<string, unknown>)[key], field);
      if (found) {
        return found;
      }
    }
  }
  return null;
}

export function assertSafeInput(value: unknown): void {
  const error = unsafeInput(value);
  if (error) {
    throw fieldProblem(error.field, error.message);
  }
}

/** The global pipe: unsafe raw input refused, then the DTO's rules. */
class AppValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Only DTO-typed input: a raw body (the OAuth2 token endpoint) is read by its own rules.
    const typed = metadata.metatype !== undefined && metadata.metatype !== Object;
    if (typed && (metadata.type === 'body' || metadata.type === 'query')) {
      assertSafeInput(value);
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

export function createValidationPipe(): ValidationPipe {
  return new AppValidationPipe({ ...VALIDATION_OPTIONS, exceptionFactory: validationProblem });
}

/** A 400 problem for one field, for checks made outside a DTO (path parameters, conditional fields). */
export function fieldProblem(field: string, message: string): ProblemException {
  return new ProblemException(HttpStatus.BAD_REQUEST, 'validation_failed', message, [
    { field, message },
  ]);
}

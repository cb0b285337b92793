import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError, ProblemException } from './problem';

/** What a client is told when the body is not a JSON object (a string, a number, null, an array). */
const NOT_AN_OBJECT = 'the body must be a JSON object';

/**
 * class-validator's errors as the contract's `{ field, message }` items. An
 * error without a property is about the value itself: the body, `""` (for
 * example class-validator's "unknown value" when the body is not an object).
 * Walked with an explicit stack: the nesting of errors follows the DTO's, but
 * nothing here recurses on anything a client sent.
 */
function flatten(errors: ValidationError[]): FieldError[] {
  const items: FieldError[] = [];
  const stack = [...errors].reverse().map((error) => ({ error, parent: '' }));
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { error, parent } = next;
    const property = typeof error.property === 'string' ? error.property : '';
    const field = parent && property ? `${parent}.${property}` : parent || property;
    for (const [rule, message] of Object.entries(error.constraints ?? {})) {
      items.push({ field, message: rule === 'unknownValue' && !field ? NOT_AN_OBJECT : message });
    }
    for (const child of [...(error.children ?? [])].reverse()) {
      stack.push({ error: child, parent: field });
    }
  }
  return items;
}

export function validationProblem(errors: ValidationError[]): ProblemException {
  return new ProblemException(
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

/**
 * How deeply input may nest: the body (or the query) is level 1, and each
 * object or array in it one level more. No request of the contract needs more
 * than a few; class-transformer copies nested input recursively, so deeper
 * input must be refused before it gets there (5,000 levels overflow the stack).
 */
export const MAX_INPUT_DEPTH = 32;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const placeOf = (field: string) => field || 'the body';

/**
 * The first place, in document order, where input nests deeper than
 * MAX_INPUT_DEPTH, and with `content` also the first string holding a NUL or
 * the first forbidden key. An explicit stack, never recursion: however deep
 * the input, this walk cannot overflow, and it stops at the depth limit.
 */
function firstProblem(value: unknown, content: boolean, path = ''): FieldError | null {
  interface Place {
    value: unknown;
    field: string;
    key: string | null;
    depth: number;
  }
  const stack: Place[] = [{ value, field: path, key: null, depth: 1 }];
  for (let place = stack.pop(); place !== undefined; place = stack.pop()) {
    const { field, key, depth } = place;
    if (content && key !== null && FORBIDDEN_KEYS.has(key)) {
      return { field, message: `property ${key} should not exist` };
    }
    if (typeof place.value === 'string') {
      if (content && place.value.includes('\u0000')) {
        return { field, message: `${placeOf(field)} must not contain NUL characters` };
      }
      continue;
    }
    if (place.value === null || typeof place.value !== 'object') {
      continue;
    }
    if (depth > MAX_INPUT_DEPTH) {
      return {
        field,
        message: `${placeOf(field)} is nested too deeply: at most ${MAX_INPUT_DEPTH} levels of objects and arrays`,
      };
    }
    const object = place.value as Record<string, unknown>;
    const keys = Object.keys(object);
    // Pushed last first, so the walk meets them in document order.
    for (let i = keys.length - 1; i >= 0; i -= 1) {
      const child = keys[i];
      stack.push({
        value: object[child],
        field: field ? `${field}.${child}` : child,
        key: child,
        depth: depth + 1,
      });
    }
  }
  return null;
}

/**
 * The first place where input nests deeper than MAX_INPUT_DEPTH, or null.
 * Checked for every request's body and query before any route sees them.
 */
export function overNestedInput(value: unknown): FieldError | null {
  return firstProblem(value, false);
}

/**
 * The first problem with raw input that a DTO cannot see: nesting deeper than
 * MAX_INPUT_DEPTH, a string holding a NUL character (PostgreSQL cannot store
 * it in text), or a `__proto__`, `constructor` or `prototype` key
 * (class-transformer silently drops them, so the unknown-field rule would
 * never fire). `path` names where `value` sits (`""`: it is the body itself).
 */
export function unsafeInput(value: unknown, path = ''): FieldError | null {
  return firstProblem(value, true, path);
}

/**
 * Refuses a whole body (or query) a DTO is about to read when it is not a JSON
 * object (absent is fine: no fields), or holds unsafe input.
 */
export function assertSafeInput(value: unknown): void {
  if (
    value !== undefined &&
    (value === null || typeof value !== 'object' || Array.isArray(value))
  ) {
    throw fieldProblem('', NOT_AN_OBJECT);
  }
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
      if (metadata.data === undefined) {
        assertSafeInput(value);
      } else {
        // One property of the body or query (`@Body('name')`), named as such.
        const error = unsafeInput(value, metadata.data);
        if (error) {
          throw fieldProblem(error.field, error.message);
        }
      }
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

export function createValidationPipe(): ValidationPipe {
  return new AppValidationPipe({ ...VALIDATION_OPTIONS, exceptionFactory: validationProblem });
}

/** A 400 problem for one field, for checks made outside a DTO (path parameters, conditional fields). */
export function fieldProblem(field: string, message: string): ProblemException {
  return new ProblemException('validation_failed', message, [{ field, message }]);
}

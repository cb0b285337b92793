import { HttpStatus, ValidationError, ValidationPipe } from '@nestjs/common';
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

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({ ...VALIDATION_OPTIONS, exceptionFactory: validationProblem });
}

/** A 400 problem for one field, for checks made outside a DTO (path parameters, conditional fields). */
export function fieldProblem(field: string, message: string): ProblemException {
  return new ProblemException(HttpStatus.BAD_REQUEST, 'validation_failed', message, [
    { field, message },
  ]);
}

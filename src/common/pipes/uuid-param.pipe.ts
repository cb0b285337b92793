import { ParseUUIDPipe } from '@nestjs/common';
import { fieldProblem } from '../validation';

/** A path parameter that must be a UUID: otherwise 400 `validation_failed` naming it. */
export const uuidParam = (name: string): ParseUUIDPipe =>
  new ParseUUIDPipe({ exceptionFactory: () => fieldProblem(name, `${name} must be a UUID`) });

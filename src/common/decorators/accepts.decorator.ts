import { SetMetadata } from '@nestjs/common';

export const ACCEPTS_KEY = 'acceptsContentTypes';
export const JSON_TYPE = 'application/json';
export const FORM_TYPE = 'application/x-www-form-urlencoded';

/** The body media types a route takes; routes without it take JSON only. */
export const Accepts = (...types: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(ACCEPTS_KEY, types);

import { applyDecorators, Header } from '@nestjs/common';

/** For responses that carry a token or a secret: no cache may keep them. */
export const NoStore = (): MethodDecorator =>
  applyDecorators(Header('Cache-Control', 'no-store'), Header('Pragma', 'no-cache'));

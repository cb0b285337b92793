import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * What the route's guard authenticated: an `AuthPrincipal` behind the JWT
 * guard, the signed-in `UserEntity` behind the local (password) guard.
 */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext): unknown =>
    context.switchToHttp().getRequest<FastifyRequest & { user?: unknown }>().user,
);

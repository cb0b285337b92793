import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { IS_PUBLIC_KEY } from '../../common/decorators/public.decorator';
import { ProblemException } from '../../common/problem';

/**
 * The global guard: every route needs a valid bearer access token unless it
 * is marked `@Public()`. A 401 carries `WWW-Authenticate` (RFC 6750), with
 * `error="invalid_token"` when a token was sent but refused.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    return isPublic ? true : super.canActivate(context);
  }

  override handleRequest<TUser>(
    error: unknown,
    user: TUser | false,
    _info: unknown,
    context: ExecutionContext,
  ): TUser {
    // A bad token arrives as no user; an `error` came from
    // validate() itself (the database), and must not be disguised as a 401.
    if (error) {
      // As it is (a database error, say): the filter decides what the client hears.
      throw typeof error === 'object' ? (error as Error) : new Error('token validation failed');
    }
    if (!user) {
      const request = context.switchToHttp().getRequest<FastifyRequest>();
      const sent = /^Bearer\s+\S/i.test(request.headers.authorization ?? '');
      throw new ProblemException(
        'unauthorized',
        sent
          ? 'The access token is invalid, expired or revoked.'
          : 'Send an access token: Authorization: Bearer <accessToken>.',
        undefined,
        {
          'WWW-Authenticate': sent
            ? 'Bearer realm="auth-service", error="invalid_token", error_description="The access token is invalid, expired or revoked"'
            : 'Bearer realm="auth-service"',
        },
      );
    }
    return user;
  }
}

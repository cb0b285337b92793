import {
  applyDecorators,
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { catchError, map, Observable, tap, throwError } from 'rxjs';
import { ProblemException } from '../../common/problem';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import type { TokenPairDto } from './dto/token-pair.dto';
import {
  ApiRefreshCookie,
  clearRefreshCookie,
  inRefreshCookie,
  refreshCookieOf,
  wantsRefreshCookie,
} from './refresh-cookie';

/**
 * What a route does with the browser's refresh cookie: `issue` moves the
 * refresh token of its answer into the cookie; `rotate` also reads the token
 * to rotate from the cookie (and clears it when it is refused); `clear`
 * removes it after the route succeeds (sign-out). The first two act only for
 * a client that asked with `X-Refresh-Cookie: 1`.
 */
type RefreshCookieMode = 'issue' | 'rotate' | 'clear';
const REFRESH_COOKIE_MODE = 'refresh-cookie-mode';

const noCookie = () =>
  new ProblemException('invalid_refresh_token', 'There is no session cookie; sign in again.');

@Injectable()
export class RefreshCookieInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const mode = this.reflector.get<RefreshCookieMode>(REFRESH_COOKIE_MODE, context.getHandler());
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const clear = () => clearRefreshCookie(request, reply, this.config.publicUrl);
    if (mode === 'clear') {
      return next.handle().pipe(tap(clear));
    }
    if (!wantsRefreshCookie(request)) {
      return next.handle();
    }
    if (mode === 'rotate') {
      const token = refreshCookieOf(request);
      if (token === undefined) {
        clear();
        return throwError(noCookie);
      }
      // Before the pipe: the body's token is the cookie's (anything else in the body is still validated).
      const body: unknown = request.body ?? {};
      if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
        request.body = { ...body, refreshToken: token };
      }
    }
    return next.handle().pipe(
      map((pair: TokenPairDto) =>
        inRefreshCookie(pair, request, reply, {
          maxAgeSeconds: this.config.refresh.ttl,
          publicUrl: this.config.publicUrl,
        }),
      ),
      catchError((error: unknown) => {
        if (mode === 'rotate' && error instanceof ProblemException && error.getStatus() === 401) {
          clear();
        }
        return throwError(() => error);
      }),
    );
  }
}

/** Marks a route's use of the refresh cookie (see RefreshCookieInterceptor), with its OpenAPI header. */
export const RefreshCookie = (mode: RefreshCookieMode, what?: string): MethodDecorator =>
  applyDecorators(
    SetMetadata(REFRESH_COOKIE_MODE, mode),
    UseInterceptors(RefreshCookieInterceptor),
    ...(what ? [ApiRefreshCookie(what)] : []),
  );

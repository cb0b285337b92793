import { applyDecorators } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { API_PREFIX } from '../../common/api';
import { cookieOf, isSecureRequest, setCookie } from '../../common/cookies';
import type { TokenPairDto } from './dto/token-pair.dto';

/**
 * The browser's way of holding a refresh token: an HttpOnly, SameSite=Strict
 * cookie scoped to the auth routes, which no script can read. A client asks
 * for it, and proves it is not a cross-site form, with the header
 * `X-Refresh-Cookie: 1`: a cross-site page cannot send a custom header
 * without a CORS preflight, which this service refuses (CSRF protection on
 * top of SameSite=Strict).
 */
export const REFRESH_COOKIE = 'auth_refresh';
export const REFRESH_COOKIE_HEADER = 'x-refresh-cookie';
export const REFRESH_COOKIE_PATH = `/${API_PREFIX}/auth`;

export function wantsRefreshCookie(request: FastifyRequest): boolean {
  return request.headers[REFRESH_COOKIE_HEADER] === '1';
}

/** The refresh token in the request's cookie, if any. */
export function refreshCookieOf(request: FastifyRequest): string | undefined {
  return cookieOf(request, REFRESH_COOKIE);
}

function cookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return setCookie(REFRESH_COOKIE, value, {
    path: REFRESH_COOKIE_PATH,
    maxAgeSeconds,
    sameSite: 'Strict',
    secure,
  });
}

/** Over https (as the request arrived, or as PUBLIC_URL says) the cookie is Secure. */

/**
 * Moves the refresh token of a token pair into the cookie: the body keeps
 * the access token and user, and no longer carries the refresh token.
 */
export function inRefreshCookie(
  pair: TokenPairDto,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { maxAgeSeconds: number; publicUrl: string },
): TokenPairDto {
  void reply.header(
    'Set-Cookie',
    cookie(pair.refreshToken, options.maxAgeSeconds, isSecureRequest(request, options.publicUrl)),
  );
  const { refreshToken: _moved, ...rest } = pair;
  return rest as TokenPairDto;
}

/** Removes the cookie (sign-out, a refused refresh). */
export function clearRefreshCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  publicUrl: string,
): void {
  void reply.header('Set-Cookie', cookie('', 0, isSecureRequest(request, publicUrl)));
}

/** The header as OpenAPI shows it on the routes that take it. */
export const ApiRefreshCookie = (what: string): MethodDecorator =>
  applyDecorators(
    ApiHeader({
      name: 'X-Refresh-Cookie',
      required: false,
      enum: ['1'],
      description: `Browser cookie mode: ${what} The refresh token travels in the HttpOnly, SameSite=Strict cookie \`${REFRESH_COOKIE}\` (path ${REFRESH_COOKIE_PATH}), never in the body.`,
    }),
  );

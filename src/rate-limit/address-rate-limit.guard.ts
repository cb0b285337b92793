import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { IS_PUBLIC_KEY } from '../common/decorators/public.decorator';
import { type AppConfig, InjectAppConfig } from '../config/configuration';
import { failClosed, rateLimitedProblem } from './rate-limit.problems';

/**
 * The per-address limit on the public routes of a controller it guards: one
 * counter per client address (IPv6 by /64) shared by all those routes, with
 * `RateLimit-*` headers on every answer and a 429 problem past the limit.
 * Authenticated routes are not counted; `@SkipThrottle()` exempts a route.
 */
@Injectable()
export class AddressRateLimitGuard extends ThrottlerGuard {
  protected override headerPrefix = 'RateLimit';

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {
    super(options, storage, reflector);
  }

  protected override shouldSkip(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    return Promise.resolve(!this.config.rateLimit || !isPublic);
  }

  protected override generateKey(
    _context: ExecutionContext,
    tracker: string,
    name: string,
  ): string {
    return `auth:address:${name}:${tracker}`;
  }

  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    try {
      const allowed = await super.handleRequest(request);
      const { res } = this.getRequestResponse(request.context);
      this.setResponseHeader(res, 'RateLimit-Policy', `${request.limit};w=${request.ttl / 1000}`);
      return allowed;
    } catch (error) {
      // A Redis that cannot be reached fails closed (503), like the database.
      throw failClosed(error);
    }
  }

  protected override throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    throw rateLimitedProblem(
      detail.limit,
      detail.ttl / 1000,
      Math.max(1, detail.timeToBlockExpire),
      'Too many requests from this address; try again in a minute.',
    );
  }
}

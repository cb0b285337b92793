import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ACCEPTS_KEY, JSON_TYPE } from '../decorators/accepts.decorator';
import { ProblemException } from '../problem';

/**
 * Fastify parses every media type it has a parser for (JSON, form, text) on
 * every route; this guard answers 415 when a body arrives in a type the route
 * does not take, so a form post cannot slip past a JSON-only route.
 */
@Injectable()
export class ContentTypeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const length = request.headers['content-length'];
    const hasBody =
      (length !== undefined && length !== '0') ||
      request.headers['transfer-encoding'] !== undefined;
    if (!hasBody) {
      return true;
    }
    const accepted = this.reflector.getAllAndOverride<string[] | undefined>(ACCEPTS_KEY, [
      context.getHandler(),
      context.getClass(),
    ]) ?? [JSON_TYPE];
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!accepted.includes(type)) {
      throw new ProblemException(
        'unsupported_media_type',
        `This route takes ${accepted.join(' or ')}.`,
      );
    }
    return true;
  }
}

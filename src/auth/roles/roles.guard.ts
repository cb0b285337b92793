import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { AuthPrincipal } from '../../common/auth-principal';
import { ProblemException } from '../../common/problem';
import type { Role } from '../../users/user.entity';
import { ROLES_KEY } from './roles.decorator';

/**
 * Global, after the JWT guard: a route marked `@Roles(...)` needs the caller
 * to hold one of them. The roles come from the database on every request (the
 * JWT guard loads the user), so a demotion takes effect at once.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const required = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!required?.length) {
      return true;
    }
    const principal = context
      .switchToHttp()
      .getRequest<FastifyRequest & { user?: AuthPrincipal }>().user;
    if (!principal?.user.roles.some((role) => (required as readonly string[]).includes(role))) {
      throw new ProblemException('forbidden', `This needs the ${required.join(' or ')} role.`);
    }
    return true;
  }
}

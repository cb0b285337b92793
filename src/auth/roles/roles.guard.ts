import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { AuthPrincipal } from '../../common/auth-principal';
import { ProblemException } from '../../common/problem';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import type { Role } from '../../users/user.entity';
import { ROLES_KEY } from './roles.decorator';

/**
 * Global, after the JWT guard: a route marked `@Roles(...)` needs the caller
 * to hold one of them. The roles come from the database on every request (the
 * JWT guard loads the user), so a demotion takes effect at once. With
 * MFA_REQUIRED_FOR_ADMINS, admin routes also need the administrator to have
 * a second factor.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

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
    if (
      required.includes('admin') &&
      this.config.mfa.requiredForAdmins &&
      !principal.user.mfaEnabled
    ) {
      throw new ProblemException(
        'mfa_enrollment_required',
        'Administrators must set up two-step sign-in first: add an authenticator app in your profile.',
      );
    }
    return true;
  }
}

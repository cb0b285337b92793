import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiForbiddenResponse } from '@nestjs/swagger';
import { problemContent } from '../../common/decorators/api-problems.decorator';
import type { Role } from '../../users/user.entity';

export const ROLES_KEY = 'roles';

/**
 * The route (or controller) needs one of these roles; others get 403 (and,
 * with MFA_REQUIRED_FOR_ADMINS, an administrator without a second factor).
 */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(ROLES_KEY, roles),
    ApiForbiddenResponse({
      description: `Forbidden: code \`forbidden\` (needs role ${roles.join(' or ')})${
        roles.includes('admin')
          ? '; `mfa_enrollment_required` (with MFA_REQUIRED_FOR_ADMINS=true, an administrator without a second factor)'
          : ''
      }`,
      content: { 'application/problem+json': problemContent(403, 'forbidden') },
    }),
  );

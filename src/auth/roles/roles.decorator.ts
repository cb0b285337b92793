import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiForbiddenResponse } from '@nestjs/swagger';
import { problemContent } from '../../common/decorators/api-problems.decorator';
import type { Role } from '../../users/user.entity';

export const ROLES_KEY = 'roles';

/** The route (or controller) needs one of these roles; others get 403. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(ROLES_KEY, roles),
    ApiForbiddenResponse({
      description: `Forbidden: code \`forbidden\` (needs role ${roles.join(' or ')})`,
      content: { 'application/problem+json': problemContent(403, 'forbidden') },
    }),
  );

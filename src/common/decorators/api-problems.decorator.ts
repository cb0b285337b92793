import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { DEFAULT_CODES, titleFor } from '../problem';

/**
 * Declares a route's error responses in the OpenAPI document, each an
 * `application/problem+json` body; `codes` lists the route's own `code`
 * values per status (the generic one is used otherwise).
 */
export function ApiProblems(
  ...responses: Array<number | [number, ...string[]]>
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...responses.map((entry) => {
      const [status, ...codes] = Array.isArray(entry) ? entry : [entry];
      const listed = codes.length > 0 ? codes : [DEFAULT_CODES[status] ?? 'error'];
      return ApiResponse({
        status,
        description: `${titleFor(status)}: code ${listed.map((c) => `\`${c}\``).join(', ')}`,
        content: {
          'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } },
        },
      });
    }),
  );
}

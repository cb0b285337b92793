import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { DEFAULT_CODES, problemDocument, titleFor } from '../problem';

/** The problem schema with an example of this status and code (not the schema's generic one). */
export function problemContent(status: number, code: string) {
  return {
    schema: { $ref: '#/components/schemas/ProblemDto' },
    example: problemDocument(status, code, `A sentence saying what went wrong (${code}).`),
  };
}

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
        content: { 'application/problem+json': problemContent(status, listed[0]) },
      });
    }),
  );
}

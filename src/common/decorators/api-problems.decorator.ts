import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { type ErrorCode, meaningOf } from '../error-codes';
import { codeFor, problemDocument, titleFor } from '../problem';

/** The problem schema with an example of this status and code (not the schema's generic one). */
export function problemContent(status: number, code: ErrorCode) {
  return {
    schema: { $ref: '#/components/schemas/ProblemDto' },
    example: problemDocument(status, code, meaningOf(code)),
  };
}

/**
 * Declares a route's error responses in the OpenAPI document, each an
 * `application/problem+json` body; `codes` lists the route's own `code`
 * values per status (the generic one is used otherwise), each from the
 * catalogue (ERROR_CODES), whose meaning the description and example carry.
 */
export function ApiProblems(
  ...responses: Array<number | [number, ...ErrorCode[]]>
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...responses.map((entry) => {
      const [status, ...codes] = Array.isArray(entry) ? entry : [entry];
      const listed = codes.length > 0 ? codes : [codeFor(status)];
      return ApiResponse({
        status,
        description: `${titleFor(status)}: ${listed.map((c) => `\`${c}\` (${meaningOf(c)})`).join('; ')}`,
        content: { 'application/problem+json': problemContent(status, listed[0]) },
      });
    }),
  );
}

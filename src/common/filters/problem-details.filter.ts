import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  codeFor,
  OAuthException,
  ProblemDocument,
  ProblemException,
  problemDocument,
} from '../problem';
import { isDatabaseUnavailable } from '../../database/errors';

const DETAILS: Record<number, string> = {
  400: 'The request could not be read: check the body is well-formed JSON.',
  401: 'Authentication is required.',
  403: 'You are not allowed to do this.',
  404: 'There is nothing here.',
  405: 'This method is not allowed here.',
  409: 'The request conflicts with the current state.',
  412: 'A precondition of the request does not hold.',
  413: 'The request body is too large.',
  415: 'This content type is not accepted here.',
  416: 'The requested range is not in the file.',
  429: 'Too many requests; try again later.',
  503: 'The service is temporarily unavailable; try again shortly.',
};

const UNHANDLED = 'The request could not be handled.';

/** Fastify's own client errors (body parsing, media type, size), by their error code. */
const FASTIFY_DETAILS: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON: 'The request body is not valid JSON.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty but its content type says JSON.',
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is larger than the limit.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'This content type is not accepted here.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length header does not match the body.',
};

interface ClientError {
  statusCode: number;
  code?: string;
}

function isClientError(error: unknown): error is ClientError {
  const status = (error as ClientError | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** PostgreSQL class 22 (data exception): a value the database cannot take, such as a NUL byte. */
function isDataException(error: unknown): boolean {
  const code = (error as { driverError?: { code?: unknown } } | null)?.driverError?.code;
  return typeof code === 'string' && code.startsWith('22');
}

/**
 * Writes every error as an RFC 9457 problem document (or, for the OAuth2 token
 * endpoint, the RFC 6749 error shape). Nothing of a stack, SQL text or a
 * library's message ever reaches the client; what is not one of our own
 * errors is logged here and answered with a generic 500.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();

    if (exception instanceof OAuthException) {
      void reply
        .status(exception.getStatus())
        .header('Cache-Control', 'no-store')
        .header('Pragma', 'no-cache')
        .type('application/json')
        .send(exception.getResponse());
      return;
    }

    const { document, headers } = this.toProblem(exception, request);
    for (const [name, value] of Object.entries(headers)) {
      void reply.header(name, value);
    }
    // Every 401 names its scheme (RFC 9110 §15.5.2, RFC 6750): bearer tokens.
    if (document.status === 401 && !reply.hasHeader('WWW-Authenticate')) {
      void reply.header('WWW-Authenticate', 'Bearer realm="auth-service"');
    }
    void reply.status(document.status).type('application/problem+json').send(document);
  }

  private toProblem(
    exception: unknown,
    request: FastifyRequest,
  ): { document: ProblemDocument; headers: Record<string, string> } {
    if (exception instanceof ProblemException) {
      return { document: exception.document, headers: exception.headers ?? {} };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status >= 500 && status !== 503) {
        this.logUnexpected(exception, request);
        return { document: this.internal(), headers: {} };
      }
      return { document: this.generic(status), headers: {} };
    }
    if (isClientError(exception)) {
      const status = exception.statusCode;
      const detail = (exception.code && FASTIFY_DETAILS[exception.code]) ?? DETAILS[status];
      return {
        document: problemDocument(status, codeFor(status), detail ?? UNHANDLED),
        headers: {},
      };
    }
    if (isDataException(exception)) {
      // Input checks should have caught it; a 400 still beats a 500 for bad data.
      this.logger.warn(`data exception reached the database: ${request.method} ${request.url}`);
      return {
        document: problemDocument(
          400,
          'validation_failed',
          'A value in the request cannot be stored.',
        ),
        headers: {},
      };
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`database unavailable: ${request.method} ${request.url}`);
      return { document: this.generic(HttpStatus.SERVICE_UNAVAILABLE), headers: {} };
    }
    this.logUnexpected(exception, request);
    return { document: this.internal(), headers: {} };
  }

  private generic(status: number): ProblemDocument {
    return problemDocument(status, codeFor(status), DETAILS[status] ?? UNHANDLED);
  }

  private internal(): ProblemDocument {
    return problemDocument(500, 'internal_error', 'Something went wrong on our side.');
  }

  private logUnexpected(exception: unknown, request: FastifyRequest): void {
    const stack = exception instanceof Error ? exception.stack : String(exception);
    this.logger.error(`request ${request.id} ${request.method} ${request.url} failed`, stack);
  }
}

import { type ErrorCode, statusOf } from './error-codes';
import { HttpException, HttpStatus } from '@nestjs/common';

export interface FieldError {
  field: string;
  message: string;
}

/** An RFC 9457 problem document, as every error response carries it. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
  /** Extension members of some problems (RFC 9457 §3.2), e.g. `mfaToken` and `methods` of `mfa_required`. */
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * The stable `code` used when nothing more precise was given for a status;
 * any other 4xx is `bad_request` (see codeFor).
 */
export const DEFAULT_CODES: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  500: 'internal_error',
  503: 'service_unavailable',
};

/** The `code` of a generic problem with this status. */
export function codeFor(status: number): ErrorCode {
  return DEFAULT_CODES[status] ?? (status >= 500 ? 'internal_error' : 'bad_request');
}

export function titleFor(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

export function problemDocument(
  status: number,
  code: ErrorCode,
  detail: string,
  errors?: FieldError[],
  extensions?: Record<string, unknown>,
): ProblemDocument {
  return {
    ...extensions,
    type: 'about:blank',
    title: titleFor(status),
    status,
    detail,
    code,
    ...(errors ? { errors } : {}),
  };
}

/**
 * The one exception services throw for a documented error: one of our
 * stable codes (ERROR_CODES, which gives the status) and a sentence a
 * person can read. `headers` are added to the response (for example
 * `WWW-Authenticate`), `extensions` to the document.
 */
export class ProblemException extends HttpException {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
    readonly extensions?: Record<string, unknown>,
  ) {
    super(problemDocument(statusOf(code), code, detail, errors, extensions), statusOf(code));
  }

  get document(): ProblemDocument {
    return problemDocument(this.getStatus(), this.code, this.detail, this.errors, this.extensions);
  }
}

/** An error of the OAuth2 token endpoint, answered in the RFC 6749 §5.2 shape, not as a problem. */
export class OAuthException extends HttpException {
  constructor(
    readonly error:
      | 'invalid_request'
      | 'invalid_grant'
      | 'unsupported_grant_type'
      | 'invalid_client'
      | 'mfa_required',
    readonly description: string,
    status: HttpStatus = HttpStatus.BAD_REQUEST,
    /** Members beside `error` and `error_description` (`mfa_token`). */
    extra: Record<string, string> = {},
  ) {
    super({ ...extra, error, error_description: description }, status);
  }
}

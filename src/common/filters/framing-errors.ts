import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { codeFor, problemDocument } from '../problem';

/**
 * The errors that never reach ProblemDetailsFilter, answered as problem
 * documents all the same: Node's HTTP parser refusing the bytes on a
 * connection (there is no request yet, only a socket), Node's own answers
 * (an HTTP/1.1 request without Host, an unmet Expect) and Fastify's router
 * (a malformed URL), which would otherwise answer in their own shapes.
 */

/** Node's parser errors (llhttp's HPE_* codes) and timeouts, by status and a sentence. */
const PARSER_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'The request line and headers are larger than the limit.'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [
    413,
    'The chunk extensions of the body are larger than the limit.',
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request did not arrive in time.'],
  HPE_INVALID_EOF_STATE: [400, 'The connection ended before the request was complete.'],
  HPE_INVALID_CONTENT_LENGTH: [400, 'The Content-Length header is not a valid length.'],
  HPE_UNEXPECTED_CONTENT_LENGTH: [400, 'The request has more than one Content-Length.'],
  HPE_INVALID_TRANSFER_ENCODING: [
    400,
    'The Transfer-Encoding header is not valid, or comes with a Content-Length.',
  ],
  HPE_INVALID_CHUNK_SIZE: [400, 'The chunked body is malformed.'],
};
const MALFORMED: [number, string] = [400, 'The request is not well-formed HTTP/1.1.'];

/** Fastify's errors from before routing (its `frameworkErrors`), by status and a sentence. */
const ROUTER_ERRORS: Record<string, [number, string]> = {
  FST_ERR_BAD_URL: [400, 'The URL is not well-formed: check its percent-encoding.'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'A segment of the URL is longer than the limit.'],
};
const INTERNAL: [number, string] = [500, 'Something went wrong on our side.'];

/** A problem document as the bytes of a whole HTTP/1.1 response that closes the connection. */
function rawResponse(status: number, detail: string, headers: Record<string, string>): string {
  const body = JSON.stringify(problemDocument(status, codeFor(status), detail));
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'Connection: close',
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * Fastify's `clientErrorHandler`: Node's parser refused what came on a
 * connection (a malformed request line or header, a Content-Length that does
 * not add up, Content-Length with Transfer-Encoding, headers too large, a
 * timeout). As Node does, the answer is written only while no response on
 * this connection has begun (never into the middle of one), and the
 * connection is then closed: nothing after the error can be trusted to be
 * framed right.
 */
export function clientErrorHandler(
  headers: Record<string, string>,
): (error: Error & { code?: string }, socket: Socket) => void {
  return (error, socket) => {
    // A reset connection has nobody left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) {
      return;
    }
    const underWay = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!socket.writable || underWay?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, detail] = (error.code && PARSER_ERRORS[error.code]) || MALFORMED;
    socket.end(rawResponse(status, detail, headers), () => socket.destroy());
  };
}

/** Fastify's `frameworkErrors`: a URL its router cannot read, before any route or hook runs. */
export function frameworkErrorHandler(
  headers: Record<string, string>,
): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    const [status, detail] = ROUTER_ERRORS[error.code] ?? INTERNAL;
    void reply
      .headers(headers)
      .header('X-Request-Id', request.id)
      .code(status)
      .type('application/problem+json')
      .send(problemDocument(status, codeFor(status), detail));
  };
}

/**
 * The server's `checkExpectation` listener: an `Expect` other than
 * 100-continue, which Node would answer with an empty 417.
 */
export function unmetExpectationHandler(
  headers: Record<string, string>,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (_request, response) => {
    const body = JSON.stringify(
      problemDocument(417, codeFor(417), 'Only the expectation 100-continue is supported.'),
    );
    response.writeHead(417, {
      ...headers,
      'Content-Type': 'application/problem+json',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
      Connection: 'close',
    });
    response.end(body);
  };
}

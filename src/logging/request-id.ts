import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

/** What an upstream proxy's request id may look like to be kept: short, and harmless in a log line. */
const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Fastify's request id generator, which runs first for every request: the
 * proxy's X-Request-Id when the proxy is trusted (TRUST_PROXY) and the value is
 * sane, else a new UUID. It is also put on the raw request, where pino-http
 * looks for it, so every log line and the X-Request-Id response header carry
 * the same id.
 */
export function requestIdGenerator(trustProxy: boolean): (req: IncomingMessage) => string {
  return (req) => {
    const given = req.headers[REQUEST_ID_HEADER];
    const id =
      trustProxy && typeof given === 'string' && ACCEPTABLE.test(given) ? given : randomUUID();
    (req as IncomingMessage & { id?: string }).id = id;
    return id;
  };
}

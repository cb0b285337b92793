import { Module, RequestMethod } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule, PinoLogger } from 'nestjs-pino';
import { type AppConfig, appConfig } from '../config/configuration';

/** Query parameters that carry secrets (the web page's reset link), never written to the log. */
const SECRET_QUERY = /([?&](?:token|code|refresh_token|access_token|password)=)[^&#]*/gi;

export function scrubUrl(url: string | undefined): string | undefined {
  return url?.replace(SECRET_QUERY, '$1[redacted]');
}

/**
 * The line a finished request leaves; health checks leave none. A 500 is a
 * bug (error); a 503 is the service protecting itself (warn).
 */
export function logRequest(
  req: IncomingMessage,
  res: ServerResponse,
  reqId: string,
  elapsedMs: number,
): void {
  if (req.url?.startsWith('/health/')) {
    return;
  }
  const line = { reqId, req, res, responseTime: Math.round(elapsedMs) };
  if (res.statusCode >= 500) {
    PinoLogger.root?.[res.statusCode === 503 ? 'warn' : 'error'](line, 'request failed');
  } else {
    PinoLogger.root?.info(line, 'request completed');
  }
}

/**
 * Field names whose values are never logged, wherever an object with them
 * reaches a log line: a second line of defence behind the serializers, which
 * already log no bodies and no headers but the user agent.
 */
export const REDACTED_PATHS = [
  'password',
  'newPassword',
  'currentPassword',
  'token',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'code',
  'userSecret',
  'authorization',
  'cookie',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.code',
  '*.userSecret',
  '*.authorization',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/**
 * JSON logs (pino) on stdout: one line per finished request (method, path
 * with secret query values redacted, status, time) and every application
 * line; a line logged while serving a request carries its `reqId`, the same
 * id as the X-Request-Id response header.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => ({
        // Every path (Nest 11's wildcard syntax), unknown ones included.
        forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
        pinoHttp: {
          level: config.logLevel,
          quietReqLogger: true,
          redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
          // Requests are logged by logRequest (a Fastify hook), which also sees the paths Nest's middleware does not.
          autoLogging: false,
          serializers: {
            req: (req: IncomingMessage & { id?: string; remoteAddress?: string }) => ({
              id: req.id,
              method: req.method,
              url: scrubUrl(req.url),
              remoteAddress: req.remoteAddress,
              userAgent: req.headers?.['user-agent'],
            }),
            res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
          },
        },
      }),
    }),
  ],
})
export class LoggingModule {}

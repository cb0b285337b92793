import { Module } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
// nestjs-pino's own request-context store, which its Logger reads.
import { storage, type Store } from 'nestjs-pino/storage';
import { pino, type Logger } from 'pino';
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
    root?.[res.statusCode === 503 ? 'warn' : 'error'](line, 'request failed');
  } else {
    root?.info(line, 'request completed');
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
 * The service's root logger: JSON lines on stdout at LOG_LEVEL. Set when the
 * logging module initialises; request lines and nestjs-pino's Logger use it.
 */
let root: Logger | undefined;

/**
 * For the few lines worth keeping that come before Nest's logger is in place
 * (the migrations at start-up): the root logger with a context, once the
 * logging module has made it (it is imported before the database module).
 */
export function startupLogger(context: string): Logger | undefined {
  return root?.child({ context });
}

function createRootLogger(config: AppConfig): Logger {
  root = pino({
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: IncomingMessage & { id?: string }) => ({
        id: req.id,
        method: req.method,
        url: scrubUrl(req.url),
        remoteAddress: req.socket?.remoteAddress,
        userAgent: req.headers?.['user-agent'],
      }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
  });
  return root;
}

/**
 * Runs the rest of a request inside its log context, so that every line
 * logged while serving it (through Nest's Logger, which nestjs-pino routes
 * here) carries its `reqId`. The child logger is made only if something is
 * logged: most requests log nothing but their finishing line. (This replaces
 * pino-http's per-request middleware, which made two child loggers for every
 * request and cost a third of GET /users/me's throughput.)
 */
export function inRequestLogContext(reqId: string, next: () => void): void {
  let child: Logger | undefined;
  const context = {
    get logger(): Logger | undefined {
      return (child ??= root?.child({ reqId }));
    },
    responseLogger: undefined,
  };
  storage.run(context as unknown as Store, next);
}

/**
 * JSON logs (pino) on stdout: one line per finished request (method, path
 * with secret query values redacted, status, time; `logRequest`) and every
 * application line; a line logged while serving a request carries its
 * `reqId`, the same id as the X-Request-Id response header
 * (`inRequestLogContext`).
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig) => ({
        // nestjs-pino's Logger writes through our root logger; the request
        // context is bound by a Fastify hook (app.setup.ts), not by middleware.
        pinoHttp: { logger: createRootLogger(config) },
        useExisting: true,
        forRoutes: [],
      }),
    }),
  ],
})
export class LoggingModule {}

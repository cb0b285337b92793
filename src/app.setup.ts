import { LogLevel as NestLogLevel } from '@nestjs/common';
import fastifyStatic from '@fastify/static';
import helmet from 'helmet';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import cluster from 'node:cluster';
import { dirname, join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { API_PREFIX } from './common/api';
import { installCheapAsyncResourceBind } from './common/async-resource-bind';
import { ProblemDto } from './common/dto/problem.dto';
import {
  clientErrorHandler,
  frameworkErrorHandler,
  unmetExpectationHandler,
} from './common/filters/framing-errors';
import { ProblemException } from './common/problem';
import { fieldProblem, overNestedInput } from './common/validation';
import type { AppConfig, LogLevel } from './config/configuration';
import { inRequestLogContext, logRequest } from './logging/logging.module';
import { MetricsService } from './metrics/metrics.service';
import { requestIdGenerator } from './logging/request-id';

export { API_PREFIX };
export const TOKEN_URL = `/${API_PREFIX}/auth/token`;

const NEST_LEVELS: Record<LogLevel, NestLogLevel[]> = {
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

export function nestLogLevels(level: LogLevel): NestLogLevel[] {
  return NEST_LEVELS[level];
}

/**
 * Fastify as the service runs it: the contract's body limit, prototype
 * poisoning refused, X-Forwarded-For (and an upstream X-Request-Id) believed
 * only with TRUST_PROXY. Every 4xx is a problem document, those written
 * before Nest's filter could see a request included (the HTTP parser's, the
 * router's, Node's own), and input nested deeper than MAX_INPUT_DEPTH is
 * refused before any route reads it.
 */
export function createFastifyAdapter(
  config: Pick<AppConfig, 'bodyLimitBytes' | 'trustProxy'>,
): FastifyAdapter {
  installCheapAsyncResourceBind();
  const headers = securityHeaders();
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    trustProxy: config.trustProxy,
    genReqId: requestIdGenerator(config.trustProxy),
    return503OnClosing: true,
    clientErrorHandler: clientErrorHandler(headers),
    frameworkErrors: frameworkErrorHandler(headers),
    // Node would answer a missing Host itself, with an empty 400: the hook below does it.
    http: { requireHostHeader: false },
  });
  const fastify = adapter.getInstance();
  fastify.server.on('checkExpectation', unmetExpectationHandler(headers));
  // After every onRequest hook (security headers, request id), before the body is read.
  fastify.addHook('preParsing', (request, reply, payload, done) => {
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      // As Node would: the connection is not kept for another request.
      void reply.header('Connection', 'close');
      done(
        new ProblemException('validation_failed', 'An HTTP/1.1 request must carry a Host header.'),
      );
      return;
    }
    done(null, payload);
  });
  // Parsed (JSON.parse and the prototype-poisoning scan are iterative), not yet
  // read by anything that recurses (class-transformer, Nest's pipe, class-validator).
  fastify.addHook('preValidation', (request, _reply, done) => {
    const error = overNestedInput(request.body) ?? overNestedInput(request.query);
    done(error ? fieldProblem(error.field, error.message) : undefined);
  });
  return adapter;
}

/**
 * The Content-Security-Policy of every response: only the service's own
 * scripts, styles and images (Swagger UI included: its scripts and styles are
 * files, and its icons are data: images), never framed.
 */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  // The profile picture is the user's own URL, from anywhere on the web.
  imgSrc: ["'self'", 'data:', 'https:', 'http:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/**
 * Helmet's headers for our options, worked out once at start. (@fastify/helmet
 * builds the helmet middleware anew for every request, re-parsing the CSP:
 * 3% of a profile read's CPU.)
 */
export function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => (headers[name] = String(value)),
    removeHeader: () => undefined,
  };
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    referrerPolicy: { policy: 'no-referrer' },
    // Swagger UI's "Try it out" and the OAuth2 flow stay same-origin; nothing here is embedded cross-origin.
    crossOriginEmbedderPolicy: false,
  })({} as IncomingMessage, response as unknown as ServerResponse, () => undefined);
  return headers;
}

const toHeader = (directives: Record<string, string[]>) =>
  Object.entries(directives)
    .map(
      ([name, values]) =>
        `${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${values.join(' ')}`,
    )
    .join('; ');

const SWAGGER_UI_POLICY = toHeader({
  ...CONTENT_SECURITY_POLICY,
  styleSrc: ["'self'", "'unsafe-inline'"],
});

/**
 * Everything around the module tree: security headers, CORS, route prefix,
 * OpenAPI and Swagger UI. (Signals are main.ts's business.)
 */
export async function configureApp(
  app: NestFastifyApplication,
  config: Pick<AppConfig, 'corsOrigins' | 'metricsPort' | 'production'>,
): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  const headers = securityHeaders();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.headers(headers);
    // Every answer names its request, as the log lines about it do.
    void reply.header('X-Request-Id', request.id);
    inRequestLogContext(request.id, done);
  });
  // One line per finished request (health checks aside), 404s and Swagger UI included,
  // and every request counted by route template and status.
  const metrics = app.get(MetricsService);
  fastify.addHook('onResponse', (request, reply, done) => {
    logRequest(request.raw, reply.raw, request.id, reply.elapsedTime);
    metrics.observeRequest(
      request.method,
      request.routeOptions.url,
      reply.statusCode,
      reply.elapsedTime,
    );
    done();
  });
  // Prometheus metrics: here unless METRICS_PORT gives them a port of their own
  // (or, in a cluster, the primary serves them there for every worker). In
  // production never on the public port: sign-in failures and traffic are
  // nobody else's business, so without METRICS_PORT they are not served.
  if (config.metricsPort === null && !config.production && !cluster.isWorker) {
    fastify.get('/metrics', async (_request, reply) => {
      const { contentType, body } = await metrics.exposition();
      return reply.header('Cache-Control', 'no-store').type(contentType).send(body);
    });
  }
  // Nest's Swagger UI page has an inline <style> block and style attributes:
  // its pages alone may use inline styles (never inline scripts).
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (request.url === '/docs' || request.url.startsWith('/docs/')) {
      void reply.header('Content-Security-Policy', SWAGGER_UI_POLICY);
    }
    done(null, payload);
  });
  if (config.corsOrigins.length > 0) {
    const allowed = new Set(config.corsOrigins);
    // Exact matches only: no patterns, and the "null" origin (sandboxed pages, files) never.
    app.enableCors({
      origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type'],
      maxAge: 600,
    });
  }
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      'health/live',
      'health/ready',
      '.well-known/jwks.json',
      '.well-known/oauth-authorization-server',
    ],
  });
  await serveWebPage(app);

  // Built at the first request for /docs or /docs-json, not at start: it
  // walks every route and DTO (a tenth of a second here).
  const document = () =>
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Auth service')
        .setDescription(
          'User registration and authentication. Errors are RFC 9457 problem documents with a stable `code`. ' +
            'Use "Authorize" with an account\'s email (or username) and password: the OAuth2 password flow ' +
            `posts to ${TOKEN_URL}.`,
        )
        .setVersion('1.0')
        .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
        .addOAuth2({ type: 'oauth2', flows: { password: { tokenUrl: TOKEN_URL, scopes: {} } } })
        .build(),
      { extraModels: [ProblemDto] },
    );
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}

/** The web page's files: `public/` at the top of the repository (beside `src/` and `dist/`). */
export const PUBLIC_DIR = [
  join(__dirname, '..', 'public'),
  join(__dirname, '..', '..', 'public'),
].find((dir) => existsSync(join(dir, 'index.html')));

/**
 * The web page at `/`: its files as they are (no build step), and the page
 * again at `/reset`, where the link in a reset mail opens the reset form, and
 * at `/secure`, where a new-device alert's "this wasn't me" link opens. The
 * browser half of SimpleWebAuthn is served as it is published, at
 * `/vendor/simplewebauthn/` (its .js modules only, not its typings or maps).
 */
async function serveWebPage(app: NestFastifyApplication): Promise<void> {
  if (!PUBLIC_DIR) {
    return;
  }
  const page = readFileSync(join(PUBLIC_DIR, 'index.html'));
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/',
    decorateReply: false,
    wildcard: false,
    index: ['index.html'],
  });
  // The package's `require` entry is script/index.js; its ES modules are in esm/ beside it.
  // One route for the folder, its files looked up at each request: a route per file (64,
  // typings and maps included, each with HEAD and GET) took ~50 ms of every start.
  const webAuthnModules = join(dirname(require.resolve('@simplewebauthn/browser')), '..', 'esm');
  await app.register(fastifyStatic, {
    root: webAuthnModules,
    prefix: '/vendor/simplewebauthn/',
    decorateReply: false,
    wildcard: true,
    index: false,
    allowedPath: (path) => path.endsWith('.js'),
  });
  app
    .getHttpAdapter()
    .getInstance()
    .get('/reset', (_request, reply) => {
      void reply.header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(page);
    })
    .get('/secure', (_request, reply) => {
      void reply.header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(page);
    });
}

export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  // Nest's own start-up logging is off: a failure is reported once, by main.ts,
  // not again with a stack by Nest's exception handler.
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule,
    createFastifyAdapter(config),
    { logger: false, abortOnError: false },
  );
  // JSON lines through pino (LoggingModule), at LOG_LEVEL.
  app.useLogger(app.get(Logger));
  await configureApp(app, config);
  return app;
}

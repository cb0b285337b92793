import { LogLevel as NestLogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { ProblemDto } from './common/dto/problem.dto';
import type { AppConfig, LogLevel } from './config/configuration';

export const API_PREFIX = 'api/v1';
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

/** Fastify as the service runs it: the contract's body limit, prototype-poisoning refused. */
export function createFastifyAdapter(config: Pick<AppConfig, 'bodyLimitBytes'>): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    trustProxy: false,
    return503OnClosing: true,
  });
}

/** Everything around the module tree: route prefix, OpenAPI and Swagger UI, shutdown hooks. */
export function configureApp(app: NestFastifyApplication): void {
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health/live', 'health/ready'] });
  app.enableShutdownHooks();

  const document = SwaggerModule.createDocument(
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

export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule,
    createFastifyAdapter(config),
    { logger: nestLogLevels(config.logLevel), abortOnError: false },
  );
  configureApp(app);
  return app;
}

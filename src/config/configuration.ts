import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Inject } from '@nestjs/common';
import { registerAs } from '@nestjs/config';
import { threadpoolSize } from './threadpool';
import {
  asymmetricSigningKeys,
  JWT_ALGORITHMS,
  type JwtAlgorithm,
  secretSigningKey,
  type SigningKey,
  SigningKeyError,
} from './signing-keys';
import type { AppConfig } from './app-config';
import { oidcSettings } from './oidc-providers';
import { defaultPublicUrl, relyingParty } from './relying-party';
import { bool, ConfigError, type Env, int, oneOf, origins, present, url } from './env';

export type { AppConfig, LogLevel } from './app-config';
export { ConfigError } from './env';

/**
 * The signing key: from JWT_SECRET, or (outside production) generated once and
 * kept in DATA_DIR so that tokens survive a restart.
 */
function jwtSecret(env: Env, production: boolean, dataDir: string): string {
  const given = present(env, 'JWT_SECRET');
  if (given !== undefined) {
    if (Buffer.byteLength(given) < 32) {
      throw new ConfigError('JWT_SECRET must be at least 32 bytes long');
    }
    return given;
  }
  if (production) {
    throw new ConfigError('JWT_SECRET is required when NODE_ENV=production');
  }
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) {
    return readFileSync(file, 'utf8').trim();
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secret;
}

/** The access tokens' keys for JWT_ALGORITHM (JWT_PRIVATE_KEYS is for the asymmetric ones only). */
function signingKeys(
  env: Env,
  algorithm: JwtAlgorithm,
  secret: string,
  production: boolean,
  dataDir: string,
): SigningKey[] {
  const given = present(env, 'JWT_PRIVATE_KEYS');
  if (algorithm === 'HS256') {
    if (given !== undefined) {
      throw new ConfigError(
        'JWT_PRIVATE_KEYS is for JWT_ALGORITHM=ES256 or RS256; HS256 signs with JWT_SECRET',
      );
    }
    return [secretSigningKey(secret)];
  }
  try {
    return asymmetricSigningKeys(algorithm, given, production, dataDir);
  } catch (error) {
    throw error instanceof SigningKeyError ? new ConfigError(error.message) : error;
  }
}

/**
 * WORKERS: a number, or `auto` for one per core. Several processes need what
 * they share to be shared: a PostgreSQL server (the embedded store belongs to
 * one process) and, with rate limits on, Redis (each would count alone).
 */
function workerCount(
  env: Env,
  databaseUrl: string | null,
  redisUrl: string | null,
  rateLimit: boolean,
): number {
  const workers =
    present(env, 'WORKERS') === 'auto' ? availableParallelism() : int(env, 'WORKERS', 1, 1, 256);
  if (workers > 1 && !databaseUrl) {
    throw new ConfigError(
      'WORKERS above 1 needs DATABASE_URL: the embedded store belongs to one process',
    );
  }
  if (workers > 1 && rateLimit && !redisUrl) {
    throw new ConfigError(
      'WORKERS above 1 needs REDIS_URL for the rate-limit counters (each worker would count alone)',
    );
  }
  return workers;
}

/** Reads and checks every variable the service uses; throws a ConfigError naming the first bad one. */
export function loadConfig(env: Env): AppConfig {
  const nodeEnv = present(env, 'NODE_ENV') ?? 'development';
  const production = nodeEnv === 'production';
  const port = int(env, 'PORT', 3000, 0, 65535);
  const host = present(env, 'HOST') ?? '127.0.0.1';
  const dataDir = resolve(present(env, 'DATA_DIR') ?? './data');
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']) ?? null;
  const publicUrl = (
    url(env, 'PUBLIC_URL', ['http:', 'https:']) ?? defaultPublicUrl(host, port)
  ).replace(/\/+$/, '');
  const webauthn = relyingParty(env, publicUrl);
  const mailUrl = url(env, 'MAIL_URL', ['smtp:', 'smtps:']) ?? null;
  if (production && !mailUrl) {
    throw new ConfigError(
      'MAIL_URL is required when NODE_ENV=production (writing mails to the log is for development only)',
    );
  }
  const mailFrom =
    present(env, 'MAIL_FROM') ?? `auth-service <no-reply@${new URL(publicUrl).hostname}>`;
  if (!/^[^\r\n]*@[^\r\n]+$/.test(mailFrom)) {
    throw new ConfigError(
      `MAIL_FROM must be an address, optionally with a name (got "${mailFrom}")`,
    );
  }
  const secret = jwtSecret(env, production, dataDir);
  if (present(env, 'JWT_ALGORITHM') === 'EdDSA') {
    throw new ConfigError(
      'JWT_ALGORITHM=EdDSA is not supported: @nestjs/jwt and passport-jwt (jsonwebtoken) cannot sign or verify it, and RFC 9864 deprecates the name; use ES256 (or RS256) with an EC P-256 (or RSA) key in JWT_PRIVATE_KEYS',
    );
  }
  const algorithm = oneOf(env, 'JWT_ALGORITHM', 'HS256', JWT_ALGORITHMS);
  const redisUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:']) ?? null;
  const rateLimit = oneOf(env, 'RATE_LIMIT', 'on', ['on', 'off']) === 'on';
  const workers = workerCount(env, databaseUrl, redisUrl, rateLimit);
  return {
    nodeEnv,
    production,
    port,
    host,
    databaseUrl,
    dataDir,
    databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 200),
    databaseConnectTimeoutSeconds: int(env, 'DATABASE_CONNECT_TIMEOUT_SECONDS', 30, 1, 3600),
    publicUrl,
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace']),
    jwt: {
      secret,
      algorithm,
      keys: signingKeys(env, algorithm, secret, production, dataDir),
      accessTtl: int(env, 'JWT_ACCESS_TTL', 900, 1, 86400),
      issuer: present(env, 'JWT_ISSUER') ?? 'auth-service',
      audience: present(env, 'JWT_AUDIENCE') ?? 'auth-service',
    },
    refresh: {
      ttl: int(env, 'REFRESH_TOKEN_TTL', 2592000, 1, 31536000),
      reuseGraceSeconds: int(env, 'REFRESH_REUSE_GRACE_SECONDS', 10, 0, 300),
    },
    argon2: {
      memoryCost: int(env, 'ARGON2_MEMORY_KIB', 19456, 1024, 4194304),
      timeCost: int(env, 'ARGON2_TIME_COST', 2, 1, 100),
      parallelism: int(env, 'ARGON2_PARALLELISM', 1, 1, 16),
    },
    bodyLimitBytes: 100 * 1024,
    hashing: {
      // One hash per core, at most 4 unless set (each holds ARGON2_MEMORY_KIB); main.ts sizes
      // libuv's thread pool, where argon2 runs, to match (sizeThreadpool).
      concurrency: int(env, 'HASH_CONCURRENCY', Math.min(availableParallelism(), 4), 1, 64),
      queueLimit: int(env, 'HASH_QUEUE_LIMIT', 256, 0, 100000),
      threads: threadpoolSize(env),
    },
    mail: {
      url: mailUrl,
      from: mailFrom,
      retryBaseSeconds: int(env, 'MAIL_RETRY_BASE_SECONDS', 5, 1, 3600),
      maxAttempts: int(env, 'MAIL_MAX_ATTEMPTS', 10, 1, 100),
    },
    otpTtl: int(env, 'OTP_TTL', 600, 1, 86400),
    passwordResetTtl: int(env, 'PASSWORD_RESET_TTL', 1800, 1, 86400),
    reauthMaxAge: int(env, 'REAUTH_MAX_AGE', 600, 1, 86400),
    mfa: {
      requiredForAdmins: bool(env, 'MFA_REQUIRED_FOR_ADMINS', false),
      tokenTtl: int(env, 'MFA_TOKEN_TTL', 300, 1, 3600),
      issuer: webauthn.name,
    },
    webauthn,
    oidc: oidcSettings(env, publicUrl),
    requireVerifiedEmail: bool(env, 'REQUIRE_VERIFIED_EMAIL', false),
    newDeviceAlerts: bool(env, 'NEW_DEVICE_ALERTS', true),
    rateLimit,
    rateLimits: {
      perAddressPerMinute: int(env, 'RATE_LIMIT_PER_ADDRESS', 300, 1, 1000000),
      failuresPerAddressAndIdentifier: int(env, 'RATE_LIMIT_FAILURES_PER_ADDRESS', 10, 1, 100000),
      failuresPerIdentifier: int(env, 'RATE_LIMIT_FAILURES_PER_IDENTIFIER', 100, 1, 1000000),
    },
    redisUrl,
    workers,
    metricsPort:
      present(env, 'METRICS_PORT') === undefined ? null : int(env, 'METRICS_PORT', 0, 1, 65535),
    admin: bootstrapAdmin(env),
    corsOrigins: origins(env, 'CORS_ORIGINS') ?? [],
    trustProxy: bool(env, 'TRUST_PROXY', false),
    shutdownTimeoutSeconds: int(env, 'SHUTDOWN_TIMEOUT_SECONDS', 25, 1, 600),
  };
}

function bootstrapAdmin(env: Env): AppConfig['admin'] {
  const email = present(env, 'ADMIN_EMAIL')?.toLowerCase();
  const password = env.ADMIN_PASSWORD;
  if (email === undefined && !password) {
    return null;
  }
  if (email === undefined || !password) {
    throw new ConfigError('ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
  }
  if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) {
    throw new ConfigError(`ADMIN_EMAIL must be an email address (got "${email}")`);
  }
  const length = [...password.normalize('NFKC')].length;
  if (length < 8 || length > 128) {
    throw new ConfigError('ADMIN_PASSWORD must be 8 to 128 characters long');
  }
  return { email, password };
}

/** Read at module initialisation (not at import), so each app instance reads the environment it starts with. */
export const appConfig = registerAs('app', (): AppConfig => loadConfig(process.env));

export const InjectAppConfig = (): PropertyDecorator & ParameterDecorator => Inject(appConfig.KEY);

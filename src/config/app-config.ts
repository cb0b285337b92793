import type { OidcSettings } from './oidc-providers';
import type { RelyingParty } from './relying-party';
import type { JwtAlgorithm, SigningKey } from './signing-keys';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

export interface AppConfig {
  nodeEnv: string;
  production: boolean;
  port: number;
  host: string;
  /** `postgres://…`, or null for the embedded store under `dataDir`. */
  databaseUrl: string | null;
  dataDir: string;
  databasePoolSize: number;
  /** How long start-up keeps trying to reach the database before giving up, in seconds. */
  databaseConnectTimeoutSeconds: number;
  publicUrl: string;
  logLevel: LogLevel;
  jwt: {
    /** HS256's key, and the server key of the refresh-token chain and the email codes. */
    secret: string;
    algorithm: JwtAlgorithm;
    /** The access tokens' keys: the first signs, every one verifies (rotation). */
    keys: SigningKey[];
    accessTtl: number;
    issuer: string;
    audience: string;
  };
  refresh: { ttl: number; reuseGraceSeconds: number };
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  /**
   * Password hashing at once (memory: this × ARGON2_MEMORY_KIB), and how many
   * may wait; `threads`: the size of the process's thread pool, as libuv reads
   * UV_THREADPOOL_SIZE (`threadpoolSize`; main.ts sets it, `sizeThreadpool`,
   * before the pool and before the app's own configuration is loaded).
   */
  hashing: { concurrency: number; queueLimit: number; threads: number };
  bodyLimitBytes: number;
  mail: {
    /** `smtp://…` or `smtps://…`; null: mails are written to the log (development only). */
    url: string | null;
    from: string;
    /** Seconds before the first retry of a failed delivery; doubles per attempt, up to an hour. */
    retryBaseSeconds: number;
    maxAttempts: number;
  };
  otpTtl: number;
  /** Seconds a sign-in counts as recent for sensitive changes of accounts without a password. */
  reauthMaxAge: number;
  mfa: {
    /** Admin routes answer 403 `mfa_enrollment_required` to an administrator without a second factor. */
    requiredForAdmins: boolean;
    /** Seconds an mfaToken (a sign-in waiting for its second step) stays valid. */
    tokenTtl: number;
    /** The name authenticator apps show for the account (WEBAUTHN_RP_NAME). */
    issuer: string;
  };
  /** The WebAuthn relying party (WEBAUTHN_RP_ID, WEBAUTHN_RP_NAME, WEBAUTHN_ORIGINS). */
  webauthn: RelyingParty;
  oidc: OidcSettings;
  passwordResetTtl: number;
  requireVerifiedEmail: boolean;
  /** Mail a notice when an account signs in from a device it has not used in 90 days. */
  newDeviceAlerts: boolean;
  /** false only with RATE_LIMIT=off (benchmarks and tests of other things). */
  rateLimit: boolean;
  /** The abuse limits (see docs/security.md#abuse-limits); windows are fixed, counts configurable. */
  rateLimits: {
    /** Requests to the public auth routes per client address per minute. */
    perAddressPerMinute: number;
    /** Failed sign-ins (or codes) per client address and identifier per 15 minutes. */
    failuresPerAddressAndIdentifier: number;
    /** Failed sign-ins (or codes) per identifier per hour, from all addresses together. */
    failuresPerIdentifier: number;
  };
  /** `redis://…`: rate-limit counters shared by every instance; null: kept in this process's memory. */
  redisUrl: string | null;
  /** ADMIN_EMAIL and ADMIN_PASSWORD: this administrator exists after start. */
  admin: { email: string; password: string } | null;
  /** Origins (scheme://host[:port]) allowed to call the API from a browser; exact matches. */
  corsOrigins: string[];
  /** Processes serving this host (node:cluster); 1 = no cluster. */
  workers: number;
  /** A port of its own for GET /metrics, or null: /metrics is served on PORT. */
  metricsPort: number | null;
  /** When on, the client address comes from X-Forwarded-For (behind a proxy you run). */
  trustProxy: boolean;
  /** How long SIGTERM/SIGINT may take to finish in-flight requests and close, in seconds. */
  shutdownTimeoutSeconds: number;
}

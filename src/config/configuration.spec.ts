import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './configuration';

describe(loadConfig.name, () => {
  const dataDir = () => mkdtempSync(join(tmpdir(), 'auth-config-'));
  const secret = 'a'.repeat(32);

  it('should apply the documented defaults', () => {
    const sut = loadConfig({ JWT_SECRET: secret, DATA_DIR: dataDir() });
    expect(sut).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: null,
      publicUrl: 'http://127.0.0.1:3000',
      jwt: { accessTtl: 900, issuer: 'auth-service', audience: 'auth-service' },
      refresh: { ttl: 2592000, reuseGraceSeconds: 10 },
      argon2: { memoryCost: 19456, timeCost: 2, parallelism: 1 },
      bodyLimitBytes: 102400,
    });
  });

  it.each([
    ['PORT', 'abc', /PORT must be a whole number/],
    ['PORT', '70000', /PORT must be a whole number from 0 to 65535/],
    ['JWT_ACCESS_TTL', '-5', /JWT_ACCESS_TTL/],
    ['ARGON2_MEMORY_KIB', '12', /ARGON2_MEMORY_KIB/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL must start with postgres/],
    ['DATABASE_URL', 'not a url', /DATABASE_URL must be a URL/],
    ['PUBLIC_URL', 'ftp://example.com', /PUBLIC_URL/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL must be one of/],
    ['JWT_SECRET', 'short', /JWT_SECRET must be at least 32 bytes/],
  ])('should refuse %s=%s with one line naming the variable', (name, value, message) => {
    const sut = () => loadConfig({ JWT_SECRET: secret, DATA_DIR: dataDir(), [name]: value });
    expect(sut).toThrow(ConfigError);
    expect(sut).toThrow(message);
  });

  it('should read CORS_ORIGINS as exact origins and TRUST_PROXY as a switch', () => {
    const sut = loadConfig({
      JWT_SECRET: secret,
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      TRUST_PROXY: 'on',
    });
    expect(sut.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(sut.trustProxy).toBe(true);
    expect(loadConfig({ JWT_SECRET: secret })).toMatchObject({
      corsOrigins: [],
      trustProxy: false,
    });
    for (const bad of ['*', 'null', 'app.example.com', 'https://app.example.com/path']) {
      expect(() => loadConfig({ JWT_SECRET: secret, CORS_ORIGINS: bad })).toThrow(
        /CORS_ORIGINS must list origins/,
      );
    }
  });

  it('should require JWT_SECRET in production', () => {
    expect(() =>
      loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir(), MAIL_URL: 'smtp://mail:25' }),
    ).toThrow('JWT_SECRET is required when NODE_ENV=production');
  });

  it('should refuse the log mail transport in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret })).toThrow(
      /MAIL_URL is required when NODE_ENV=production/,
    );
    expect(
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret, MAIL_URL: 'smtps://u:p@mail:465' })
        .mail.url,
    ).toBe('smtps://u:p@mail:465');
  });

  it('should read the mail settings', () => {
    const sut = loadConfig({
      JWT_SECRET: secret,
      DATA_DIR: dataDir(),
      PUBLIC_URL: 'https://auth.example.com/',
      OTP_TTL: '120',
      REQUIRE_VERIFIED_EMAIL: 'true',
      RATE_LIMIT: 'off',
    });
    expect(sut).toMatchObject({
      publicUrl: 'https://auth.example.com',
      mail: { url: null, from: 'auth-service <no-reply@auth.example.com>' },
      otpTtl: 120,
      passwordResetTtl: 1800,
      requireVerifiedEmail: true,
      rateLimit: false,
    });
    expect(() => loadConfig({ JWT_SECRET: secret, REQUIRE_VERIFIED_EMAIL: 'maybe' })).toThrow(
      'REQUIRE_VERIFIED_EMAIL must be true or false',
    );
    expect(() => loadConfig({ JWT_SECRET: secret, MAIL_URL: 'http://mail' })).toThrow(
      'MAIL_URL must start with smtp: or smtps:',
    );
  });

  it('should read the abuse limits and the Redis URL', () => {
    expect(loadConfig({ JWT_SECRET: secret, DATA_DIR: dataDir() })).toMatchObject({
      rateLimit: true,
      rateLimits: {
        perAddressPerMinute: 300,
        failuresPerAddressAndIdentifier: 10,
        failuresPerIdentifier: 100,
      },
      redisUrl: null,
    });
    const sut = loadConfig({
      JWT_SECRET: secret,
      DATA_DIR: dataDir(),
      RATE_LIMIT_PER_ADDRESS: '50',
      RATE_LIMIT_FAILURES_PER_ADDRESS: '3',
      RATE_LIMIT_FAILURES_PER_IDENTIFIER: '7',
      REDIS_URL: 'redis://127.0.0.1:6379/2',
    });
    expect(sut.rateLimits).toEqual({
      perAddressPerMinute: 50,
      failuresPerAddressAndIdentifier: 3,
      failuresPerIdentifier: 7,
    });
    expect(sut.redisUrl).toBe('redis://127.0.0.1:6379/2');
    expect(() => loadConfig({ JWT_SECRET: secret, REDIS_URL: 'http://cache' })).toThrow(
      'REDIS_URL must start with redis: or rediss:',
    );
    expect(() => loadConfig({ JWT_SECRET: secret, RATE_LIMIT_PER_ADDRESS: '0' })).toThrow(
      'RATE_LIMIT_PER_ADDRESS must be a whole number',
    );
  });

  it('should generate a signing key once outside production and keep it in DATA_DIR', () => {
    const dir = dataDir();
    const first = loadConfig({ DATA_DIR: dir });
    const second = loadConfig({ DATA_DIR: dir });
    expect(first.jwt.secret.length).toBeGreaterThanOrEqual(32);
    expect(second.jwt.secret).toBe(first.jwt.secret);
    const file = join(dir, 'jwt-secret');
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(first.jwt.secret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { ConfigError, loadConfig } from './configuration';

function pem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

describe(loadConfig.name, () => {
  const dataDir = () => mkdtempSync(join(tmpdir(), 'auth-config-'));
  const secret = 'a'.repeat(32);

  it('should apply the documented defaults', () => {
    const sut = loadConfig({ JWT_SECRET: secret, DATA_DIR: dataDir() });
    expect(sut).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: null,
      publicUrl: 'http://localhost:3000',
      jwt: { accessTtl: 900, issuer: 'auth-service', audience: 'auth-service' },
      refresh: { ttl: 2592000, reuseGraceSeconds: 10 },
      argon2: { memoryCost: 19456, timeCost: 2, parallelism: 1 },
      bodyLimitBytes: 102400,
      reauthMaxAge: 600,
      mfa: { requiredForAdmins: false, tokenTtl: 300, issuer: 'auth-service' },
      webauthn: { id: 'localhost', name: 'auth-service', origins: ['http://localhost:3000'] },
    });
  });

  it('should default PUBLIC_URL to localhost on a loopback HOST only (a passkey RP ID cannot be an IP address)', () => {
    const on = (HOST: string) =>
      loadConfig({ JWT_SECRET: secret, DATA_DIR: dataDir(), HOST, PORT: '8080' }).publicUrl;
    expect(on('127.0.0.1')).toBe('http://localhost:8080');
    expect(on('::1')).toBe('http://localhost:8080');
    expect(on('localhost')).toBe('http://localhost:8080');
    expect(on('auth.internal')).toBe('http://auth.internal:8080');
  });

  it('should take the relying party from PUBLIC_URL, or from WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS', () => {
    const base = { JWT_SECRET: secret, DATA_DIR: dataDir() };
    expect(loadConfig({ ...base, PUBLIC_URL: 'https://auth.example.com/' }).webauthn).toEqual({
      id: 'auth.example.com',
      name: 'auth-service',
      origins: ['https://auth.example.com'],
    });
    expect(
      loadConfig({
        ...base,
        PUBLIC_URL: 'https://auth.example.com',
        WEBAUTHN_RP_ID: 'example.com',
        WEBAUTHN_RP_NAME: 'Example',
        WEBAUTHN_ORIGINS: 'https://example.com, https://app.example.com',
      }).webauthn,
    ).toEqual({
      id: 'example.com',
      name: 'Example',
      origins: ['https://example.com', 'https://app.example.com'],
    });
  });

  it('should read the two-step sign-in settings', () => {
    const sut = loadConfig({
      JWT_SECRET: secret,
      DATA_DIR: dataDir(),
      MFA_REQUIRED_FOR_ADMINS: 'true',
      MFA_TOKEN_TTL: '60',
      REAUTH_MAX_AGE: '120',
      WEBAUTHN_RP_NAME: 'Example Accounts',
    });
    expect(sut).toMatchObject({
      reauthMaxAge: 120,
      mfa: { requiredForAdmins: true, tokenTtl: 60, issuer: 'Example Accounts' },
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
    ['JWT_ALGORITHM', 'HS512', /JWT_ALGORITHM must be one of HS256, ES256, RS256/],
    ['JWT_ALGORITHM', 'EdDSA', /JWT_ALGORITHM=EdDSA is not supported: .* use ES256/],
    [
      'JWT_PRIVATE_KEYS',
      pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
      /HS256 signs with JWT_SECRET/,
    ],
    ['WORKERS', '0', /WORKERS must be a whole number/],
    ['WORKERS', '2', /WORKERS above 1 needs DATABASE_URL/],
    ['METRICS_PORT', '0', /METRICS_PORT must be a whole number from 1/],
    ['MFA_REQUIRED_FOR_ADMINS', 'maybe', /MFA_REQUIRED_FOR_ADMINS/],
    ['MFA_TOKEN_TTL', '0', /MFA_TOKEN_TTL must be a whole number from 1/],
    ['REAUTH_MAX_AGE', 'soon', /REAUTH_MAX_AGE must be a whole number/],
    ['PUBLIC_URL', 'http://192.168.1.5:3000', /WEBAUTHN_RP_ID must be a domain name, not an IP/],
    ['WEBAUTHN_RP_ID', '10.0.0.1', /WEBAUTHN_RP_ID must be a domain name, not an IP/],
    ['WEBAUTHN_RP_ID', 'example.com', /must be the host of every origin or a parent domain/],
    ['WEBAUTHN_ORIGINS', 'localhost:3000', /WEBAUTHN_ORIGINS must list origins/],
    ['WEBAUTHN_ORIGINS', 'http://evil-localhost:3000', /must be the host of every origin/],
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

  describe('asymmetric signing keys', () => {
    const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const load = (env: Record<string, string>) =>
      loadConfig({ JWT_SECRET: secret, DATA_DIR: dataDir(), ...env });

    it('should read several PEM keys (escaped newlines too): the first signs, each has its thumbprint as kid', () => {
      const [a, b] = [ec(), ec()];
      const sut = load({
        JWT_ALGORITHM: 'ES256',
        JWT_PRIVATE_KEYS: `${pem(a)}${pem(b)}`.replace(/\n/g, '\\n'),
      });
      expect(sut.jwt.algorithm).toBe('ES256');
      expect(sut.jwt.keys).toHaveLength(2);
      const [first, second] = sut.jwt.keys;
      expect(first.publicJwk).toEqual({
        kty: 'EC',
        crv: 'P-256',
        x: expect.any(String),
        y: expect.any(String),
        kid: first.kid,
        alg: 'ES256',
        use: 'sig',
      });
      expect(first.publicJwk).not.toHaveProperty('d');
      expect(first.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(second.kid).not.toBe(first.kid);
      // The same key always gets the same kid (RFC 7638 thumbprint).
      expect(load({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEYS: pem(a) }).jwt.keys[0].kid).toBe(
        first.kid,
      );
    });

    it('should read a JWK set with its kids, and a file that holds the keys', () => {
      const es = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      const jwk = { ...es.export({ format: 'jwk' }), kid: '2026-11' };
      const set = load({
        JWT_ALGORITHM: 'ES256',
        JWT_PRIVATE_KEYS: JSON.stringify({ keys: [jwk] }),
      });
      expect(set.jwt.keys.map((key) => key.kid)).toEqual(['2026-11']);
      expect(set.jwt.keys[0].publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid: '2026-11' });
      const file = join(dataDir(), 'keys.pem');
      writeFileSync(file, pem(es));
      expect(load({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEYS: file }).jwt.keys).toHaveLength(1);
    });

    it.each([
      [
        'ES256',
        () => pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
        /needs an EC key on P-256/,
      ],
      [
        'ES256',
        () => pem(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey),
        /needs an EC key on P-256/,
      ],
      [
        'RS256',
        () => pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey),
        /at least 2048 bits/,
      ],
      [
        'ES256',
        () => JSON.stringify(createPublicKey(ec()).export({ format: 'jwk' })),
        /must be a private key/,
      ],
      [
        'ES256',
        () => '-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----',
        /cannot be read/,
      ],
      ['ES256', () => '/no/such/file.pem', /must hold PEM private keys or JWKs/],
      ['RS256', () => '[]', /holds no key/],
    ])(
      'should refuse JWT_ALGORITHM=%s with a key that does not fit',
      (algorithm, keys, message) => {
        const sut = () => load({ JWT_ALGORITHM: algorithm, JWT_PRIVATE_KEYS: keys() });
        expect(sut).toThrow(ConfigError);
        expect(sut).toThrow(message);
      },
    );

    it('should refuse two keys with one kid', () => {
      const key = pem(ec());
      expect(() => load({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEYS: key + key })).toThrow(
        /two keys with the kid/,
      );
    });

    it('should need the keys in production, and generate one key once in DATA_DIR otherwise', () => {
      expect(() =>
        load({ NODE_ENV: 'production', MAIL_URL: 'smtp://m:25', JWT_ALGORITHM: 'RS256' }),
      ).toThrow(/JWT_PRIVATE_KEYS is required when NODE_ENV=production/);
      const dir = dataDir();
      const first = loadConfig({ JWT_SECRET: secret, DATA_DIR: dir, JWT_ALGORITHM: 'ES256' });
      const again = loadConfig({ JWT_SECRET: secret, DATA_DIR: dir, JWT_ALGORITHM: 'ES256' });
      expect(again.jwt.keys[0].kid).toBe(first.jwt.keys[0].kid);
      expect(statSync(join(dir, 'jwt-es256.pem')).mode & 0o777).toBe(0o600);
    });
  });

  it('should read WORKERS (auto: one per core) only with a shared database and Redis', () => {
    const shared = { DATABASE_URL: 'postgres://db/auth', REDIS_URL: 'redis://cache:6379' };
    expect(loadConfig({ JWT_SECRET: secret, DATA_DIR: dataDir() }).workers).toBe(1);
    expect(
      loadConfig({ JWT_SECRET: secret, DATA_DIR: dataDir(), ...shared, WORKERS: 'auto' }).workers,
    ).toBe(availableParallelism());
    expect(() =>
      loadConfig({
        JWT_SECRET: secret,
        DATA_DIR: dataDir(),
        ...shared,
        REDIS_URL: '',
        WORKERS: '3',
      }),
    ).toThrow(/WORKERS above 1 needs REDIS_URL/);
    expect(
      loadConfig({ JWT_SECRET: secret, DATA_DIR: dataDir(), ...shared, WORKERS: '3' }),
    ).toMatchObject({ workers: 3, metricsPort: null });
  });
});

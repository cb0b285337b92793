import { JwtService } from '@nestjs/jwt';
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { type AppConfig, loadConfig } from '../../config/configuration';
import type { JwtAlgorithm } from '../../config/signing-keys';
import type { UserEntity } from '../../users/user.entity';
import type { SessionsRepository } from './sessions.repository';
import type { Assurance } from '../tokens/assurance';
import { jwtModuleOptions } from '../tokens/jwt.options';
import { toLowS } from '../tokens/jwt-text';
import { JwtStrategy } from './jwt.strategy';
import { TokensService } from '../tokens/tokens.service';

const SECRET = 's'.repeat(48);
const USER = { id: 'user-1' } as UserEntity;
const ASSURANCE: Assurance = { authTime: new Date(), amr: ['pwd'], aal: 'aal1' };

const PRIVATE_KEYS: Record<Exclude<JwtAlgorithm, 'HS256'>, () => KeyObject> = {
  ES256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  RS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
};

const pem = (key: KeyObject) => key.export({ format: 'pem', type: 'pkcs8' }).toString();

function configFor(algorithm: JwtAlgorithm, ...privateKeys: KeyObject[]): AppConfig {
  return loadConfig({
    JWT_SECRET: SECRET,
    JWT_ACCESS_TTL: '900',
    JWT_ALGORITHM: algorithm,
    ...(privateKeys.length > 0 ? { JWT_PRIVATE_KEYS: privateKeys.map(pem).join('\n') } : {}),
  });
}

/** The service's own pair: tokens signed by @nestjs/jwt, checked by the passport-jwt strategy. */
function serviceFor(config: AppConfig) {
  // The session check is the database's business (tested end to end); here every session is live.
  const sessions = {
    findActiveSessionUser: () => Promise.resolve(USER),
  } as unknown as SessionsRepository;
  const strategy = new JwtStrategy(config, sessions);
  const tokens = new TokensService(new JwtService(jwtModuleOptions(config)), config);
  /** What passport-jwt makes of `Authorization: Bearer <token>`: the principal, or null for a 401. */
  const verify = (token: string) =>
    new Promise<unknown>((resolve, reject) => {
      const run = Object.create(strategy) as JwtStrategy & {
        success: (user: unknown) => void;
        fail: () => void;
        error: (error: unknown) => void;
      };
      run.success = (user) => resolve(user);
      run.fail = () => resolve(null);
      run.error = (error) => reject(error instanceof Error ? error : new Error(String(error)));
      run.authenticate({ headers: { authorization: `Bearer ${token}` } } as never, {});
    });
  return { tokens, verify, config };
}

function claims(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub: 'user-1',
    sid: 'session-1',
    iat: now,
    exp: now + 900,
    iss: 'auth-service',
    aud: 'auth-service',
    jti: 'jti-1',
    ...overrides,
  };
}

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token made by hand, signed however the test says. */
function handMade(header: object, payload: object, signWith: (input: string) => Buffer): string {
  const input = `${part(header)}.${part(payload)}`;
  return `${input}.${signWith(input).toString('base64url')}`;
}

/** Signs like the service would, for claims the service would never put in a token. */
function signerFor(algorithm: JwtAlgorithm, key: KeyObject | string): (input: string) => Buffer {
  return (input) => {
    const data = Buffer.from(input);
    if (algorithm === 'HS256') {
      return createHmac('sha256', key).update(data).digest();
    }
    if (algorithm === 'ES256') {
      return toLowS(sign('sha256', data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' }));
    }
    return sign('sha256', data, key);
  };
}

describe(JwtStrategy.name, () => {
  describe.each(['HS256', 'ES256', 'RS256'] as const)('%s', (algorithm) => {
    const first = algorithm === 'HS256' ? undefined : PRIVATE_KEYS[algorithm]();
    const config = first ? configFor(algorithm, first) : configFor(algorithm);
    const { tokens, verify } = serviceFor(config);
    const kid = config.jwt.keys[0].kid;
    const header = { alg: algorithm, typ: 'at+jwt', ...(kid ? { kid } : {}) };
    const forge = (payload: object, head: object = header) =>
      handMade(head, payload, signerFor(algorithm, first ?? SECRET));

    it('should verify what it signs, with the header RFC 9068 asks for', async () => {
      const token = tokens.signAccessToken('user-1', 'session-1', ASSURANCE);
      expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString())).toEqual(header);
      await expect(verify(token)).resolves.toEqual({ user: USER, sessionId: 'session-1' });
      await expect(verify(forge(claims()))).resolves.not.toBeNull();
    });

    it('should refuse a changed payload, a changed signature and malformed tokens', async () => {
      const token = tokens.signAccessToken('user-1', 'session-1', ASSURANCE);
      const [h, p, s] = token.split('.');
      const otherPayload = part({ ...claims(), sub: 'user-2' });
      const flipped = Buffer.from(s, 'base64url');
      flipped[0] ^= 1;
      for (const bad of [
        `${h}.${otherPayload}.${s}`,
        `${h}.${p}.${flipped.toString('base64url')}`,
        `${h}.${p}.`,
        `${h}.${p}`,
        `${token}.${s}`,
        `${h}.${p}.${s}=`,
        `${h} .${p}.${s}`,
        `${token}${'A'.repeat(5000)}`,
        '',
      ]) {
        await expect(verify(bad)).resolves.toBeNull();
      }
    });

    it('should refuse a token whose claims are missing, foreign or out of date', async () => {
      const now = Math.floor(Date.now() / 1000);
      const refused = [
        { sub: undefined },
        { sid: undefined },
        { jti: undefined },
        { exp: undefined },
        { iat: undefined },
        { exp: String(now + 900) },
        { iss: 'someone-else' },
        { aud: 'someone-else' },
        { aud: ['someone-else'] },
        { exp: now - 1 },
        { iat: now - 2000 },
        { iat: now + 600 },
        { nbf: now + 600 },
      ];
      for (const overrides of refused) {
        expect({ overrides, principal: await verify(forge(claims(overrides))) }).toEqual({
          overrides,
          principal: null,
        });
      }
      await expect(
        verify(forge(claims({ aud: ['other', 'auth-service'] }))),
      ).resolves.not.toBeNull();
    });

    it('should refuse alg none, another typ, crit, and a token signed with another key', async () => {
      const token = tokens.signAccessToken('user-1', 'session-1', ASSURANCE);
      const [, p, s] = token.split('.');
      await expect(verify(`${part({ ...header, alg: 'none' })}.${p}.`)).resolves.toBeNull();
      const again = (changes: object) => `${part({ ...header, ...changes })}.${p}.${s}`;
      await expect(verify(again({ typ: 'JWT' }))).resolves.toBeNull();
      await expect(verify(again({ crit: ['exp'] }))).resolves.toBeNull();
      const stranger = first
        ? configFor(algorithm, PRIVATE_KEYS[algorithm as 'ES256' | 'RS256']())
        : loadConfig({ JWT_SECRET: 't'.repeat(48), JWT_ALGORITHM: 'HS256' });
      const strangerTokens = serviceFor(stranger).tokens;
      await expect(
        verify(strangerTokens.signAccessToken('user-1', 'session-1', ASSURANCE)),
      ).resolves.toBeNull();
    });

    if (first) {
      it('should refuse the public key used as an HMAC secret (algorithm confusion)', async () => {
        const publicPem = config.jwt.keys[0].verifyWith
          .export({ format: 'pem', type: 'spki' })
          .toString();
        const jwk = JSON.stringify(config.jwt.keys[0].publicJwk);
        for (const secret of [publicPem, jwk]) {
          const forged = handMade({ alg: 'HS256', typ: 'at+jwt', kid }, claims(), (input) =>
            createHmac('sha256', secret).update(input).digest(),
          );
          await expect(verify(forged)).resolves.toBeNull();
        }
      });

      it('should need a kid it knows, and keep verifying an old key after a rotation', async () => {
        const token = tokens.signAccessToken('user-1', 'session-1', ASSURANCE);
        const [, p, s] = token.split('.');
        await expect(
          verify(`${part({ ...header, kid: undefined })}.${p}.${s}`),
        ).resolves.toBeNull();
        await expect(verify(`${part({ ...header, kid: 'other' })}.${p}.${s}`)).resolves.toBeNull();

        const next = PRIVATE_KEYS[algorithm as 'ES256' | 'RS256']();
        const rotated = serviceFor(configFor(algorithm, next, first));
        const newToken = rotated.tokens.signAccessToken('user-1', 'session-1', ASSURANCE);
        await expect(rotated.verify(token)).resolves.not.toBeNull();
        await expect(rotated.verify(newToken)).resolves.not.toBeNull();
        await expect(verify(newToken)).resolves.toBeNull();
        const retired = serviceFor(configFor(algorithm, next));
        await expect(retired.verify(token)).resolves.toBeNull();
        await expect(retired.verify(newToken)).resolves.not.toBeNull();
      });
    }
  });

  it('should refuse an ES256 signature in DER form (JWS wants r || s)', async () => {
    const key = PRIVATE_KEYS.ES256();
    const config = configFor('ES256', key);
    const { verify } = serviceFor(config);
    const header = { alg: 'ES256', typ: 'at+jwt', kid: config.jwt.keys[0].kid };
    const der = handMade(header, claims(), (input) => sign('sha256', Buffer.from(input), key));
    const raw = handMade(header, claims(), signerFor('ES256', key));
    await expect(verify(der)).resolves.toBeNull();
    await expect(verify(raw)).resolves.not.toBeNull();
  });
});

import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  asymmetricSigningKeys,
  type JwtAlgorithm,
  secretSigningKey,
  type SigningKey,
} from '../config/signing-keys';
import { AccessTokenClaims, AccessTokenCodec } from './access-token-codec';
import { toLowS } from './jwt-text';

const RULES = { issuer: 'auth-service', audience: 'auth-service', ttl: 900 };
const SECRET = 's'.repeat(48);

function pem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

const PRIVATE_KEYS: Record<Exclude<JwtAlgorithm, 'HS256'>, () => KeyObject> = {
  EdDSA: () => generateKeyPairSync('ed25519').privateKey,
  ES256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  RS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
};

function keysFor(algorithm: JwtAlgorithm, ...privateKeys: KeyObject[]): SigningKey[] {
  return algorithm === 'HS256'
    ? [secretSigningKey(SECRET)]
    : asymmetricSigningKeys(algorithm, privateKeys.map(pem).join('\n'), true, '/nonexistent');
}

function claims(overrides: Partial<Record<keyof AccessTokenClaims | 'nbf', unknown>> = {}) {
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
  } as AccessTokenClaims;
}

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token made by hand, signed however the test says. */
function handMade(header: object, payload: object, signWith: (input: string) => Buffer): string {
  const input = `${part(header)}.${part(payload)}`;
  return `${input}.${signWith(input).toString('base64url')}`;
}

describe(AccessTokenCodec.name, () => {
  describe.each(['HS256', 'EdDSA', 'ES256', 'RS256'] as const)('%s', (algorithm) => {
    const first = algorithm === 'HS256' ? undefined : PRIVATE_KEYS[algorithm]();
    const keys = first ? keysFor(algorithm, first) : keysFor(algorithm);
    const codec = new AccessTokenCodec(algorithm, keys, RULES);

    it('should verify what it signs, with the header RFC 9068 asks for', () => {
      const token = codec.sign(claims());
      const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
      expect(header).toEqual(
        algorithm === 'HS256'
          ? { alg: 'HS256', typ: 'at+jwt' }
          : { alg: algorithm, typ: 'at+jwt', kid: keys[0].kid },
      );
      expect(codec.verify(token)).toMatchObject({ sub: 'user-1', sid: 'session-1' });
    });

    it('should refuse a changed payload, a changed signature and malformed tokens', () => {
      const token = codec.sign(claims());
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
        expect(codec.verify(bad)).toBeNull();
      }
    });

    it('should refuse a token whose claims are missing, foreign or out of date', () => {
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
        expect({ overrides, claims: codec.verify(codec.sign(claims(overrides))) }).toEqual({
          overrides,
          claims: null,
        });
      }
      expect(codec.verify(codec.sign(claims({ aud: ['other', 'auth-service'] })))).not.toBeNull();
    });

    it('should refuse alg none, another typ, crit, and a token signed with another key', () => {
      const token = codec.sign(claims());
      const [h, p] = token.split('.');
      const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, string>;
      expect(codec.verify(`${part({ ...header, alg: 'none' })}.${p}.`)).toBeNull();
      const again = (changes: object) =>
        `${part({ ...header, ...changes })}.${p}.${token.split('.')[2]}`;
      expect(codec.verify(again({ typ: 'JWT' }))).toBeNull();
      expect(codec.verify(again({ crit: ['exp'] }))).toBeNull();
      const stranger =
        algorithm === 'HS256'
          ? new AccessTokenCodec('HS256', [secretSigningKey('t'.repeat(48))], RULES)
          : new AccessTokenCodec(algorithm, keysFor(algorithm, PRIVATE_KEYS[algorithm]()), RULES);
      expect(codec.verify(stranger.sign(claims()))).toBeNull();
    });

    if (algorithm !== 'HS256') {
      it('should refuse the public key used as an HMAC secret (algorithm confusion)', () => {
        const publicPem = keys[0].verifyWith.export({ format: 'pem', type: 'spki' }).toString();
        const jwk = JSON.stringify(keys[0].publicJwk);
        for (const secret of [publicPem, jwk]) {
          const forged = handMade(
            { alg: 'HS256', typ: 'at+jwt', kid: keys[0].kid },
            claims(),
            (input) => createHmac('sha256', secret).update(input).digest(),
          );
          expect(codec.verify(forged)).toBeNull();
        }
      });

      it('should need a kid it knows, and keep verifying an old key after a rotation', () => {
        const token = codec.sign(claims());
        const [h, p, s] = token.split('.');
        const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, string>;
        expect(codec.verify(`${part({ ...header, kid: undefined })}.${p}.${s}`)).toBeNull();
        expect(codec.verify(`${part({ ...header, kid: 'other' })}.${p}.${s}`)).toBeNull();

        const next = PRIVATE_KEYS[algorithm]();
        const rotated = new AccessTokenCodec(algorithm, keysFor(algorithm, next, first!), RULES);
        const newToken = rotated.sign(claims());
        expect(rotated.verify(token)).not.toBeNull();
        expect(rotated.verify(newToken)).not.toBeNull();
        expect(codec.verify(newToken)).toBeNull();
        const retired = new AccessTokenCodec(algorithm, keysFor(algorithm, next), RULES);
        expect(retired.verify(token)).toBeNull();
        expect(retired.verify(newToken)).not.toBeNull();
      });
    }
  });

  it('should refuse an ES256 signature in DER form (JWS wants r || s)', () => {
    const key = PRIVATE_KEYS.ES256();
    const keys = keysFor('ES256', key);
    const codec = new AccessTokenCodec('ES256', keys, RULES);
    const der = handMade({ alg: 'ES256', typ: 'at+jwt', kid: keys[0].kid }, claims(), (input) =>
      sign('sha256', Buffer.from(input), key),
    );
    const raw = handMade({ alg: 'ES256', typ: 'at+jwt', kid: keys[0].kid }, claims(), (input) =>
      toLowS(sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })),
    );
    expect(codec.verify(der)).toBeNull();
    expect(codec.verify(raw)).not.toBeNull();
  });
});

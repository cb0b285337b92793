import { createHmac, randomUUID, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type { JwtAlgorithm, SigningKey } from '../config/signing-keys';
import { isCanonicalBase64url, isLowS, toLowS } from './jwt-text';

export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** The claims of our access tokens (RFC 9068). */
export interface AccessTokenClaims {
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string;
  jti: string;
}

export interface AccessTokenRules {
  issuer: string;
  audience: string;
  /** Lifetime in seconds: a token claiming to be older (by `iat`) is refused too. */
  ttl: number;
}

/** A JWT of ours is small; anything much larger is not one, and is not parsed. */
const MAX_TOKEN_LENGTH = 4096;
const SEGMENT = /^[A-Za-z0-9_-]+$/;
/** Seconds of clock difference between instances tolerated on `iat` and `nbf`. */
const CLOCK_SKEW = 60;

/**
 * Signs and verifies access tokens (compact JWS, RFC 7515/7519) with
 * node:crypto and keys fixed by configuration. Nothing in a token chooses
 * how it is checked: the algorithm is pinned, the key is ours (by `kid` for
 * the asymmetric ones), `typ` must be `at+jwt`, and `exp`, `iat`, `iss`,
 * `aud`, `sub`, `sid` and `jti` are required. `/.well-known/jwks.json`
 * publishes the public keys so that other services can verify with any JOSE
 * library (the tests do it with `jose`).
 */
export class AccessTokenCodec {
  private readonly signingKey: SigningKey;
  /** The first part of every token we sign, encoded once. */
  private readonly encodedHeader: string;
  private readonly byKid = new Map<string, SigningKey>();

  constructor(
    readonly algorithm: JwtAlgorithm,
    readonly keys: readonly SigningKey[],
    private readonly rules: AccessTokenRules,
  ) {
    if (keys.length === 0) {
      throw new Error('no signing key');
    }
    this.signingKey = keys[0];
    for (const key of keys) {
      if (key.kid !== null) {
        this.byKid.set(key.kid, key);
      }
    }
    const header: Record<string, string> = { alg: algorithm, typ: ACCESS_TOKEN_TYPE };
    if (this.signingKey.kid !== null) {
      header.kid = this.signingKey.kid;
    }
    this.encodedHeader = encode(header);
  }

  /** A new access token for this user's session, by the rules (issuer, audience, lifetime). */
  issue(userId: string, sessionId: string): string {
    const iat = Math.floor(Date.now() / 1000);
    return this.sign({
      sub: userId,
      sid: sessionId,
      iat,
      exp: iat + this.rules.ttl,
      iss: this.rules.issuer,
      aud: this.rules.audience,
      jti: randomUUID(),
    });
  }

  sign(claims: AccessTokenClaims): string {
    const input = `${this.encodedHeader}.${encode(claims)}`;
    return `${input}.${signature(this.algorithm, this.signingKey.signWith, input).toString('base64url')}`;
  }

  /** The token's claims when it is a valid, unexpired access token of ours; otherwise null. */
  verify(token: string, now = Math.floor(Date.now() / 1000)): AccessTokenClaims | null {
    if (token.length > MAX_TOKEN_LENGTH) {
      return null;
    }
    const parts = token.split('.');
    if (
      parts.length !== 3 ||
      !parts.every((part) => SEGMENT.test(part) && isCanonicalBase64url(part))
    ) {
      return null;
    }
    const header = decode(parts[0]);
    if (
      !header ||
      header.alg !== this.algorithm ||
      header.typ !== ACCESS_TOKEN_TYPE ||
      header.crit !== undefined
    ) {
      return null;
    }
    const key = this.keyFor(header.kid);
    if (
      !key ||
      !validSignature(this.algorithm, key.verifyWith, `${parts[0]}.${parts[1]}`, parts[2])
    ) {
      return null;
    }
    const claims = decode(parts[1]);
    if (!claims) {
      return null;
    }
    const { sub, sid, jti, iss, aud, exp, iat, nbf } = claims;
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      typeof jti !== 'string' ||
      typeof exp !== 'number' ||
      typeof iat !== 'number' ||
      iss !== this.rules.issuer ||
      !(aud === this.rules.audience || (Array.isArray(aud) && aud.includes(this.rules.audience))) ||
      exp <= now ||
      iat > now + CLOCK_SKEW ||
      now - iat > this.rules.ttl + CLOCK_SKEW ||
      (nbf !== undefined && (typeof nbf !== 'number' || nbf > now + CLOCK_SKEW))
    ) {
      return null;
    }
    return claims as unknown as AccessTokenClaims;
  }

  private keyFor(kid: unknown): SigningKey | undefined {
    if (this.algorithm === 'HS256') {
      return this.signingKey;
    }
    return typeof kid === 'string' ? this.byKid.get(kid) : undefined;
  }
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decode(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function signature(algorithm: JwtAlgorithm, key: KeyObject, input: string): Buffer {
  const data = Buffer.from(input, 'utf8');
  switch (algorithm) {
    case 'HS256':
      return createHmac('sha256', key).update(data).digest();
    case 'EdDSA':
      return sign(null, data, key);
    case 'ES256':
      // JWS wants the raw r || s pair (RFC 7518 §3.4), not DER; in its low-S form.
      return toLowS(sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }));
    case 'RS256':
      return sign('sha256', data, key);
  }
}

function validSignature(
  algorithm: JwtAlgorithm,
  key: KeyObject,
  input: string,
  encoded: string,
): boolean {
  const given = Buffer.from(encoded, 'base64url');
  const data = Buffer.from(input, 'utf8');
  try {
    switch (algorithm) {
      case 'HS256': {
        const expected = createHmac('sha256', key).update(data).digest();
        return given.length === expected.length && timingSafeEqual(given, expected);
      }
      case 'EdDSA':
        return given.length === 64 && verify(null, data, key, given);
      case 'ES256':
        return isLowS(given) && verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, given);
      case 'RS256':
        return verify('sha256', data, key, given);
    }
  } catch {
    return false;
  }
}

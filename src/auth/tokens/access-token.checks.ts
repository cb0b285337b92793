import type { KeyObject } from 'node:crypto';
import type { AppConfig } from '../../config/configuration';
import { isCanonicalBase64url, isLowS } from './jwt-text';

export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** The claims of our access tokens (RFC 9068). */
export interface AccessTokenClaims {
  sub: string;
  sid: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string | string[];
  jti: string;
}

/** A JWT of ours is small; anything much larger is not one, and is not parsed. */
const MAX_TOKEN_LENGTH = 4096;
const BEARER = /^Bearer +([^ ]+)$/i;
/** Seconds of clock difference between instances tolerated on `iat`. */
export const CLOCK_SKEW_SECONDS = 60;

interface RequestWithHeaders {
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The rules of our access tokens that jsonwebtoken (under passport-jwt) does
 * not enforce, as small checks around it: the token has one accepted text
 * (canonical base64url, low-S ES256 signatures), `typ` is `at+jwt`, `crit`
 * is refused, an asymmetric key is chosen by a `kid` we know (never by
 * anything else in the token), and `sub`, `sid`, `jti`, `exp` and `iat` are
 * required with `iat` not in the future. The signature, the pinned
 * algorithm, `exp`, `iss`, `aud` and the age by `iat` are the library's.
 */
export class AccessTokenChecks {
  private readonly keysByKid = new Map<string, KeyObject>();
  private readonly keysByHeader = new Map<string, KeyObject>();
  /** The key each request's token is verified with, chosen while its text is checked. */
  private readonly chosenKeys = new WeakMap<object, KeyObject>();
  private readonly algorithm: AppConfig['jwt']['algorithm'];
  private readonly secret: KeyObject | null;

  constructor(jwt: AppConfig['jwt']) {
    this.algorithm = jwt.algorithm;
    this.secret = jwt.algorithm === 'HS256' ? jwt.keys[0].verifyWith : null;
    for (const key of jwt.keys) {
      if (key.kid !== null) {
        this.keysByKid.set(key.kid, key.verifyWith);
      }
    }
  }

  /** The bearer token of the request (RFC 6750) when its text and header are ours to verify; else null. */
  tokenOf(request: RequestWithHeaders): string | null {
    const authorization = request.headers.authorization;
    const match = typeof authorization === 'string' ? BEARER.exec(authorization) : null;
    const token = match?.[1];
    if (!token || token.length > MAX_TOKEN_LENGTH) {
      return null;
    }
    const parts = token.split('.');
    if (parts.length !== 3 || !parts.every(isCanonicalBase64url)) {
      return null;
    }
    const key = this.keyForHeader(parts[0]);
    if (!key) {
      return null;
    }
    if (this.algorithm === 'ES256' && !isLowS(Buffer.from(parts[2], 'base64url'))) {
      return null;
    }
    this.chosenKeys.set(request, key);
    return token;
  }

  /**
   * The key a token with this header is verified with, or null when the
   * header is not ours. Our tokens share a few header texts, whose keys are
   * remembered (64 texts at most, so made-up ones cannot fill memory).
   */
  private keyForHeader(segment: string): KeyObject | null {
    const known = this.keysByHeader.get(segment);
    if (known !== undefined) {
      return known;
    }
    const header = decodeObject(segment);
    const key =
      !header ||
      header.alg !== this.algorithm ||
      header.typ !== ACCESS_TOKEN_TYPE ||
      header.crit !== undefined
        ? null
        : (this.secret ??
          (typeof header.kid === 'string' ? (this.keysByKid.get(header.kid) ?? null) : null));
    if (key && this.keysByHeader.size < 64) {
      this.keysByHeader.set(segment, key);
    }
    return key;
  }

  /** The key `tokenOf` chose for this request's token. */
  keyFor(request: object): KeyObject | undefined {
    return this.chosenKeys.get(request);
  }

  /** Whether a payload the library verified carries every claim of ours, `iat` not in the future. */
  hasOurClaims(
    payload: Record<string, unknown>,
    now = Math.floor(Date.now() / 1000),
  ): payload is Record<string, unknown> & AccessTokenClaims {
    const { sub, sid, jti, exp, iat } = payload;
    return (
      typeof sub === 'string' &&
      typeof sid === 'string' &&
      typeof jti === 'string' &&
      typeof exp === 'number' &&
      typeof iat === 'number' &&
      iat <= now + CLOCK_SKEW_SECONDS
    );
  }
}

function decodeObject(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

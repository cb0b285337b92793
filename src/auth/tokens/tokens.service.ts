import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import {
  createHash,
  createHmac,
  randomBytes,
  randomInt,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import type { Assurance } from './assurance';
import { toLowS } from './jwt-text';

/**
 * Access tokens (JWT, `typ: at+jwt`, signed by @nestjs/jwt with the options
 * of jwt.options.ts) and refresh tokens (opaque, 256 bits, stored as
 * SHA-256). A refresh token's successor is derived from it with a
 * server-side HMAC key, so a retry within the grace window can be answered
 * with the very same successor without ever storing a token in plaintext.
 */
@Injectable()
export class TokensService {
  private readonly chainKey: Buffer;
  private readonly codeKey: Buffer;
  private readonly identifierKey: Buffer;

  constructor(
    private readonly jwt: JwtService,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {
    this.chainKey = createHmac('sha256', config.jwt.secret)
      .update('refresh-token-chain/v1')
      .digest();
    this.codeKey = createHmac('sha256', config.jwt.secret).update('verification-code/v1').digest();
    this.identifierKey = createHmac('sha256', config.jwt.secret)
      .update('audit-identifier/v1')
      .digest();
  }

  get accessTtl(): number {
    return this.config.jwt.accessTtl;
  }

  /**
   * A new access token for this user's session, saying how the session was
   * signed in (issuer, audience, lifetime and key from the module's options).
   */
  signAccessToken(userId: string, sessionId: string, assurance: Assurance): string {
    const token = this.jwt.sign({
      sub: userId,
      sid: sessionId,
      jti: randomUUID(),
      auth_time: Math.floor(assurance.authTime.getTime() / 1000),
      amr: assurance.amr,
      aal: assurance.aal,
    });
    if (this.config.jwt.algorithm !== 'ES256') {
      return token;
    }
    // OpenSSL's ECDSA signatures are high-S half the time; we issue (and accept) the low-S text only.
    const end = token.lastIndexOf('.') + 1;
    return (
      token.slice(0, end) + toLowS(Buffer.from(token.slice(end), 'base64url')).toString('base64url')
    );
  }

  newRefreshToken(): string {
    return randomBytes(32).toString('base64url');
  }

  successorOf(refreshToken: string): string {
    return createHmac('sha256', this.chainKey).update(refreshToken).digest('base64url');
  }

  hash(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  /** A 6-digit code from the CSPRNG. */
  newVerificationCode(): string {
    return randomInt(0, 1_000_000).toString().padStart(6, '0');
  }

  /**
   * A code's stored form: an HMAC with a server key, bound to the user, since a
   * plain hash of one of a million codes would be reversed at once.
   */
  verificationCodeHash(userId: string, code: string): string {
    return createHmac('sha256', this.codeKey).update(`${userId}:${code}`).digest('hex');
  }

  /**
   * What the audit keeps of a sign-in identifier that matches no account: a
   * keyed hash (128 bits), enough to see repeated attempts with one name and
   * useless to read back what was typed (often a password in the wrong field).
   */
  identifierDigest(identifier: string): string {
    return createHmac('sha256', this.identifierKey)
      .update(identifier.trim().toLowerCase())
      .digest('hex')
      .slice(0, 32);
  }

  /** Compares two hex digests in constant time. */
  sameDigest(a: string, b: string): boolean {
    const left = Buffer.from(a, 'hex');
    const right = Buffer.from(b, 'hex');
    return left.length === right.length && timingSafeEqual(left, right);
  }
}

import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-strategy';
import type { AuthPrincipal } from '../../common/auth-principal';
import { AccessTokenClaims, AccessTokenCodec } from '../access-token-codec';
import { SessionsRepository } from '../sessions.repository';

type Done = (error: unknown, user?: AuthPrincipal | false) => void;

/** The token from `Authorization: Bearer <token>` (RFC 6750), or null. */
function bearerToken(authorization: string | undefined): string | null {
  const match = /^Bearer +([^ ]+)$/i.exec(authorization ?? '');
  return match ? match[1] : null;
}

/**
 * A Passport strategy for bearer access tokens: the codec checks the token
 * (signature, algorithm, `typ`, claims), then `verify` (the class below)
 * checks the session and the user.
 */
class BearerAccessTokenStrategy extends Strategy {
  constructor(
    private readonly codec: AccessTokenCodec,
    private readonly verify: (claims: AccessTokenClaims, done: Done) => void,
  ) {
    super();
  }

  override authenticate(request: { headers: Record<string, string | string[] | undefined> }): void {
    const authorization = request.headers.authorization;
    const token = bearerToken(typeof authorization === 'string' ? authorization : undefined);
    const claims = token === null ? null : this.codec.verify(token);
    if (!claims) {
      this.fail(401);
      return;
    }
    this.verify(claims, (error, user) => {
      if (error) {
        this.error(error as Error);
      } else if (user) {
        this.success(user);
      } else {
        this.fail(401);
      }
    });
  }
}

/**
 * Bearer access tokens: checked by the codec, then the session and user are
 * checked in the database on every request, so revocation is immediate.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(BearerAccessTokenStrategy, 'jwt') {
  constructor(
    codec: AccessTokenCodec,
    private readonly sessions: SessionsRepository,
  ) {
    super(codec);
  }

  async validate(claims: AccessTokenClaims): Promise<AuthPrincipal | false> {
    const user = await this.sessions.findActiveSessionUser(claims.sid, claims.sub);
    return user ? { user, sessionId: claims.sid } : false;
  }
}

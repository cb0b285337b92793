import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import type { AuthPrincipal } from '../../common/auth-principal';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import { SessionsRepository } from '../sessions.repository';
import { ACCESS_TOKEN_TYPE, AccessTokenClaims, secretKeyOnce } from '../tokens.service';

/** Reads the JOSE header without trusting it: used only to refuse tokens that are not access tokens. */
function headerType(rawJwt: string): unknown {
  try {
    const header = JSON.parse(Buffer.from(rawJwt.split('.')[0], 'base64url').toString('utf8')) as {
      typ?: unknown;
    };
    return header.typ;
  } catch {
    return undefined;
  }
}

/**
 * Bearer access tokens: the algorithm is pinned, `exp`, `iss` and `aud` are
 * required, the header must say `at+jwt`, and the session and user are
 * checked in the database on every request, so revocation is immediate.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    @InjectAppConfig() config: AppConfig,
    private readonly sessions: SessionsRepository,
  ) {
    const secretKey = secretKeyOnce(config.jwt.secret)();
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      ignoreExpiration: false,
      algorithms: ['HS256'],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      jsonWebTokenOptions: { algorithms: ['HS256'], maxAge: `${config.jwt.accessTtl + 60}s` },
      secretOrKeyProvider: (
        _request: unknown,
        rawJwt: string,
        done: (error: Error | null, secret?: string | Buffer) => void,
      ) => {
        if (headerType(rawJwt) !== ACCESS_TOKEN_TYPE) {
          done(new Error('not an access token'));
          return;
        }
        // A KeyObject, made once (passport-jwt hands it to jsonwebtoken as it is).
        done(null, secretKey as unknown as Buffer);
      },
    });
  }

  async validate(claims: AccessTokenClaims): Promise<AuthPrincipal | false> {
    if (
      typeof claims.sub !== 'string' ||
      typeof claims.sid !== 'string' ||
      typeof claims.jti !== 'string' ||
      typeof claims.exp !== 'number'
    ) {
      return false;
    }
    const user = await this.sessions.findActiveSessionUser(claims.sid, claims.sub);
    return user ? { user, sessionId: claims.sid } : false;
  }
}

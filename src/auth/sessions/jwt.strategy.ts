import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-jwt';
import type { AuthPrincipal } from '../../common/auth-principal';
import type { UserEntity } from '../../users/user.entity';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import { SessionsRepository } from './sessions.repository';
import { AccessTokenChecks, CLOCK_SKEW_SECONDS } from '../tokens/access-token.checks';

/**
 * Bearer access tokens, verified by passport-jwt (jsonwebtoken): the
 * algorithm pinned to JWT_ALGORITHM, the key chosen by `kid` among ours,
 * `exp`, `iss`, `aud` and the age checked; AccessTokenChecks adds the rules
 * the library leaves out. Then the session and the user are checked in the
 * database on every request, so a revocation takes effect at once.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  private readonly checks: AccessTokenChecks;

  constructor(
    @InjectAppConfig() config: AppConfig,
    private readonly sessions: SessionsRepository,
  ) {
    const checks = new AccessTokenChecks(config.jwt);
    super({
      jwtFromRequest: (request: Parameters<AccessTokenChecks['tokenOf']>[0]) =>
        checks.tokenOf(request),
      secretOrKeyProvider: (
        request: object,
        _token: string,
        done: (error: Error | null, key?: string | Buffer) => void,
      ) => {
        const key = checks.keyFor(request);
        // jsonwebtoken takes the KeyObject as it is; @types/passport-jwt names only strings and buffers.
        return key
          ? done(null, key as unknown as Buffer)
          : done(new Error('no key for this token'));
      },
      algorithms: [config.jwt.algorithm],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      ignoreExpiration: false,
      jsonWebTokenOptions: {
        // A token claiming to be older (by `iat`) than its lifetime is refused too.
        maxAge: config.jwt.accessTtl + CLOCK_SKEW_SECONDS,
        clockTolerance: 0,
      },
    });
    this.checks = checks;
  }

  async validate(payload: Record<string, unknown>): Promise<AuthPrincipal<UserEntity> | false> {
    if (!this.checks.hasOurClaims(payload)) {
      return false;
    }
    const user = await this.sessions.findActiveSessionUser(payload.sid, payload.sub);
    return user ? { user, sessionId: payload.sid } : false;
  }
}

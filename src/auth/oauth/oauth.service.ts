import { HttpStatus, Injectable } from '@nestjs/common';
import type { ClientInfo } from '../../common/decorators/client-info.decorator';
import { OAuthException, ProblemException } from '../../common/problem';
import { TokenPairDto } from '../sessions/dto/token-pair.dto';
import { SessionsService } from '../sessions/sessions.service';
import { BY_PASSWORD, SignInService } from '../sign-in/sign-in.service';
import { OAuthTokenResponseDto } from './dto/oauth.dto';

const PARAMETERS = ['grant_type', 'username', 'password', 'refresh_token'];

/** The OAuth2 token endpoint (RFC 6749 §4.3, §6): answers and errors in the RFC's shape. */
@Injectable()
export class OAuthService {
  constructor(
    private readonly signIn: SignInService,
    private readonly sessions: SessionsService,
  ) {}

  async grantToken(body: unknown, client: ClientInfo): Promise<OAuthTokenResponseDto> {
    const params = this.oauthParams(body);
    const required = (name: string): string => {
      const value = params[name];
      if (value === undefined) {
        throw new OAuthException('invalid_request', `The ${name} parameter is missing.`);
      }
      return value;
    };
    const grantType = required('grant_type');
    let pair: TokenPairDto;
    try {
      if (grantType === 'password') {
        const username = required('username');
        const password = required('password');
        const user = await this.signIn.validatePassword(username, password, client);
        pair = await this.signIn.complete(user, client, BY_PASSWORD);
      } else if (grantType === 'refresh_token') {
        pair = await this.sessions.refresh(required('refresh_token'), client);
      } else {
        throw new OAuthException(
          'unsupported_grant_type',
          'Supported grant types: password, refresh_token.',
        );
      }
    } catch (error) {
      if (error instanceof ProblemException && error.code === 'mfa_required') {
        throw new OAuthException('mfa_required', error.detail, HttpStatus.FORBIDDEN, {
          mfa_token: String(error.extensions?.mfaToken),
        });
      }
      // 429 and 503 keep their status and problem shape (RFC 6749 has no error for them).
      if (error instanceof ProblemException && error.getStatus() < 429) {
        throw new OAuthException('invalid_grant', error.detail);
      }
      throw error;
    }
    return {
      access_token: pair.accessToken,
      token_type: 'bearer',
      expires_in: pair.expiresIn,
      refresh_token: pair.refreshToken,
    };
  }

  /**
   * Token request parameters as RFC 6749 reads them: empty values count as
   * absent, unknown ones are ignored, repeated ones are an error.
   */
  private oauthParams(body: unknown): Record<string, string | undefined> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new OAuthException('invalid_request', 'The request body must carry the parameters.');
    }
    const params: Record<string, string | undefined> = {};
    for (const name of PARAMETERS) {
      const value: unknown = (body as Record<string, unknown>)[name];
      if (value === undefined || value === null || value === '') {
        continue;
      }
      if (typeof value !== 'string' || value.length > 1024 || value.includes('\u0000')) {
        throw new OAuthException('invalid_request', `The ${name} parameter is malformed.`);
      }
      params[name] = value;
    }
    return params;
  }
}

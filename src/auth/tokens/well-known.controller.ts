import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { API_PREFIX } from '../../common/api';
import { Public } from '../../common/decorators/public.decorator';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import type { PublicJwk } from '../../config/signing-keys';

/** RFC 8414 metadata: what a client or a resource server needs to find us. */
interface AuthorizationServerMetadata {
  issuer: string;
  token_endpoint: string;
  jwks_uri: string;
  grant_types_supported: string[];
  response_types_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  service_documentation: string;
}

/**
 * Discovery for services that verify our access tokens themselves: the
 * public keys (RFC 7517) and the authorization server metadata (RFC 8414).
 * Both are public and change only with the configuration, so caches may keep
 * them a few minutes; a verifier that meets an unknown `kid` fetches the set
 * again, which is how a new signing key reaches it.
 */
@ApiTags('discovery')
@Public()
@Controller('.well-known')
export class WellKnownController {
  private readonly jwks: { keys: PublicJwk[] };
  private readonly metadata: AuthorizationServerMetadata;

  constructor(@InjectAppConfig() config: AppConfig) {
    // An HS256 secret is never published: the set is then empty.
    this.jwks = { keys: config.jwt.keys.flatMap((key) => (key.publicJwk ? [key.publicJwk] : [])) };
    this.metadata = {
      issuer: config.jwt.issuer,
      token_endpoint: `${config.publicUrl}/${API_PREFIX}/auth/token`,
      jwks_uri: `${config.publicUrl}/.well-known/jwks.json`,
      grant_types_supported: ['password', 'refresh_token'],
      // No authorization endpoint: the token endpoint is the only way in.
      response_types_supported: [],
      token_endpoint_auth_methods_supported: ['none'],
      service_documentation: `${config.publicUrl}/docs`,
    };
  }

  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({
    summary: 'The public keys of the access tokens (JWK set); empty with JWT_ALGORITHM=HS256',
  })
  @ApiOkResponse({ description: '{ keys: [{ kty, kid, alg, use, … }] }' })
  keySet(): { keys: PublicJwk[] } {
    return this.jwks;
  }

  @Get('oauth-authorization-server')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'Authorization server metadata (RFC 8414)' })
  @ApiOkResponse({ description: 'issuer, token_endpoint, jwks_uri, grant_types_supported, …' })
  serverMetadata(): AuthorizationServerMetadata {
    return this.metadata;
  }
}

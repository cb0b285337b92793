import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { API_PREFIX } from '../../common/api';
import { cookieOf, isSecureRequest, setCookie } from '../../common/cookies';
import { ApiProblems } from '../../common/decorators/api-problems.decorator';
import { Client, type ClientInfo } from '../../common/decorators/client-info.decorator';
import { NoStore } from '../../common/decorators/no-store.decorator';
import { Public } from '../../common/decorators/public.decorator';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import { AddressRateLimitGuard } from '../../rate-limit/address-rate-limit.guard';
import { TokenPairDto } from '../sessions/dto/token-pair.dto';
import { RefreshCookie } from '../sessions/refresh-cookie.interceptor';
import { AuthorizeQueryDto, OidcExchangeDto, OidcProviderDto } from './dto/oidc.dto';
import { OidcService } from './oidc.service';

/** The cookie that binds a trip to the provider to the browser that started it. */
export const FLOW_COOKIE = 'oidc_flow';
const FLOW_COOKIE_PATH = `/${API_PREFIX}/auth/oidc`;

function flowCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  // Lax: the provider's redirect back is a top-level GET from another site.
  return setCookie(FLOW_COOKIE, value, {
    path: FLOW_COOKIE_PATH,
    maxAgeSeconds,
    sameSite: 'Lax',
    secure,
  });
}

const providerParam = ApiParam({
  name: 'provider',
  description: 'A name from GET /auth/oidc/providers (OIDC_PROVIDERS).',
  example: 'google',
});

/** Sign-in with other providers: the trip there and back, and the page's code exchange. */
@ApiTags('oidc')
@Controller('auth/oidc')
@UseGuards(AddressRateLimitGuard)
export class OidcController {
  constructor(
    private readonly oidc: OidcService,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  @Public()
  @Get('providers')
  @ApiOperation({ summary: 'The providers people may sign in with' })
  @ApiOkResponse({ type: OidcProviderDto, isArray: true })
  providers(): OidcProviderDto[] {
    return this.oidc.list();
  }

  @Public()
  @Get(':provider/authorize')
  @providerParam
  @ApiOperation({
    summary: 'Go to the provider to sign in',
    description:
      'A browser navigation (a link or a button), not an API call: 302 to the provider with the authorization code flow, PKCE (S256), state and nonce, and a short-lived HttpOnly cookie that binds the flow to this browser. When the provider cannot be reached: 302 to redirectTo with `#error=provider_error`.',
  })
  @ApiFoundResponse({ description: 'To the provider (or back to redirectTo with an error).' })
  @ApiProblems([400, 'validation_failed', 'invalid_redirect'], 404, [429, 'rate_limited'])
  async authorize(
    @Param('provider') provider: string,
    @Query() query: AuthorizeQueryDto,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { location, browserKey } = await this.oidc.authorize(
      provider,
      query.redirectTo,
      query.link,
    );
    if (browserKey) {
      void reply.header('Set-Cookie', flowCookie(browserKey, 600, this.secure(request)));
    }
    void reply.header('Cache-Control', 'no-store').redirect(location, 302);
  }

  @Public()
  @Get(':provider/callback')
  @providerParam
  @ApiOperation({
    summary: "The provider's redirect back (register PUBLIC_URL/api/v1/auth/oidc/<name>/callback)",
    description:
      'Always 302 to the page that started the flow: `#code=<one-time code>` (valid 60 s, for POST /auth/oidc/exchange), `#linked=<provider>` after linking from the profile, or `#error=` one of access_denied, invalid_state (no flow of this browser: expired, replayed, or opened in another browser), account_exists, email_not_verified, identity_taken, provider_error.',
  })
  @ApiFoundResponse({ description: 'Back to the page, with the outcome in the fragment.' })
  @ApiProblems([429, 'rate_limited'])
  async callback(
    @Param('provider') provider: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @Client() client: ClientInfo,
  ): Promise<void> {
    const rawQuery = request.url.includes('?')
      ? request.url.slice(request.url.indexOf('?') + 1)
      : '';
    const location = await this.oidc.callback(
      provider,
      rawQuery,
      cookieOf(request, FLOW_COOKIE),
      client,
    );
    void reply
      .header('Set-Cookie', flowCookie('', 0, this.secure(request)))
      .header('Cache-Control', 'no-store')
      .header('Referrer-Policy', 'no-referrer')
      .redirect(location, 302);
  }

  @Public()
  @Post('exchange')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @RefreshCookie('issue', 'the answer sets the cookie instead of returning `refreshToken`.')
  @ApiOperation({
    summary: "Turn the callback's one-time code into a token pair",
    description:
      'Single use. The tokens carry `amr` ["fed"] and `aal1`. An account with a second factor gets 403 `mfa_required` (finish with POST /auth/mfa/verify).',
  })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(
    [400, 'validation_failed', 'invalid_code'],
    [403, 'mfa_required', 'account_disabled'],
    [429, 'rate_limited'],
  )
  exchange(@Body() dto: OidcExchangeDto, @Client() client: ClientInfo): Promise<TokenPairDto> {
    return this.oidc.exchange(dto.code, client);
  }

  private secure(request: FastifyRequest): boolean {
    return isSecureRequest(request, this.config.publicUrl);
  }
}

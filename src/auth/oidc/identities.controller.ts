import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiNoContentResponse,
  ApiOAuth2,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthPrincipal } from '../../common/auth-principal';
import { ApiProblems } from '../../common/decorators/api-problems.decorator';
import { Client, type ClientInfo } from '../../common/decorators/client-info.decorator';
import { CurrentUser } from '../../common/decorators/current-user.decorator';
import { NoStore } from '../../common/decorators/no-store.decorator';
import { AuthorizeUrlDto, IdentityDto, LinkIdentityDto } from './dto/oidc.dto';
import { OidcService } from './oidc.service';

/** The caller's accounts at other providers: link, list, unlink. */
@ApiTags('oidc')
@ApiBearerAuth()
@ApiOAuth2([])
@Controller('users/me/identities')
export class IdentitiesController {
  constructor(private readonly oidc: OidcService) {}

  @Get()
  @ApiOperation({ summary: 'The provider accounts linked to this account' })
  @ApiOkResponse({ type: IdentityDto, isArray: true })
  @ApiProblems(401)
  list(@CurrentUser() principal: AuthPrincipal): Promise<IdentityDto[]> {
    return this.oidc.identities(principal);
  }

  @Post(':provider')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @ApiOperation({
    summary: 'Start linking a provider account',
    description:
      'Returns a URL (valid 5 minutes, single use) to open in the browser: after signing in at the provider, its callback links that provider account to this one and lands on redirectTo with `#linked=<provider>` (or `#error=identity_taken` when that provider account is linked to another account). A notice is mailed.',
  })
  @ApiBody({ type: LinkIdentityDto, required: false })
  @ApiOkResponse({ type: AuthorizeUrlDto })
  @ApiProblems([400, 'validation_failed', 'invalid_redirect'], 401, 404, [409, 'identity_taken'])
  link(
    @CurrentUser() principal: AuthPrincipal,
    @Param('provider') provider: string,
    @Body() dto: LinkIdentityDto,
  ): Promise<AuthorizeUrlDto> {
    return this.oidc.startLink(principal, provider, dto?.redirectTo);
  }

  @Delete(':provider')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Unlink a provider account',
    description:
      'Refused with 409 when it is the last way to sign in (no password, secret key, passkey or other provider). A notice is mailed.',
  })
  @ApiNoContentResponse()
  @ApiProblems(401, 404, [409, 'last_sign_in_method'])
  unlink(
    @CurrentUser() principal: AuthPrincipal,
    @Param('provider') provider: string,
    @Client() client: ClientInfo,
  ): Promise<void> {
    return this.oidc.unlink(principal, provider, client);
  }
}

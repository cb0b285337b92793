import { Body, Controller, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Accepts, FORM_TYPE, JSON_TYPE } from '../../common/decorators/accepts.decorator';
import { ApiProblems } from '../../common/decorators/api-problems.decorator';
import { Client, type ClientInfo } from '../../common/decorators/client-info.decorator';
import { NoStore } from '../../common/decorators/no-store.decorator';
import { Public } from '../../common/decorators/public.decorator';
import { AddressRateLimitGuard } from '../../rate-limit/address-rate-limit.guard';
import { OAuthErrorDto, OAuthTokenRequestDto, OAuthTokenResponseDto } from './dto/oauth.dto';
import { OAuthService } from './oauth.service';

@ApiTags('auth')
@Controller('auth')
@UseGuards(AddressRateLimitGuard)
export class OAuthController {
  constructor(private readonly oauth: OAuthService) {}

  @Public()
  @Post('token')
  @HttpCode(HttpStatus.OK)
  @Accepts(FORM_TYPE, JSON_TYPE)
  @NoStore()
  @ApiOperation({
    summary: 'OAuth2 token endpoint (password and refresh_token grants, RFC 6749)',
    description:
      'Used by Swagger UI\'s "Authorize". Unknown parameters are ignored, as RFC 6749 requires.',
  })
  @ApiConsumes(FORM_TYPE, JSON_TYPE)
  @ApiBody({ type: OAuthTokenRequestDto })
  @ApiOkResponse({ type: OAuthTokenResponseDto })
  @ApiBadRequestResponse({ type: OAuthErrorDto, description: 'RFC 6749 §5.2 error' })
  @ApiProblems([429, 'rate_limited'])
  // The body is read by RFC 6749's rules (and answered in its error shape), not by the global pipe.
  token(
    @Body() body: Record<string, unknown>,
    @Client() client: ClientInfo,
  ): Promise<OAuthTokenResponseDto> {
    return this.oauth.grantToken(body, client);
  }
}

import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
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
import { Public } from '../../common/decorators/public.decorator';
import { uuidParam } from '../../common/pipes/uuid-param.pipe';
import { AddressRateLimitGuard } from '../../rate-limit/address-rate-limit.guard';
import { RefreshDto } from './dto/refresh.dto';
import { SessionDto, TokenPairDto } from './dto/token-pair.dto';
import { RefreshCookie } from './refresh-cookie.interceptor';
import { SessionsService } from './sessions.service';

@ApiTags('auth')
@Controller('auth')
@UseGuards(AddressRateLimitGuard)
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Public()
  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @RefreshCookie(
    'rotate',
    'the token is read from the cookie (the body is `{}`), and its successor set in the cookie; a refused token clears it.',
  )
  @ApiOperation({
    summary: 'Rotate a refresh token for a new token pair',
    description:
      'Send `{ refreshToken }`, or, from the web page, `{}` with `X-Refresh-Cookie: 1` and the cookie.',
  })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(400, [401, 'invalid_refresh_token', 'refresh_token_reused'], [429, 'rate_limited'])
  refresh(@Body() dto: RefreshDto, @Client() client: ClientInfo): Promise<TokenPairDto> {
    return this.sessions.refresh(dto.refreshToken, client);
  }

  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RefreshCookie('clear')
  @ApiBearerAuth()
  @ApiOAuth2([])
  @ApiOperation({ summary: 'End this session (and clear the browser cookie, if any)' })
  @ApiNoContentResponse()
  @ApiProblems(401)
  logout(@CurrentUser() principal: AuthPrincipal, @Client() client: ClientInfo): Promise<void> {
    return this.sessions.logout(principal, client);
  }

  @Post('logout-all')
  @HttpCode(HttpStatus.NO_CONTENT)
  @RefreshCookie('clear')
  @ApiBearerAuth()
  @ApiOAuth2([])
  @ApiOperation({
    summary: 'End every session of this user (and clear the browser cookie, if any)',
  })
  @ApiNoContentResponse()
  @ApiProblems(401)
  logoutAll(@CurrentUser() principal: AuthPrincipal, @Client() client: ClientInfo): Promise<void> {
    return this.sessions.logoutAll(principal, client);
  }

  @Get('sessions')
  @ApiBearerAuth()
  @ApiOAuth2([])
  @ApiOperation({ summary: 'Active sessions of this user' })
  @ApiOkResponse({ type: [SessionDto] })
  @ApiProblems(401)
  list(@CurrentUser() principal: AuthPrincipal): Promise<SessionDto[]> {
    return this.sessions.list(principal);
  }

  @Delete('sessions/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBearerAuth()
  @ApiOAuth2([])
  @ApiOperation({ summary: "End one of this user's sessions" })
  @ApiNoContentResponse()
  @ApiProblems(400, 401, 404)
  revoke(
    @CurrentUser() principal: AuthPrincipal,
    @Param('id', uuidParam('id')) id: string,
    @Client() client: ClientInfo,
  ): Promise<void> {
    return this.sessions.revoke(principal, id, client);
  }
}

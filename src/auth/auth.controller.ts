import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOAuth2,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthPrincipal } from '../common/auth-principal';
import { Accepts, FORM_TYPE, JSON_TYPE } from '../common/decorators/accepts.decorator';
import { ApiProblems } from '../common/decorators/api-problems.decorator';
import { Client, type ClientInfo } from '../common/decorators/client-info.decorator';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { NoStore } from '../common/decorators/no-store.decorator';
import { Public } from '../common/decorators/public.decorator';
import { UserResponseDto } from '../users/dto/user-response.dto';
import { UserEntity } from '../users/user.entity';
import { toUserResponse } from '../users/user.mapper';
import { AuthService } from './auth.service';
import { LoginDto } from './dto/login.dto';
import { RefreshDto } from './dto/refresh.dto';
import { RegisterDto } from './dto/register.dto';
import { SecretAccountDto, SecretLoginDto, SecretRegisterDto } from './dto/secret.dto';
import {
  OAuthErrorDto,
  OAuthTokenRequestDto,
  OAuthTokenResponseDto,
  SessionDto,
  TokenPairDto,
} from './dto/token-response.dto';
import { fieldProblem } from '../common/validation';
import { LocalAuthGuard } from './guards/local-auth.guard';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('register')
  @ApiOperation({ summary: 'Create an account with email and password' })
  @ApiCreatedResponse({ type: UserResponseDto })
  @ApiProblems([400, 'validation_failed', 'weak_password'], [409, 'email_taken', 'username_taken'])
  async register(@Body() dto: RegisterDto): Promise<UserResponseDto> {
    return toUserResponse(await this.auth.register(dto));
  }

  @Public()
  @Post('login')
  @HttpCode(HttpStatus.OK)
  @UseGuards(LocalAuthGuard)
  @NoStore()
  @ApiOperation({ summary: 'Sign in with email or username and password' })
  @ApiBody({ type: LoginDto })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(400, [401, 'invalid_credentials'], [403, 'account_disabled'])
  login(@CurrentUser() user: UserEntity, @Client() client: ClientInfo): Promise<TokenPairDto> {
    return this.auth.startSession(user, client);
  }

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
  // The body is read by RFC 6749's rules (and answered in its error shape), not by the global pipe.
  token(
    @Body() body: Record<string, unknown>,
    @Client() client: ClientInfo,
  ): Promise<OAuthTokenResponseDto> {
    return this.auth.grantToken(body, client);
  }

  @Public()
  @Post('refresh')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @ApiOperation({ summary: 'Rotate a refresh token for a new token pair' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(400, [401, 'invalid_refresh_token', 'refresh_token_reused'])
  refresh(@Body() dto: RefreshDto): Promise<TokenPairDto> {
    return this.auth.refresh(dto.refreshToken);
  }

  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBearerAuth()
  @ApiOAuth2([])
  @ApiOperation({ summary: 'End this session' })
  @ApiNoContentResponse()
  @ApiProblems(401)
  logout(@CurrentUser() principal: AuthPrincipal): Promise<void> {
    return this.auth.logout(principal);
  }

  @Post('logout-all')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBearerAuth()
  @ApiOAuth2([])
  @ApiOperation({ summary: 'End every session of this user' })
  @ApiNoContentResponse()
  @ApiProblems(401)
  logoutAll(@CurrentUser() principal: AuthPrincipal): Promise<void> {
    return this.auth.logoutAll(principal);
  }

  @Get('sessions')
  @ApiBearerAuth()
  @ApiOAuth2([])
  @ApiOperation({ summary: 'Active sessions of this user' })
  @ApiOkResponse({ type: [SessionDto] })
  @ApiProblems(401)
  sessions(@CurrentUser() principal: AuthPrincipal): Promise<SessionDto[]> {
    return this.auth.listSessions(principal);
  }

  @Delete('sessions/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBearerAuth()
  @ApiOAuth2([])
  @ApiOperation({ summary: "End one of this user's sessions" })
  @ApiNoContentResponse()
  @ApiProblems(400, 401, 404)
  revokeSession(
    @CurrentUser() principal: AuthPrincipal,
    @Param(
      'id',
      new ParseUUIDPipe({ exceptionFactory: () => fieldProblem('id', 'id must be a UUID') }),
    )
    id: string,
  ): Promise<void> {
    return this.auth.revokeSession(principal, id);
  }

  @Public()
  @Post('secret/register')
  @NoStore()
  @ApiOperation({ summary: 'Create a secret-key account (no email, no password)' })
  @ApiCreatedResponse({ type: SecretAccountDto })
  @ApiProblems(400, [409, 'username_taken'])
  registerWithSecret(@Body() dto: SecretRegisterDto): Promise<SecretAccountDto> {
    return this.auth.registerWithSecret(dto.username);
  }

  @Public()
  @Post('secret/login')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @ApiOperation({ summary: 'Sign in with a secret key' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(400, [401, 'invalid_credentials'], [403, 'account_disabled'])
  async loginWithSecret(
    @Body() dto: SecretLoginDto,
    @Client() client: ClientInfo,
  ): Promise<TokenPairDto> {
    return this.auth.startSession(await this.auth.validateSecret(dto.userSecret), client);
  }
}

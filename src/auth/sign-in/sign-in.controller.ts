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
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AppConfig, InjectAppConfig } from '../config/configuration';
import {
  ApiRefreshCookie,
  clearRefreshCookie,
  inRefreshCookie,
  refreshCookieOf,
  wantsRefreshCookie,
} from './refresh-cookie';
import { ProblemException } from '../common/problem';
import {
  ApiAcceptedResponse,
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
import { AcceptedDto, EmailDto, ResetPasswordDto, VerifyEmailDto } from './dto/email.dto';
import { EmailVerificationService } from './email-verification.service';
import { PasswordResetService } from './password-reset.service';
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
import { AddressRateLimitGuard } from '../rate-limit/address-rate-limit.guard';
import { SkipThrottle } from '@nestjs/throttler';

@ApiTags('auth')
@Controller('auth')
@UseGuards(AddressRateLimitGuard)
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly verification: EmailVerificationService,
    private readonly passwordReset: PasswordResetService,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  /** A token pair as the client asked for it: whole, or with the refresh token in the browser cookie. */
  private deliver(pair: TokenPairDto, request: FastifyRequest, reply: FastifyReply): TokenPairDto {
    return wantsRefreshCookie(request)
      ? inRefreshCookie(pair, request, reply, {
          maxAgeSeconds: this.config.refresh.ttl,
          publicUrl: this.config.publicUrl,
        })
      : pair;
  }

  @Public()
  @Post('register')
  @ApiOperation({ summary: 'Create an account with email and password' })
  @ApiCreatedResponse({ type: UserResponseDto })
  @ApiProblems(
    [400, 'validation_failed', 'weak_password'],
    [409, 'email_taken', 'username_taken'],
    [429, 'rate_limited'],
  )
  async register(@Body() dto: RegisterDto, @Client() client: ClientInfo): Promise<UserResponseDto> {
    return toUserResponse(await this.auth.register(dto, client));
  }

  @Public()
  @Post('verify-email')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Confirm the email address with the mailed 6-digit code' })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiProblems(
    [400, 'validation_failed', 'invalid_code'],
    [429, 'too_many_attempts', 'rate_limited'],
  )
  async verifyEmail(
    @Body() dto: VerifyEmailDto,
    @Client() client: ClientInfo,
  ): Promise<UserResponseDto> {
    return toUserResponse(await this.verification.verify(dto.email, dto.code, client));
  }

  @Public()
  @Post('verify-email/resend')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Mail a new verification code (the last one stops working)',
    description: 'Always the same answer, whether or not the address has an unverified account.',
  })
  @ApiAcceptedResponse({ type: AcceptedDto })
  @ApiProblems(400, [429, 'rate_limited'])
  async resendVerification(
    @Body() dto: EmailDto,
    @Client() client: ClientInfo,
  ): Promise<AcceptedDto> {
    await this.verification.resend(dto.email, client);
    return {
      message:
        'If this address belongs to an account waiting for verification, a new code is on its way.',
    };
  }

  @Public()
  @Post('password/forgot')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Mail a single-use password reset link',
    description:
      'Always the same answer, in body and time, whether or not the address has an account.',
  })
  @ApiAcceptedResponse({ type: AcceptedDto })
  @ApiProblems(400, [429, 'rate_limited'])
  async forgotPassword(@Body() dto: EmailDto, @Client() client: ClientInfo): Promise<AcceptedDto> {
    await this.passwordReset.forgot(dto.email, client);
    return {
      message: 'If this address belongs to an account, a link to reset the password is on its way.',
    };
  }

  @Public()
  @SkipThrottle() // limits never stop an owner with a reset link (a 256-bit token cannot be guessed)
  @Post('password/reset')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Set a new password with the token from the reset link; every session ends',
  })
  @ApiNoContentResponse()
  @ApiProblems([400, 'validation_failed', 'invalid_token', 'weak_password'])
  resetPassword(@Body() dto: ResetPasswordDto, @Client() client: ClientInfo): Promise<void> {
    return this.passwordReset.reset(dto.token, dto.newPassword, client);
  }

  @Public()
  @Post('login')
  @HttpCode(HttpStatus.OK)
  @UseGuards(LocalAuthGuard)
  @NoStore()
  @ApiOperation({ summary: 'Sign in with email or username and password' })
  @ApiBody({ type: LoginDto })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiRefreshCookie('the answer sets the cookie instead of returning `refreshToken`.')
  @ApiProblems(
    400,
    [401, 'invalid_credentials'],
    [403, 'account_disabled', 'email_not_verified'],
    [429, 'rate_limited'],
  )
  async login(
    @CurrentUser() user: UserEntity,
    @Client() client: ClientInfo,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenPairDto> {
    return this.deliver(await this.auth.startSession(user, client, 'password'), request, reply);
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
  @ApiProblems([429, 'rate_limited'])
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
  @ApiOperation({
    summary: 'Rotate a refresh token for a new token pair',
    description:
      'Send `{ refreshToken }`, or, from the web page, `{}` with `X-Refresh-Cookie: 1` and the cookie.',
  })
  @ApiRefreshCookie(
    'the token is read from the cookie (the body is `{}`), and its successor set in the cookie; a refused token clears it.',
  )
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(400, [401, 'invalid_refresh_token', 'refresh_token_reused'], [429, 'rate_limited'])
  async refresh(
    @Body() dto: RefreshDto,
    @Client() client: ClientInfo,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenPairDto> {
    if (!wantsRefreshCookie(request)) {
      if (typeof dto.refreshToken !== 'string') {
        throw fieldProblem('refreshToken', 'refreshToken is required');
      }
      return this.auth.refresh(dto.refreshToken, client);
    }
    try {
      const token = refreshCookieOf(request);
      if (token === undefined) {
        throw new ProblemException(
          HttpStatus.UNAUTHORIZED,
          'invalid_refresh_token',
          'There is no session cookie; sign in again.',
        );
      }
      return this.deliver(await this.auth.refresh(token, client), request, reply);
    } catch (error) {
      if (error instanceof ProblemException && error.getStatus() === 401) {
        clearRefreshCookie(request, reply, this.config.publicUrl);
      }
      throw error;
    }
  }

  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBearerAuth()
  @ApiOAuth2([])
  @ApiOperation({ summary: 'End this session (and clear the browser cookie, if any)' })
  @ApiNoContentResponse()
  @ApiProblems(401)
  async logout(
    @CurrentUser() principal: AuthPrincipal,
    @Client() client: ClientInfo,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.auth.logout(principal, client);
    clearRefreshCookie(request, reply, this.config.publicUrl);
  }

  @Post('logout-all')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiBearerAuth()
  @ApiOAuth2([])
  @ApiOperation({
    summary: 'End every session of this user (and clear the browser cookie, if any)',
  })
  @ApiNoContentResponse()
  @ApiProblems(401)
  async logoutAll(
    @CurrentUser() principal: AuthPrincipal,
    @Client() client: ClientInfo,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    await this.auth.logoutAll(principal, client);
    clearRefreshCookie(request, reply, this.config.publicUrl);
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
    @Client() client: ClientInfo,
  ): Promise<void> {
    return this.auth.revokeSession(principal, id, client);
  }

  @Public()
  @Post('secret/register')
  @NoStore()
  @ApiOperation({ summary: 'Create a secret-key account (no email, no password)' })
  @ApiCreatedResponse({ type: SecretAccountDto })
  @ApiProblems(400, [409, 'username_taken'], [429, 'rate_limited'])
  registerWithSecret(@Body() dto: SecretRegisterDto): Promise<SecretAccountDto> {
    return this.auth.registerWithSecret(dto.username);
  }

  @Public()
  @Post('secret/login')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @ApiOperation({ summary: 'Sign in with a secret key' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(400, [401, 'invalid_credentials'], [403, 'account_disabled'], [429, 'rate_limited'])
  async loginWithSecret(
    @Body() dto: SecretLoginDto,
    @Client() client: ClientInfo,
  ): Promise<TokenPairDto> {
    const user = await this.auth.validateSecret(dto.userSecret, client);
    return this.auth.startSession(user, client, 'secret');
  }
}

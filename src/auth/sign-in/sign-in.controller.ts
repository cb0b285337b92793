import { Body, Controller, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/decorators/api-problems.decorator';
import { Client, type ClientInfo } from '../../common/decorators/client-info.decorator';
import { CurrentUser } from '../../common/decorators/current-user.decorator';
import { NoStore } from '../../common/decorators/no-store.decorator';
import { Public } from '../../common/decorators/public.decorator';
import { AddressRateLimitGuard } from '../../rate-limit/address-rate-limit.guard';
import { UserResponseDto } from '../../users/dto/user-response.dto';
import { UserEntity } from '../../users/user.entity';
import { toUserResponse } from '../../users/user.mapper';
import { TokenPairDto } from '../sessions/dto/token-pair.dto';
import { RefreshCookie } from '../sessions/refresh-cookie.interceptor';
import { LoginDto } from './dto/login.dto';
import { RegisterDto } from './dto/register.dto';
import { SecretAccountDto, SecretLoginDto, SecretRegisterDto } from './dto/secret.dto';
import { LocalAuthGuard } from './local-auth.guard';
import { BY_PASSWORD, SignInService } from './sign-in.service';

@ApiTags('auth')
@Controller('auth')
@UseGuards(AddressRateLimitGuard)
export class SignInController {
  constructor(private readonly signIn: SignInService) {}

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
    return toUserResponse(await this.signIn.register(dto, client));
  }

  @Public()
  @Post('login')
  @HttpCode(HttpStatus.OK)
  @UseGuards(LocalAuthGuard)
  @NoStore()
  @RefreshCookie('issue', 'the answer sets the cookie instead of returning `refreshToken`.')
  @ApiOperation({ summary: 'Sign in with email or username and password' })
  @ApiBody({ type: LoginDto })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(
    400,
    [401, 'invalid_credentials'],
    [403, 'account_disabled', 'email_not_verified', 'mfa_required'],
    [429, 'rate_limited'],
  )
  login(@CurrentUser() user: UserEntity, @Client() client: ClientInfo): Promise<TokenPairDto> {
    return this.signIn.complete(user, client, BY_PASSWORD);
  }

  @Public()
  @Post('secret/register')
  @NoStore()
  @ApiOperation({ summary: 'Create a secret-key account (no email, no password)' })
  @ApiCreatedResponse({ type: SecretAccountDto })
  @ApiProblems(400, [409, 'username_taken'], [429, 'rate_limited'])
  registerWithSecret(@Body() dto: SecretRegisterDto): Promise<SecretAccountDto> {
    return this.signIn.registerWithSecret(dto.username);
  }

  @Public()
  @Post('secret/login')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @ApiOperation({ summary: 'Sign in with a secret key' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(
    400,
    [401, 'invalid_credentials'],
    [403, 'account_disabled', 'mfa_required'],
    [429, 'rate_limited'],
  )
  loginWithSecret(
    @Body() dto: SecretLoginDto,
    @Client() client: ClientInfo,
  ): Promise<TokenPairDto> {
    return this.signIn.signInWithSecret(dto.userSecret, client);
  }
}

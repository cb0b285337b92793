import { Body, Controller, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { ApiProblems } from '../../common/decorators/api-problems.decorator';
import { Client, type ClientInfo } from '../../common/decorators/client-info.decorator';
import { Public } from '../../common/decorators/public.decorator';
import { AddressRateLimitGuard } from '../../rate-limit/address-rate-limit.guard';
import { UserResponseDto } from '../../users/dto/user-response.dto';
import { toUserResponse } from '../../users/user.mapper';
import {
  AcceptedDto,
  EmailDto,
  ResetPasswordDto,
  SecureAccountDto,
  VerifyEmailDto,
} from './dto/email.dto';
import { EmailVerificationService } from './email-verification.service';
import { PasswordResetService } from './password-reset.service';
import { SecureAccountService } from './secure-account.service';

/** Proving an email address, and getting back in with a reset link. */
@ApiTags('auth')
@Controller('auth')
@UseGuards(AddressRateLimitGuard)
@Public()
export class RecoveryController {
  constructor(
    private readonly verification: EmailVerificationService,
    private readonly passwordReset: PasswordResetService,
    private readonly secureAccount: SecureAccountService,
  ) {}

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

  @Post('verify-email/resend')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Mail a new verification code (the last one stops working)',
    description: 'Always the same answer, whether or not the address has an unverified account.',
  })
  @ApiAcceptedResponse({ type: AcceptedDto })
  @ApiProblems(400, [429, 'rate_limited'])
  resendVerification(@Body() dto: EmailDto, @Client() client: ClientInfo): Promise<AcceptedDto> {
    return this.verification.resend(dto.email, client);
  }

  @Post('password/forgot')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Mail a single-use password reset link',
    description:
      'Always the same answer, in body and time, whether or not the address has an account.',
  })
  @ApiAcceptedResponse({ type: AcceptedDto })
  @ApiProblems(400, [429, 'rate_limited'])
  forgotPassword(@Body() dto: EmailDto, @Client() client: ClientInfo): Promise<AcceptedDto> {
    return this.passwordReset.forgot(dto.email, client);
  }

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

  @Post('secure-account')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: '"This wasn\'t me": secure the account from a new-device alert',
    description:
      "Takes the token of the alert's link (`PUBLIC_URL/secure?token=…`, single use, 7 days). Every session of the account ends at once, the sign-in the alert was about included; outstanding reset links are voided; a new reset link is mailed (valid 7 days).",
  })
  @ApiNoContentResponse()
  @ApiProblems([400, 'validation_failed', 'invalid_token'], [429, 'rate_limited'])
  secure(@Body() dto: SecureAccountDto, @Client() client: ClientInfo): Promise<void> {
    return this.secureAccount.secure(dto.token, client);
  }
}

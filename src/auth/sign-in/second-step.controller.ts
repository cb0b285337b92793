import { Body, Controller, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { ApiProblems } from '../../common/decorators/api-problems.decorator';
import { Client, type ClientInfo } from '../../common/decorators/client-info.decorator';
import { NoStore } from '../../common/decorators/no-store.decorator';
import { Public } from '../../common/decorators/public.decorator';
import { fieldProblem } from '../../common/validation';
import { AddressRateLimitGuard } from '../../rate-limit/address-rate-limit.guard';
import { REQUEST_OPTIONS_SCHEMA } from '../passkeys/dto/webauthn-options.schema';
import { TokenPairDto } from '../sessions/dto/token-pair.dto';
import { RefreshCookie } from '../sessions/refresh-cookie.interceptor';
import { MfaTokenDto, SecondStepDto } from './dto/second-step.dto';
import { SignInService } from './sign-in.service';

/** The second step of a sign-in that stopped with 403 `mfa_required`. */
@ApiTags('auth')
@Controller('auth/mfa')
@UseGuards(AddressRateLimitGuard)
export class SecondStepController {
  constructor(private readonly signIn: SignInService) {}

  @Public()
  @Post('verify')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @RefreshCookie('issue', 'the answer sets the cookie instead of returning `refreshToken`.')
  @ApiOperation({
    summary: 'Finish a two-step sign-in with a code or a passkey',
    description:
      'Takes the mfaToken of the first step and either `code` (a TOTP code: its 30 s step or one either side, each code once; or an unused recovery code) or `passkey` (an assertion for the options of POST /auth/mfa/passkey-options). Wrong codes and passkeys count toward the sign-in limits; after 5 the mfaToken is void.',
  })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(
    [400, 'validation_failed', 'invalid_code'],
    [401, 'invalid_mfa_token'],
    [403, 'account_disabled'],
    [429, 'too_many_attempts', 'rate_limited'],
  )
  verify(@Body() dto: SecondStepDto, @Client() client: ClientInfo): Promise<TokenPairDto> {
    if (dto.code !== undefined && dto.passkey !== undefined) {
      throw fieldProblem('passkey', 'send either code or passkey, not both');
    }
    return this.signIn.completeSecondStep(dto.mfaToken, dto, client);
  }

  @Public()
  @Post('passkey-options')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @ApiOperation({
    summary: 'Options for finishing a two-step sign-in with a passkey',
    description:
      "WebAuthn request options listing the account's passkeys; the challenge is bound to this sign-in, single use, valid 300 s. Send the browser's assertion as `passkey` to POST /auth/mfa/verify.",
  })
  @ApiOkResponse({ schema: REQUEST_OPTIONS_SCHEMA })
  @ApiProblems(
    [400, 'validation_failed'],
    [401, 'invalid_mfa_token'],
    [403, 'account_disabled'],
    404,
    [429, 'too_many_attempts', 'rate_limited'],
  )
  passkeyOptions(@Body() dto: MfaTokenDto): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.signIn.secondStepPasskeyOptions(dto.mfaToken);
  }
}

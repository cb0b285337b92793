import { Body, Controller, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { ApiProblems } from '../../common/decorators/api-problems.decorator';
import { Client, type ClientInfo } from '../../common/decorators/client-info.decorator';
import { NoStore } from '../../common/decorators/no-store.decorator';
import { Public } from '../../common/decorators/public.decorator';
import { AddressRateLimitGuard } from '../../rate-limit/address-rate-limit.guard';
import { PasskeySignInDto } from '../passkeys/dto/passkey.dto';
import { REQUEST_OPTIONS_SCHEMA } from '../passkeys/dto/webauthn-options.schema';
import { PasskeysService } from '../passkeys/passkeys.service';
import { TokenPairDto } from '../sessions/dto/token-pair.dto';
import { RefreshCookie } from '../sessions/refresh-cookie.interceptor';
import { SignInService } from './sign-in.service';

/** Passwordless sign-in with a passkey: options, then the browser's assertion. */
@ApiTags('auth')
@Controller('auth/passkey')
@UseGuards(AddressRateLimitGuard)
export class PasskeySignInController {
  constructor(
    private readonly signIn: SignInService,
    private readonly passkeys: PasskeysService,
  ) {}

  @Public()
  @Post('options')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @ApiOperation({
    summary: 'Start a sign-in with a passkey',
    description:
      'WebAuthn request options (`PublicKeyCredentialRequestOptionsJSON`) without `allowCredentials`: the browser offers the passkeys it has for this site (also through autofill, with conditional mediation). The challenge is single use and valid 300 s.',
  })
  @ApiOkResponse({ schema: REQUEST_OPTIONS_SCHEMA })
  @ApiProblems([429, 'rate_limited'])
  options(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.passkeys.signInOptions();
  }

  @Public()
  @Post('login')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @RefreshCookie('issue', 'the answer sets the cookie instead of returning `refreshToken`.')
  @ApiOperation({
    summary: 'Sign in with a passkey',
    description:
      'Takes the browser\'s assertion (`AuthenticationResponseJSON`) for the options above. A passkey is two factors: the tokens carry `aal2` and `amr` `["hwk","user"]` (`["hwk"]` when the authenticator did not verify the person). An unknown or removed passkey, a bad signature, a spent, unknown or foreign challenge, or a signature counter that went backwards: 401 invalid_credentials. Failures count toward the sign-in limits.',
  })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(
    [400, 'validation_failed'],
    [401, 'invalid_credentials'],
    [403, 'account_disabled'],
    [429, 'rate_limited'],
  )
  login(@Body() dto: PasskeySignInDto, @Client() client: ClientInfo): Promise<TokenPairDto> {
    return this.signIn.signInWithPasskey(dto.response, client);
  }
}

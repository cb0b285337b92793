import { Body, Controller, HttpCode, HttpStatus, Post, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/decorators/api-problems.decorator';
import { Client, type ClientInfo } from '../../common/decorators/client-info.decorator';
import { NoStore } from '../../common/decorators/no-store.decorator';
import { Public } from '../../common/decorators/public.decorator';
import { AddressRateLimitGuard } from '../../rate-limit/address-rate-limit.guard';
import { TokenPairDto } from '../sessions/dto/token-pair.dto';
import { RefreshCookie } from '../sessions/refresh-cookie.interceptor';
import { SecondStepDto } from './dto/second-step.dto';
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
    summary: 'Finish a two-step sign-in with a code',
    description:
      'Takes the mfaToken of the first step and a TOTP code (its 30 s step or one either side, each code once) or an unused recovery code. Wrong codes count toward the sign-in limits; after 5 the mfaToken is void.',
  })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiProblems(
    [400, 'validation_failed', 'invalid_code'],
    [401, 'invalid_mfa_token'],
    [403, 'account_disabled'],
    [429, 'too_many_attempts', 'rate_limited'],
  )
  verify(@Body() dto: SecondStepDto, @Client() client: ClientInfo): Promise<TokenPairDto> {
    return this.signIn.completeSecondStep(dto.mfaToken, dto.code, client);
  }
}

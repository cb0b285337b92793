import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
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
import {
  ConfirmTotpDto,
  DisableTotpDto,
  MfaStatusDto,
  RecoveryCodesDto,
  RegenerateRecoveryCodesDto,
  StartTotpDto,
  TotpEnrolmentDto,
} from './dto/mfa.dto';
import { MfaService } from './mfa.service';

/** The caller's second factors: an authenticator app and recovery codes. */
@ApiTags('mfa')
@ApiBearerAuth()
@ApiOAuth2([])
@Controller('users/me/mfa')
export class MfaController {
  constructor(private readonly mfa: MfaService) {}

  @Get()
  @ApiOperation({ summary: 'The second factors of the account' })
  @ApiOkResponse({ type: MfaStatusDto })
  @ApiProblems(401)
  status(@CurrentUser() principal: AuthPrincipal): Promise<MfaStatusDto> {
    return this.mfa.status(principal);
  }

  @Post('totp')
  @NoStore()
  @ApiOperation({
    summary: 'Start setting up an authenticator app',
    description:
      'Returns a new secret, its otpauth URI and a QR code. The authenticator stays pending until confirmed with a code (10 minutes); a new call replaces a pending one. Password accounts confirm with the password; accounts without one need a sign-in less than REAUTH_MAX_AGE seconds old.',
  })
  @ApiBody({ type: StartTotpDto, required: false })
  @ApiCreatedResponse({ type: TotpEnrolmentDto })
  @ApiProblems(
    400,
    [401, 'invalid_credentials'],
    [403, 'reauthentication_required'],
    [409, 'totp_already_enabled'],
    [429, 'rate_limited'],
  )
  beginTotp(
    @CurrentUser() principal: AuthPrincipal,
    @Body() dto: StartTotpDto,
    @Client() client: ClientInfo,
  ): Promise<TotpEnrolmentDto> {
    return this.mfa.beginTotp(principal, dto?.password, client);
  }

  @Post('totp/confirm')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @ApiOperation({
    summary: 'Turn the pending authenticator on with a current code',
    description:
      'Returns 10 single-use recovery codes, shown this once. Every other session of the account ends; this one becomes two-factor (aal2) from its next refresh; a notice is mailed.',
  })
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiProblems([400, 'validation_failed', 'invalid_code'], 401, 404, [429, 'rate_limited'])
  confirmTotp(
    @CurrentUser() principal: AuthPrincipal,
    @Body() dto: ConfirmTotpDto,
    @Client() client: ClientInfo,
  ): Promise<RecoveryCodesDto> {
    return this.mfa.confirmTotp(principal, dto.code, client);
  }

  @Delete('totp')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Turn the authenticator off',
    description:
      'Needs the password (password accounts) and a current code or a recovery code. The authenticator and the recovery codes are removed; a notice is mailed.',
  })
  @ApiNoContentResponse()
  @ApiProblems([400, 'validation_failed', 'invalid_code'], [401, 'invalid_credentials'], 404, [
    429,
    'rate_limited',
  ])
  disableTotp(
    @CurrentUser() principal: AuthPrincipal,
    @Body() dto: DisableTotpDto,
    @Client() client: ClientInfo,
  ): Promise<void> {
    return this.mfa.disableTotp(principal, dto, client);
  }

  @Post('recovery-codes')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @ApiOperation({
    summary: 'Replace the recovery codes',
    description: 'Needs a current code from the authenticator app. Every older code stops working.',
  })
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiProblems([400, 'validation_failed', 'invalid_code'], 401, 404, [429, 'rate_limited'])
  regenerateRecoveryCodes(
    @CurrentUser() principal: AuthPrincipal,
    @Body() dto: RegenerateRecoveryCodesDto,
    @Client() client: ClientInfo,
  ): Promise<RecoveryCodesDto> {
    return this.mfa.regenerateRecoveryCodes(principal, dto.code, client);
  }
}

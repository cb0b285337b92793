import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
} from '@nestjs/common';
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
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import type { AuthPrincipal } from '../../common/auth-principal';
import { ApiProblems } from '../../common/decorators/api-problems.decorator';
import { Client, type ClientInfo } from '../../common/decorators/client-info.decorator';
import { CurrentUser } from '../../common/decorators/current-user.decorator';
import { NoStore } from '../../common/decorators/no-store.decorator';
import { uuidParam } from '../../common/pipes/uuid-param.pipe';
import { AddPasskeyDto, PasskeyDto, RemovePasskeyDto, RenamePasskeyDto } from './dto/passkey.dto';
import { CREATION_OPTIONS_SCHEMA } from './dto/webauthn-options.schema';
import { PasskeysService } from './passkeys.service';

/** The caller's passkeys: add one (two calls, around the browser's ceremony), list, rename, remove. */
@ApiTags('passkeys')
@ApiBearerAuth()
@ApiOAuth2([])
@Controller('users/me/passkeys')
export class PasskeysController {
  constructor(private readonly passkeys: PasskeysService) {}

  @Post('options')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @ApiOperation({
    summary: 'Start adding a passkey',
    description:
      "WebAuthn creation options (`PublicKeyCredentialCreationOptionsJSON`) for `navigator.credentials.create()` or @simplewebauthn/browser's `startRegistration`: a discoverable credential, user verification preferred, the account's passkeys excluded. The challenge is single use, valid 300 s, and bound to this session.",
  })
  @ApiOkResponse({ schema: CREATION_OPTIONS_SCHEMA })
  @ApiProblems(401)
  options(
    @CurrentUser() principal: AuthPrincipal,
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    return this.passkeys.registrationOptions(principal);
  }

  @Post()
  @ApiOperation({
    summary: 'Add a passkey',
    description:
      "Takes the browser's answer to the options (`RegistrationResponseJSON`) and an optional name. The account then has a second factor: password and secret-key sign-ins ask for a passkey or a code. A notice is mailed.",
  })
  @ApiCreatedResponse({ type: PasskeyDto })
  @ApiProblems([400, 'validation_failed', 'invalid_passkey'], 401)
  add(
    @CurrentUser() principal: AuthPrincipal,
    @Body() dto: AddPasskeyDto,
    @Client() client: ClientInfo,
  ): Promise<PasskeyDto> {
    return this.passkeys.add(principal, dto, client);
  }

  @Get()
  @ApiOperation({ summary: "The account's passkeys, oldest first" })
  @ApiOkResponse({ type: PasskeyDto, isArray: true })
  @ApiProblems(401)
  list(@CurrentUser() principal: AuthPrincipal): Promise<PasskeyDto[]> {
    return this.passkeys.list(principal);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename a passkey' })
  @ApiOkResponse({ type: PasskeyDto })
  @ApiProblems(400, 401, 404)
  rename(
    @CurrentUser() principal: AuthPrincipal,
    @Param('id', uuidParam('id')) id: string,
    @Body() dto: RenamePasskeyDto,
  ): Promise<PasskeyDto> {
    return this.passkeys.rename(principal, id, dto.name);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Remove a passkey',
    description:
      'Needs the password (password accounts) or, for accounts without one, a sign-in less than REAUTH_MAX_AGE seconds old. Refused with 409 when it is the last way to sign in. A notice is mailed.',
  })
  @ApiBody({ type: RemovePasskeyDto, required: false })
  @ApiNoContentResponse()
  @ApiProblems(
    400,
    [401, 'invalid_credentials'],
    [403, 'reauthentication_required'],
    404,
    [409, 'last_sign_in_method'],
    [429, 'rate_limited'],
  )
  remove(
    @CurrentUser() principal: AuthPrincipal,
    @Param('id', uuidParam('id')) id: string,
    @Body() dto: RemovePasskeyDto,
    @Client() client: ClientInfo,
  ): Promise<void> {
    return this.passkeys.remove(principal, id, dto?.password, client);
  }
}

import { Body, Controller, Delete, HttpCode, HttpStatus, Post, Put } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
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
import { AccountService } from './account.service';
import { ChangePasswordDto, DeleteAccountDto, UserSecretDto } from './dto/account.dto';

/** The account's own credentials, under /users/me: they need hashing and session revocation, so they live here. */
@ApiTags('users')
@ApiBearerAuth()
@ApiOAuth2([])
@Controller('users/me')
export class AccountController {
  constructor(private readonly account: AccountService) {}

  @Put('password')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Change the password; every other session ends and a notice is mailed' })
  @ApiNoContentResponse()
  @ApiProblems([400, 'validation_failed', 'weak_password'], [401, 'invalid_credentials'], 403)
  changePassword(
    @CurrentUser() principal: AuthPrincipal,
    @Body() dto: ChangePasswordDto,
    @Client() client: ClientInfo,
  ): Promise<void> {
    return this.account.changePassword(principal, dto, client);
  }

  @Post('secret')
  @HttpCode(HttpStatus.OK)
  @NoStore()
  @ApiOperation({ summary: 'Replace the secret of a secret-key account; every other session ends' })
  @ApiOkResponse({ type: UserSecretDto })
  @ApiProblems(401, 403)
  rotateSecret(
    @CurrentUser() principal: AuthPrincipal,
    @Client() client: ClientInfo,
  ): Promise<UserSecretDto> {
    return this.account.rotateSecret(principal, client);
  }

  @Delete()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete the account and all its sessions' })
  @ApiBody({ type: DeleteAccountDto, required: false })
  @ApiNoContentResponse()
  @ApiProblems(400, [401, 'invalid_credentials'], [409, 'last_admin'])
  deleteAccount(
    @CurrentUser() principal: AuthPrincipal,
    @Body() dto: DeleteAccountDto,
    @Client() client: ClientInfo,
  ): Promise<void> {
    return this.account.deleteAccount(principal, dto ?? {}, client);
  }
}

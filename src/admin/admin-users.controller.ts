import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Query,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOAuth2,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Roles } from '../auth/roles/roles.decorator';
import type { AuthPrincipal } from '../common/auth-principal';
import { ApiProblems } from '../common/decorators/api-problems.decorator';
import { Client, type ClientInfo } from '../common/decorators/client-info.decorator';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { uuidParam } from '../common/pipes/uuid-param.pipe';
import { toAdminUser } from './admin.mapper';
import { AdminService } from './admin.service';
import {
  AdminUpdateUserDto,
  AdminUserDto,
  AdminUserPageDto,
  UserSearchQueryDto,
} from './dto/admin-user.dto';

@ApiTags('admin')
@ApiBearerAuth()
@ApiOAuth2([])
@Roles('admin')
@Controller('users')
export class AdminUsersController {
  constructor(private readonly admin: AdminService) {}

  @Get()
  @ApiOperation({ summary: 'List users, oldest first, optionally searching email and username' })
  @ApiOkResponse({ type: AdminUserPageDto })
  @ApiProblems(400, 401)
  async list(@Query() query: UserSearchQueryDto): Promise<AdminUserPageDto> {
    const page = await this.admin.listUsers(query.q, query.page, query.size);
    return { ...page, items: page.items.map(toAdminUser) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One user' })
  @ApiOkResponse({ type: AdminUserDto })
  @ApiProblems(400, 401, 404)
  async get(@Param('id', uuidParam('id')) id: string): Promise<AdminUserDto> {
    return toAdminUser(await this.admin.getUser(id));
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change roles, or disable (ending every session) or enable the account',
  })
  @ApiOkResponse({ type: AdminUserDto })
  @ApiProblems(400, 401, 404, [409, 'last_admin'])
  async update(
    @Param('id', uuidParam('id')) id: string,
    @Body() changes: AdminUpdateUserDto,
    @CurrentUser() principal: AuthPrincipal,
    @Client() client: ClientInfo,
  ): Promise<AdminUserDto> {
    return toAdminUser(await this.admin.updateUser(id, changes, { principal, client }));
  }

  @Delete(':id/mfa')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Remove every second factor of the user (a lost phone)',
    description:
      'The authenticator app and the recovery codes go, every session of the user ends, a notice is mailed; audited with the administrator as actor.',
  })
  @ApiNoContentResponse()
  @ApiProblems(400, 401, 404)
  resetMfa(
    @Param('id', uuidParam('id')) id: string,
    @CurrentUser() principal: AuthPrincipal,
    @Client() client: ClientInfo,
  ): Promise<void> {
    return this.admin.resetMfa(id, { principal, client });
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete the user and everything of theirs' })
  @ApiNoContentResponse()
  @ApiProblems(400, 401, 404, [409, 'last_admin'])
  remove(
    @Param('id', uuidParam('id')) id: string,
    @CurrentUser() principal: AuthPrincipal,
    @Client() client: ClientInfo,
  ): Promise<void> {
    return this.admin.deleteUser(id, { principal, client });
  }
}

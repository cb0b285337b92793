import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiOAuth2, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/decorators/api-problems.decorator';
import { Client, type ClientInfo } from '../common/decorators/client-info.decorator';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import type { AuthPrincipal } from '../common/auth-principal';
import type { UserEntity } from './user.entity';
import { UpdateProfileDto } from './dto/update-profile.dto';
import { UserResponseDto } from './dto/user-response.dto';
import { toUserResponse } from './user.mapper';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiBearerAuth()
@ApiOAuth2([])
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('me')
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiProblems(401)
  me(@CurrentUser() principal: AuthPrincipal<UserEntity>): UserResponseDto {
    return toUserResponse(principal.user);
  }

  @Patch('me')
  @ApiOperation({ summary: 'Edit the profile (username, full name, picture URL)' })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiProblems(400, 401, [409, 'username_taken'])
  async update(
    @CurrentUser() principal: AuthPrincipal<UserEntity>,
    @Body() changes: UpdateProfileDto,
    @Client() client: ClientInfo,
  ): Promise<UserResponseDto> {
    return toUserResponse(await this.users.updateProfile(principal.user.id, changes, client));
  }
}

import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOAuth2, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthPrincipal } from '../common/auth-principal';
import { ApiProblems } from '../common/decorators/api-problems.decorator';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { PageQueryDto } from '../common/dto/pagination.dto';
import { toActivityItem } from './audit.mapper';
import { AuditService } from './audit.service';
import { ActivityPageDto } from './dto/audit.dto';

@ApiTags('users')
@ApiBearerAuth()
@ApiOAuth2([])
@Controller('users/me')
export class ActivityController {
  constructor(private readonly audit: AuditService) {}

  @Get('activity')
  @ApiOperation({
    summary: "The caller's own security events (sign-ins, password changes…), newest first",
  })
  @ApiOkResponse({ type: ActivityPageDto })
  @ApiProblems(400, 401)
  async activity(
    @CurrentUser() principal: AuthPrincipal,
    @Query() query: PageQueryDto,
  ): Promise<ActivityPageDto> {
    const page = await this.audit.find({ userId: principal.user.id }, query.page, query.size);
    return { ...page, items: page.items.map(toActivityItem) };
  }
}

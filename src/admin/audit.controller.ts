import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOAuth2, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { toAuditItem } from '../audit/audit.mapper';
import { AuditService } from '../audit/audit.service';
import { AuditPageDto, AuditQueryDto } from '../audit/dto/audit.dto';
import { Roles } from '../auth/roles/roles.decorator';
import { ApiProblems } from '../common/decorators/api-problems.decorator';

@ApiTags('admin')
@ApiBearerAuth()
@ApiOAuth2([])
@Roles('admin')
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'The audit trail, newest first, filtered by user, type and time range' })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiProblems(400, 401)
  async list(@Query() query: AuditQueryDto): Promise<AuditPageDto> {
    const page = await this.audit.find(
      {
        userId: query.userId,
        type: query.type,
        from: query.from ? new Date(query.from) : undefined,
        to: query.to ? new Date(query.to) : undefined,
      },
      query.page,
      query.size,
    );
    return { ...page, items: page.items.map(toAuditItem) };
  }
}

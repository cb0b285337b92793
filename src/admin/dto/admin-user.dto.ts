import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Length,
} from 'class-validator';
import { PageMetaDto, PageQueryDto } from '../../common/dto/pagination.dto';
import { UserResponseDto } from '../../users/dto/user-response.dto';
import type { Role } from '../../users/user.entity';

/** The user object as administrators see it: with its `disabled` state. */
export class AdminUserDto extends UserResponseDto {
  @ApiProperty({ example: false })
  disabled: boolean;
}

export class AdminUserPageDto extends PageMetaDto {
  @ApiProperty({ type: [AdminUserDto] })
  items: AdminUserDto[];
}

export class UserSearchQueryDto extends PageQueryDto {
  @ApiPropertyOptional({
    description: 'Part of an email or username, any case (3 characters at least, for the index).',
    minLength: 3,
    maxLength: 254,
  })
  @IsOptional()
  @IsString()
  @Length(3, 254)
  q?: string;
}

export class AdminUpdateUserDto {
  @ApiPropertyOptional({
    type: [String],
    enum: ['user', 'admin'],
    example: ['user', 'admin'],
    description: '`user` is always kept.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(2)
  @ArrayUnique()
  @IsIn(['user', 'admin'], { each: true })
  roles?: Role[];

  @ApiPropertyOptional({ description: 'Disabling ends every session and blocks sign-in.' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_CODES, type ErrorCode } from '../error-codes';

export class FieldErrorDto {
  @ApiProperty({ example: 'password' })
  field: string;

  @ApiProperty({ example: 'password must be at least 8 characters' })
  message: string;
}

/** RFC 9457 problem document, the body of every error response. */
export class ProblemDto {
  @ApiProperty({ example: 'about:blank' })
  type: string;

  @ApiProperty({ example: 'Conflict' })
  title: string;

  @ApiProperty({ example: 409 })
  status: number;

  @ApiProperty({ example: 'An account with this email already exists.' })
  detail: string;

  @ApiProperty({
    example: 'email_taken',
    enum: Object.keys(ERROR_CODES),
    description: 'Stable machine-readable error code.',
  })
  code: ErrorCode;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Present on validation errors.' })
  errors?: FieldErrorDto[];
}

import { ApiProperty } from '@nestjs/swagger';
import { UserResponseDto } from '../../../users/dto/user-response.dto';

export class TokenPairDto {
  @ApiProperty({ description: 'JWT (typ at+jwt) for `Authorization: Bearer`.' })
  accessToken: string;

  @ApiProperty({
    required: false,
    description:
      'Opaque; single use: each refresh returns a new one. Absent in cookie mode (`X-Refresh-Cookie: 1`), where the cookie carries it.',
  })
  refreshToken: string;

  @ApiProperty({ example: 'Bearer' })
  tokenType: 'Bearer';

  @ApiProperty({ example: 900, description: 'Seconds until the access token expires.' })
  expiresIn: number;

  @ApiProperty({ type: UserResponseDto })
  user: UserResponseDto;
}

export class SessionDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ type: String, nullable: true, example: 'Mozilla/5.0 …' })
  userAgent: string | null;

  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  ip: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  lastUsedAt: string;

  @ApiProperty({ description: 'The session of the token making this request.' })
  current: boolean;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** OAuth2 token request (RFC 6749 §4.3 and §6), form-urlencoded or JSON. */
export class OAuthTokenRequestDto {
  @ApiProperty({ enum: ['password', 'refresh_token'] })
  grant_type: string;

  @ApiPropertyOptional({ description: 'Email or username (password grant).' })
  username?: string;

  @ApiPropertyOptional({ format: 'password', description: 'Password grant.' })
  password?: string;

  @ApiPropertyOptional({ description: 'Refresh token grant.' })
  refresh_token?: string;
}

export class OAuthTokenResponseDto {
  @ApiProperty()
  access_token: string;

  @ApiProperty({ example: 'bearer' })
  token_type: 'bearer';

  @ApiProperty({ example: 900 })
  expires_in: number;

  @ApiProperty()
  refresh_token: string;
}

export class OAuthErrorDto {
  @ApiProperty({ enum: ['invalid_request', 'invalid_grant', 'unsupported_grant_type'] })
  error: string;

  @ApiProperty({ example: 'The username or password is wrong.' })
  error_description: string;
}

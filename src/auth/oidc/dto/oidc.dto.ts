import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, MaxLength } from 'class-validator';

export class OidcProviderDto {
  @ApiProperty({
    example: 'google',
    description: 'Used in the routes: /auth/oidc/<name>/authorize.',
  })
  name: string;

  @ApiProperty({ example: 'Google', description: 'The button text: "Continue with <label>".' })
  label: string;
}

export class AuthorizeQueryDto {
  @ApiPropertyOptional({
    description:
      'Where the browser goes afterwards, with `#code=…` or `#error=…`: exactly one of OIDC_REDIRECT_URLS (default: the first).',
    example: 'http://localhost:3000/',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  redirectTo?: string;

  @ApiPropertyOptional({
    description:
      'A link ticket from POST /users/me/identities/:provider (part of its authorizeUrl): the flow links the provider to that account.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  link?: string;
}

export class OidcExchangeDto {
  @ApiProperty({ description: "The one-time code from the callback's `#code=` (valid 60 s)." })
  @IsString()
  @Length(1, 256)
  code: string;
}

export class LinkIdentityDto {
  @ApiPropertyOptional({
    description: 'Where the browser goes after linking: exactly one of OIDC_REDIRECT_URLS.',
    example: 'http://localhost:3000/',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  redirectTo?: string;
}

export class AuthorizeUrlDto {
  @ApiProperty({
    description:
      'Open it in the browser: the provider signs the person in, and its callback links that provider account to this one.',
  })
  authorizeUrl: string;
}

export class IdentityDto {
  @ApiProperty({ example: 'google' })
  provider: string;

  @ApiProperty({ nullable: true, type: String, example: 'ada@example.com' })
  email: string | null;

  @ApiProperty({ format: 'date-time' })
  linkedAt: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  lastUsedAt: string | null;
}

import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

export class RefreshDto {
  @ApiProperty({
    example: 'q3V9yJ0cZ5Yw8m0c2w7b3H3zv5p9g3kqk6Xc1Tq2JzE',
    required: false,
    description:
      'Required, except in cookie mode (`X-Refresh-Cookie: 1`), where the cookie carries it.',
  })
  // In cookie mode RefreshCookieInterceptor puts the cookie's token here before validation.
  @IsString()
  @Length(1, 512)
  refreshToken: string;
}

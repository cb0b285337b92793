import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';
import { USERNAME_PATTERN } from '../../../users/dto/user-fields';

export class SecretRegisterDto {
  @ApiProperty({
    example: 'build_bot',
    minLength: 3,
    maxLength: 50,
    pattern: USERNAME_PATTERN.source,
  })
  @IsString()
  @Matches(USERNAME_PATTERN, {
    message: 'username must be 3 to 50 letters, digits, "_", "." or "-"',
  })
  username: string;
}

export class SecretLoginDto {
  @ApiProperty({ example: 'Zs3c0c2t9yJ0cZ5Yw8m0c2w7b3H3zv5p9g3kqk6Xc1T' })
  @IsString()
  @Length(1, 256)
  userSecret: string;
}

export class SecretAccountDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'build_bot' })
  username: string;

  @ApiProperty({ description: 'Shown this once; only its hash is kept.' })
  userSecret: string;
}

import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, MaxLength } from 'class-validator';
import { OptionalFullName, OptionalUsername } from '../../users/dto/user-fields';
import { NewPassword } from './password.field';

export class RegisterDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.trim().toLowerCase() : value,
  )
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: 'email must be an email address' })
  email: string;

  @NewPassword()
  password: string;

  @OptionalUsername({ allowNull: true })
  username?: string | null;

  @OptionalFullName()
  fullName?: string | null;
}

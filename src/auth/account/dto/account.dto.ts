import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { GivenPassword, NewPassword } from '../../passwords/password.field';

export class ChangePasswordDto {
  @GivenPassword()
  currentPassword: string;

  @NewPassword()
  newPassword: string;
}

export class DeleteAccountDto {
  @ApiPropertyOptional({ description: 'Required for password accounts.', format: 'password' })
  @IsOptional()
  @GivenPassword()
  password?: string;
}

export class UserSecretDto {
  @ApiProperty({ description: 'The new secret, shown this once; the old one stops working.' })
  userSecret: string;
}

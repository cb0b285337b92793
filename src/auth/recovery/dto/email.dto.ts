import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { EmailAddress } from '../../../users/dto/user-fields';
import { NewPassword } from '../../passwords/password.field';

export class EmailDto {
  @EmailAddress()
  email: string;
}

export class VerifyEmailDto {
  @EmailAddress()
  email: string;

  @ApiProperty({ example: '042917', description: 'The 6-digit code from the mail.' })
  @IsString()
  @Length(1, 32)
  code: string;
}

export class ResetPasswordDto {
  @ApiProperty({ description: 'The token from the reset link (`/reset?token=…`).' })
  @IsString()
  @Length(1, 512)
  token: string;

  @NewPassword()
  newPassword: string;
}

export class SecureAccountDto {
  @ApiProperty({ description: "The token from the alert's link (`/secure?token=…`)." })
  @IsString()
  @Length(1, 512)
  token: string;
}

/** The one answer to a request that may send mail, whatever the address. */
export class AcceptedDto {
  @ApiProperty({
    example: 'If this address belongs to an account, a mail is on its way.',
  })
  message: string;
}

import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { GivenPassword } from '../../passwords/password.field';

/** A second-factor code as typed: 6 digits from the authenticator app, or a recovery code. */
export function SecondFactorCode(description: string): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ example: '492039', description, minLength: 1, maxLength: 64 }),
    IsString(),
    Length(1, 64),
  );
}

export class StartTotpDto {
  @ApiPropertyOptional({ description: 'Required for password accounts.', format: 'password' })
  @IsOptional()
  @GivenPassword()
  password?: string;
}

export class ConfirmTotpDto {
  @SecondFactorCode('The 6-digit code the authenticator app shows now.')
  code: string;
}

export class DisableTotpDto {
  @ApiPropertyOptional({ description: 'Required for password accounts.', format: 'password' })
  @IsOptional()
  @GivenPassword()
  password?: string;

  @SecondFactorCode('A current 6-digit code, or one of the recovery codes.')
  code: string;
}

export class RegenerateRecoveryCodesDto {
  @SecondFactorCode('A current 6-digit code from the authenticator app.')
  code: string;
}

export class TotpEnrolmentDto {
  @ApiProperty({
    example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
    description:
      'The shared secret, base32: to type into the app when the QR code cannot be scanned.',
  })
  secret: string;

  @ApiProperty({
    example:
      'otpauth://totp/auth-service:ada%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=auth-service',
    description: 'SHA-1, 6 digits, 30 s.',
  })
  otpauthUri: string;

  @ApiProperty({
    example: 'data:image/svg+xml;base64,PHN2ZyB4bWxucz0i…',
    description: 'The otpauth URI as a QR code, an SVG data URL.',
  })
  qrCode: string;
}

export class RecoveryCodesDto {
  @ApiProperty({
    type: [String],
    example: ['k7m2p-xq9rt', 'b4nfa-8zhwe'],
    description: 'Ten single-use codes, shown this once: keep them somewhere safe.',
  })
  recoveryCodes: string[];
}

export class TotpStatusDto {
  @ApiProperty({ example: true })
  enabled: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  createdAt: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastUsedAt: string | null;
}

export class MfaStatusDto {
  @ApiProperty({ type: TotpStatusDto })
  totp: TotpStatusDto;

  @ApiProperty({ example: 10, description: 'Unused recovery codes.' })
  recoveryCodesLeft: number;

  @ApiProperty({ example: 0, description: 'Passkeys registered to the account.' })
  passkeys: number;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsString, Length, ValidateIf } from 'class-validator';
import { SecondFactorCode } from '../../mfa/dto/mfa.dto';

/** The mfaToken of a sign-in that stopped with 403 `mfa_required`. */
export class MfaTokenDto {
  @ApiProperty({
    description: 'From the 403 `mfa_required` answer of the first step.',
    example: 'm3Jq9xV2cT0bYwLk8sPzR1aNfE6hUoDgKiQ4ZtC7e5M',
  })
  @IsString()
  @Length(1, 256)
  mfaToken: string;
}

/** The second step: the mfaToken and either a code or a passkey's assertion. */
export class SecondStepDto extends MfaTokenDto {
  @ApiPropertyOptional({
    example: '492039',
    minLength: 1,
    maxLength: 64,
    description:
      'A 6-digit code from the authenticator app, or one of the recovery codes. Send either `code` or `passkey`.',
  })
  @ValidateIf((dto: SecondStepDto) => dto.passkey === undefined || dto.code !== undefined)
  @SecondFactorCode('A 6-digit code or a recovery code.')
  code?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'A WebAuthn assertion (`AuthenticationResponseJSON`) for the options of POST /auth/mfa/passkey-options. Send either `code` or `passkey`.',
  })
  @ValidateIf((dto: SecondStepDto) => dto.code === undefined)
  @IsObject()
  passkey?: Record<string, unknown>;
}

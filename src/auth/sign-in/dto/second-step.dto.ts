import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { SecondFactorCode } from '../../mfa/dto/mfa.dto';

export class SecondStepDto {
  @ApiProperty({
    description: 'From the 403 `mfa_required` answer of the first step.',
    example: 'm3Jq9xV2cT0bYwLk8sPzR1aNfE6hUoDgKiQ4ZtC7e5M',
  })
  @IsString()
  @Length(1, 256)
  mfaToken: string;

  @SecondFactorCode('A 6-digit code from the authenticator app, or one of the recovery codes.')
  code: string;
}

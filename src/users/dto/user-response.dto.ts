import { ApiProperty } from '@nestjs/swagger';

export class UserResponseDto {
  @ApiProperty({ format: 'uuid', example: '3f1c2b9e-8a4d-4f7e-9c61-2d5b7e0a1c33' })
  id: string;

  @ApiProperty({ type: String, nullable: true, example: 'ada@example.com' })
  email: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'ada_l' })
  username: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'Ada Lovelace' })
  fullName: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'https://example.com/ada.png' })
  imageUrl: string | null;

  @ApiProperty({ example: false })
  emailVerified: boolean;

  @ApiProperty({
    example: false,
    description:
      'True while the account has an active second factor (a TOTP authenticator or a passkey).',
  })
  mfaEnabled: boolean;

  @ApiProperty({ type: [String], enum: ['user', 'admin'], example: ['user'] })
  roles: string[];

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;
}

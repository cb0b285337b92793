import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsObject, IsOptional, IsString, Length } from 'class-validator';
import { GivenPassword } from '../../passwords/password.field';

/** A passkey's name as typed: trimmed, 1 to 64 characters. */
function PasskeyName(required: boolean): PropertyDecorator {
  const doc = {
    example: 'Work laptop',
    minLength: 1,
    maxLength: 64,
    description: required
      ? 'Shown in the list of passkeys.'
      : 'Shown in the list of passkeys; by default the authenticator model when it tells it (e.g. "iCloud Keychain"), else "Passkey".',
  };
  return applyDecorators(
    required ? ApiProperty(doc) : ApiPropertyOptional(doc),
    ...(required ? [] : [IsOptional()]),
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' ? value.trim() : value,
    ),
    IsString(),
    Length(1, 64),
  );
}

/**
 * A browser's WebAuthn answer, as `@simplewebauthn/browser` (or
 * `PublicKeyCredential.toJSON()`) gives it; @simplewebauthn/server checks
 * every part of it.
 */
export function WebAuthnResponse(kind: string): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      type: 'object',
      additionalProperties: true,
      description: `The ${kind} JSON of the WebAuthn Level 3 spec: \`{ id, rawId, type: "public-key", response: { … }, clientExtensionResults }\`.`,
    }),
    IsObject(),
  );
}

export class PasskeyDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'iCloud Keychain' })
  name: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  lastUsedAt: string | null;

  @ApiProperty({ description: 'Whether the passkey is backed up (synced to other devices).' })
  backedUp: boolean;
}

export class AddPasskeyDto {
  @PasskeyName(false)
  name?: string;

  @WebAuthnResponse('RegistrationResponseJSON')
  response: Record<string, unknown>;
}

export class RenamePasskeyDto {
  @PasskeyName(true)
  name: string;
}

export class RemovePasskeyDto {
  @ApiPropertyOptional({ description: 'Required for password accounts.', format: 'password' })
  @IsOptional()
  @GivenPassword()
  password?: string;
}

export class PasskeySignInDto {
  @WebAuthnResponse('AuthenticationResponseJSON')
  response: Record<string, unknown>;
}

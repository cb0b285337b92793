import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsEmail,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';

/** Field rules shared by every DTO that carries them, so registration and profile edits agree. */
export const USERNAME_PATTERN = /^[a-zA-Z0-9_.-]{3,50}$/;

const trim = Transform(({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.trim() : value,
);

/**
 * Optional. `allowNull`: null means "not set" (registration); otherwise null
 * is refused, since a username can be changed but not removed.
 */
export const OptionalUsername = ({ allowNull }: { allowNull: boolean }): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({
      example: 'ada_l',
      minLength: 3,
      maxLength: 50,
      pattern: USERNAME_PATTERN.source,
      nullable: allowNull,
    }),
    allowNull ? IsOptional() : ValidateIf((_, value) => value !== undefined),
    IsString(),
    Matches(USERNAME_PATTERN, {
      message: 'username must be 3 to 50 letters, digits, "_", "." or "-"',
    }),
  );

/** Optional; `null` clears it. */
export const OptionalFullName = (): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({ type: String, nullable: true, example: 'Ada Lovelace', maxLength: 255 }),
    trim,
    ValidateIf((_, value) => value !== null && value !== undefined),
    IsString(),
    Length(1, 255),
  );

/** Optional; `null` clears it. */
export const OptionalImageUrl = (): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({
      type: String,
      nullable: true,
      example: 'https://example.com/ada.png',
      maxLength: 2048,
    }),
    ValidateIf((_, value) => value !== null && value !== undefined),
    IsString(),
    MaxLength(2048),
    IsUrl(
      { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
      { message: 'imageUrl must be an http or https URL' },
    ),
  );

/** An email address: trimmed and lower-cased (emails are unique regardless of case). */
export const EmailAddress = (): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ example: 'ada@example.com', maxLength: 254 }),
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' ? value.trim().toLowerCase() : value,
    ),
    IsString(),
    MaxLength(254),
    IsEmail({}, { message: 'email must be an email address' }),
  );

import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, registerDecorator } from 'class-validator';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, passwordLength } from './passwords.service';

/** A new password: 8 to 128 characters counted after NFKC normalisation, any characters. */
export function NewPassword(): PropertyDecorator {
  const lengthRule: PropertyDecorator = (target, propertyName) =>
    registerDecorator({
      name: 'passwordLength',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' &&
          passwordLength(value) >= PASSWORD_MIN_LENGTH &&
          passwordLength(value) <= PASSWORD_MAX_LENGTH,
        defaultMessage: (args) =>
          `${args?.property ?? 'password'} must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long`,
      },
    });
  return applyDecorators(
    ApiProperty({
      example: 'correct horse battery staple',
      minLength: PASSWORD_MIN_LENGTH,
      maxLength: PASSWORD_MAX_LENGTH,
      format: 'password',
    }),
    IsString(),
    lengthRule,
  );
}

/** A password offered to sign in or confirm: checked against the hash, not the policy. */
export function GivenPassword(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ example: 'correct horse battery staple', format: 'password' }),
    IsString(),
    Length(1, 1024),
  );
}

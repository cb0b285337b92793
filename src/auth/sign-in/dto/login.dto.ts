import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsDefined,
  IsNotEmpty,
  IsString,
  MaxLength,
  registerDecorator,
  ValidateIf,
} from 'class-validator';
import { GivenPassword } from '../../passwords/password.field';

/** Fails when `other` is also present: the two fields are alternatives. */
function NotTogetherWith(other: string): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'notTogetherWith',
      target: target.constructor,
      propertyName: propertyName as string,
      constraints: [other],
      validator: {
        validate: (_value: unknown, args) =>
          (args?.object as Record<string, unknown>)[other] === undefined,
        defaultMessage: (args) =>
          `send either ${other} or ${args?.property ?? 'username'}, not both`,
      },
    });
}

/** `{ email, password }` or `{ username, password }`: exactly one identifier. */
export class LoginDto {
  @ApiPropertyOptional({ example: 'ada@example.com', description: 'Either email or username.' })
  @ValidateIf((dto: LoginDto) => dto.username === undefined || dto.email !== undefined)
  @IsDefined({ message: 'email or username is required' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ example: 'ada_l', description: 'Either username or email.' })
  @ValidateIf((dto: LoginDto) => dto.username !== undefined)
  @NotTogetherWith('email')
  @IsString()
  @IsNotEmpty()
  @MaxLength(254)
  username?: string;

  @GivenPassword()
  password: string;

  /** The identifier the local strategy reads (its `usernameField`). */
  get login(): string {
    return (this.email ?? this.username ?? '').trim();
  }
}

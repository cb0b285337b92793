import { EmailAddress, OptionalFullName, OptionalUsername } from '../../../users/dto/user-fields';
import { NewPassword } from '../../passwords/password.field';

export class RegisterDto {
  @EmailAddress()
  email: string;

  @NewPassword()
  password: string;

  @OptionalUsername({ allowNull: true })
  username?: string | null;

  @OptionalFullName()
  fullName?: string | null;
}

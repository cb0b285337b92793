import { OptionalFullName, OptionalImageUrl, OptionalUsername } from './user-fields';

export class UpdateProfileDto {
  @OptionalUsername()
  username?: string;

  @OptionalFullName()
  fullName?: string | null;

  @OptionalImageUrl()
  imageUrl?: string | null;
}

import { OptionalFullName, OptionalImageUrl, OptionalUsername } from './user-fields';

export class UpdateProfileDto {
  @OptionalUsername({ allowNull: false })
  username?: string;

  @OptionalFullName()
  fullName?: string | null;

  @OptionalImageUrl()
  imageUrl?: string | null;
}

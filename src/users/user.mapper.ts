import { UserResponseDto } from './dto/user-response.dto';
import { UserEntity } from './user.entity';

/** The one way a user leaves the service: named fields only, so no hash or flag can leak. */
export function toUserResponse(user: UserEntity): UserResponseDto {
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    fullName: user.fullName,
    imageUrl: user.imageUrl,
    emailVerified: user.emailVerified,
    mfaEnabled: user.mfaEnabled,
    roles: user.roles,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

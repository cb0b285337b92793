import { UserEntity } from '../users/user.entity';
import { toUserResponse } from '../users/user.mapper';
import type { AdminUserDto } from './dto/admin-user.dto';

export function toAdminUser(user: UserEntity): AdminUserDto {
  return { ...toUserResponse(user), disabled: user.disabled };
}

import { type Role, UserEntity } from './user.entity';

/** The user columns hand-written queries return (the table aliased `u`), read by `userFromRow`. */
export const USER_COLUMNS = `u.id, u.email, u.username, u.full_name, u.image_url, u.email_verified,
  u.roles, u.disabled, u.mfa_enabled, u.created_at, u.updated_at`;

/** A users row as hand-written SQL returns it. */
export interface UserRow {
  id: string;
  email: string | null;
  username: string | null;
  full_name: string | null;
  image_url: string | null;
  email_verified: boolean;
  roles: Role[];
  disabled: boolean;
  mfa_enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

/** The user of a users row (no secret columns). */
export function userFromRow(row: UserRow): UserEntity {
  const user = new UserEntity();
  user.id = row.id;
  user.email = row.email;
  user.username = row.username;
  user.fullName = row.full_name;
  user.imageUrl = row.image_url;
  user.emailVerified = row.email_verified;
  user.roles = row.roles;
  user.disabled = row.disabled;
  user.mfaEnabled = row.mfa_enabled;
  user.createdAt = row.created_at;
  user.updatedAt = row.updated_at;
  return user;
}

import type { UserEntity } from '../users/user.entity';

/** Who a request acts for: set by the JWT guard once the session and user are checked. */
export interface AuthPrincipal {
  user: UserEntity;
  sessionId: string;
}

/** What the guards need to know of the user a request acts for. */
export interface PrincipalUser {
  id: string;
  roles: readonly string[];
  /** Whether the account has an active second factor. */
  mfaEnabled: boolean;
}

/**
 * Who a request acts for: set by the JWT guard once the session and user are
 * checked. The users module names the full user type (UserPrincipal).
 */
export interface AuthPrincipal<TUser extends PrincipalUser = PrincipalUser> {
  user: TUser;
  sessionId: string;
}

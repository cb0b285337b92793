/** Authentication method references (RFC 8176) the service issues. */
export type AuthMethodRef = 'pwd' | 'otp' | 'hwk' | 'user' | 'fed';

/** NIST SP 800-63B authenticator assurance: one factor, or two (or a passkey). */
export type AssuranceLevel = 'aal1' | 'aal2';

/**
 * How a session was signed in, stored with it and carried by every access
 * token it issues as `auth_time`, `amr` and `aal`: a refresh keeps them.
 */
export interface Assurance {
  authTime: Date;
  amr: readonly AuthMethodRef[];
  aal: AssuranceLevel;
}

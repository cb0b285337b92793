/**
 * Every `code` a problem document of this service can carry (the contract,
 * ../shared/API.md), with its HTTP status and what it means. ProblemException
 * takes only these, and the OpenAPI document's examples are drawn from here.
 */
export const ERROR_CODES = {
  validation_failed: [
    400,
    'A field is missing, of the wrong type or unknown, or the body is not a JSON object.',
  ],
  weak_password: [400, 'The password is too common or too close to the email or username.'],
  invalid_code: [400, 'The code is wrong, expired, spent or replaced by a newer one.'],
  invalid_passkey: [
    400,
    'The passkey could not be verified: challenge, origin, RP ID, signature or attestation.',
  ],
  invalid_redirect: [400, 'redirectTo is not one of the allowed URLs (OIDC_REDIRECT_URLS).'],
  invalid_token: [400, 'The link is wrong, expired, spent or replaced by a newer one.'],
  bad_request: [400, 'The request is not well-formed HTTP.'],
  unauthorized: [401, 'An access token is missing, invalid, expired or revoked.'],
  invalid_credentials: [401, 'The email, username, password or secret is wrong.'],
  invalid_refresh_token: [401, 'The refresh token is unknown, expired or its session ended.'],
  refresh_token_reused: [401, 'A spent refresh token was presented again: its session ended.'],
  invalid_mfa_token: [401, 'The mfaToken is unknown, expired or already used: sign in again.'],
  forbidden: [403, 'Signed in, but not allowed to do this.'],
  account_disabled: [403, 'An administrator disabled this account.'],
  email_not_verified: [403, 'The email address must be confirmed first.'],
  mfa_required: [
    403,
    'The account has a second factor: send it with the mfaToken to POST /auth/mfa/verify.',
  ],
  reauthentication_required: [403, 'Sign in again first: this change needs a recent sign-in.'],
  mfa_enrollment_required: [403, 'Administrators must set up a second factor first.'],
  not_found: [404, 'There is nothing here.'],
  method_not_allowed: [405, 'This method is not allowed here.'],
  conflict: [409, 'The request conflicts with the current state.'],
  email_taken: [409, 'An account with this email already exists.'],
  username_taken: [409, 'This username is taken.'],
  totp_already_enabled: [409, 'An authenticator app is already set up; turn it off first.'],
  identity_taken: [409, 'That provider account is linked already (to this account or another).'],
  last_sign_in_method: [
    409,
    'This is the last way to sign in to the account: add another one first.',
  ],
  last_admin: [409, 'The last active administrator cannot lose the role, be disabled or deleted.'],
  payload_too_large: [413, 'The body is larger than the limit.'],
  unsupported_media_type: [415, 'This content type is not accepted here.'],
  rate_limited: [429, 'Too many requests or failed attempts; wait for Retry-After.'],
  too_many_attempts: [429, 'Too many wrong codes: this code no longer works.'],
  internal_error: [500, 'Something went wrong on our side.'],
  service_unavailable: [503, 'The database (or the shared rate-limit store) cannot be reached.'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code][0];
}

export function meaningOf(code: ErrorCode): string {
  return ERROR_CODES[code][1];
}

// The API client of the page. The access token lives only in this module's
// memory; the refresh token lives in an HttpOnly cookie that the API sets when
// the page signs in with `X-Refresh-Cookie: 1`, so no script can read it. The
// mfaToken of a sign-in waiting for its second step lives here too, in memory
// only, until that step is done or given up.

const BASE = '/api/v1';

/** An error answer of the API, as a problem document. */
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code ?? (status === 0 ? 'network' : 'unknown');
    this.detail = problem?.detail ?? '';
    this.errors = Array.isArray(problem?.errors) ? problem.errors : [];
    this.retryAfter = retryAfter;
    // 403 `mfa_required`: which second factors the sign-in may go on with.
    this.methods = Array.isArray(problem?.methods) ? problem.methods : [];
    this.mfaToken = typeof problem?.mfaToken === 'string' ? problem.mfaToken : null;
  }
}

// Whether this browser signed in and has not signed out since: not a secret,
// only spares a fresh visitor a refresh request that can only fail.
const HINT = 'auth.signedIn';

let access = null; // { token, user }
let secondStep = null; // the mfaToken of a sign-in waiting for its code
let refreshTimer = null;
let onSignedOut = () => {};

/** Called when the session ends without the page asking (expired, ended elsewhere). */
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

export function currentUser() {
  return access?.user ?? null;
}

async function send(method, path, { body, token, cookie } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  if (token) {
    headers.Authorization = `Bearer ${token}`;
  }
  if (cookie) {
    headers['X-Refresh-Cookie'] = '1';
  }
  let response;
  try {
    response = await fetch(BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, {
      detail: 'The service cannot be reached. Check your connection and try again.',
    });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, data, Number(response.headers.get('Retry-After')) || 0);
  }
  return data;
}

function adopt(pair) {
  access = { token: pair.accessToken, user: pair.user };
  localStorage.setItem(HINT, '1');
  clearTimeout(refreshTimer);
  // Refresh ahead of expiry: a minute early, or at 80% of a short lifetime.
  const lead = Math.min(60, pair.expiresIn * 0.2);
  refreshTimer = setTimeout(
    () => {
      refresh().catch(() => endLocally(true));
    },
    Math.max(1, pair.expiresIn - lead) * 1000,
  );
  return pair.user;
}

function endLocally(notify) {
  access = null;
  localStorage.removeItem(HINT);
  clearTimeout(refreshTimer);
  if (notify) {
    onSignedOut();
  }
}

let refreshing = null;
/** A new access token from the cookie; one request at a time. */
export function refresh() {
  refreshing ??= send('POST', '/auth/refresh', { body: {}, cookie: true })
    .then(adopt)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** A request as the signed-in user; a 401 gets one refresh and a retry, then ends the session here. */
export async function authed(method, path, body) {
  if (!access) {
    throw new ApiError(401, { code: 'unauthorized', detail: 'You are signed out.' });
  }
  try {
    return await send(method, path, { body, token: access.token });
  } catch (error) {
    if (
      !(error instanceof ApiError) ||
      error.status !== 401 ||
      error.code === 'invalid_credentials'
    ) {
      throw error;
    }
  }
  try {
    await refresh();
  } catch (error) {
    endLocally(true);
    throw error;
  }
  return send(method, path, { body, token: access.token });
}

/** Restores the session of this browser from the cookie, if it has a live one. */
export async function restore() {
  if (!localStorage.getItem(HINT)) {
    return null;
  }
  try {
    return await refresh();
  } catch {
    localStorage.removeItem(HINT);
    return null;
  }
}

/**
 * Signs in with a password. For an account with two-step sign-in this throws
 * the 403 `mfa_required` error, and `finishSignIn` takes it on with a code.
 */
export function signIn(login, password) {
  const body = login.includes('@') ? { email: login, password } : { username: login, password };
  return firstStep('/auth/login', body);
}

/**
 * A single-factor sign-in. For an account with a second factor it throws the
 * 403 `mfa_required` error and keeps its mfaToken here for the second step.
 */
async function firstStep(path, body) {
  secondStep = null;
  try {
    return adopt(await send('POST', path, { body, cookie: true }));
  } catch (error) {
    if (error instanceof ApiError && error.code === 'mfa_required') {
      secondStep = error.mfaToken;
      error.mfaToken = null;
    }
    throw error;
  }
}

/** The second step of a sign-in: a code from the authenticator app, or a recovery code. */
export function finishSignIn(code) {
  return secondStepWith({ code });
}

/** Options for the passkey ceremony of the waiting sign-in's second step (this account's passkeys). */
export function secondStepPasskeyOptions() {
  if (!secondStep) {
    return Promise.reject(noSecondStep());
  }
  return send('POST', '/auth/mfa/passkey-options', { body: { mfaToken: secondStep } });
}

/** The second step of a sign-in with a passkey: the assertion the browser made with those options. */
export function finishSignInWithPasskey(passkey) {
  return secondStepWith({ passkey });
}

const noSecondStep = () =>
  new ApiError(401, {
    code: 'invalid_mfa_token',
    detail: 'This sign-in is no longer waiting for its second step: sign in again.',
  });

async function secondStepWith(proof) {
  if (!secondStep) {
    throw noSecondStep();
  }
  try {
    const pair = await send('POST', '/auth/mfa/verify', {
      body: { mfaToken: secondStep, ...proof },
      cookie: true,
    });
    secondStep = null;
    return adopt(pair);
  } catch (error) {
    if (
      error instanceof ApiError &&
      ['invalid_mfa_token', 'too_many_attempts', 'account_disabled'].includes(error.code)
    ) {
      secondStep = null;
    }
    throw error;
  }
}

/** Options for signing in with a passkey alone (no account named: the browser offers its passkeys). */
export function passkeySignInOptions() {
  return send('POST', '/auth/passkey/options');
}

/** Signs in with the assertion the browser made with those options. */
export async function signInWithPasskey(response) {
  secondStep = null;
  return adopt(await send('POST', '/auth/passkey/login', { body: { response }, cookie: true }));
}

/**
 * Signs in with the one-time code another provider's sign-in brought back
 * (the page's `#code=` fragment). Like `signIn`, it throws the 403
 * `mfa_required` error for an account with two-step sign-in.
 */
export function signInWithProvider(code) {
  return firstStep('/auth/oidc/exchange', { code });
}

/** The providers people may sign in with: `[{ name, label }]`. */
export function signInProviders() {
  return send('GET', '/auth/oidc/providers');
}

/** Gives up a sign-in that waits for its second step. */
export function forgetSecondStep() {
  secondStep = null;
}

export async function signOut(everywhere) {
  try {
    await authed('POST', everywhere ? '/auth/logout-all' : '/auth/logout');
  } finally {
    endLocally(false);
  }
}

export function register(fields) {
  return send('POST', '/auth/register', { body: fields });
}

export function verifyEmail(email, code) {
  return send('POST', '/auth/verify-email', { body: { email, code } });
}

export function resendCode(email) {
  return send('POST', '/auth/verify-email/resend', { body: { email } });
}

export function forgotPassword(email) {
  return send('POST', '/auth/password/forgot', { body: { email } });
}

export function resetPassword(token, newPassword) {
  return send('POST', '/auth/password/reset', { body: { token, newPassword } });
}

/** "This wasn't me", from a new-device alert: every session of the account ends, a reset link is mailed. */
export function secureAccount(token) {
  return send('POST', '/auth/secure-account', { body: { token } });
}

export async function updateProfile(fields) {
  const user = await authed('PATCH', '/users/me', fields);
  if (access) {
    access.user = user;
  }
  return user;
}

export function changePassword(currentPassword, newPassword) {
  return authed('PUT', '/users/me/password', { currentPassword, newPassword });
}

export function listSessions() {
  return authed('GET', '/auth/sessions');
}

export function endSession(id) {
  return authed('DELETE', `/auth/sessions/${encodeURIComponent(id)}`);
}

export async function deleteAccount(password) {
  await authed('DELETE', '/users/me', { password });
  endLocally(false);
}

/** The account's user object again, after a change the API made to it (e.g. `mfaEnabled`). */
async function reloadUser() {
  try {
    const user = await authed('GET', '/users/me');
    if (access) {
      access.user = user;
    }
  } catch {
    // Only a cache: the next sign-in or refresh brings it anyway.
  }
}

/** `{ totp: { enabled, createdAt, lastUsedAt }, recoveryCodesLeft, passkeys }` */
export function mfaStatus() {
  return authed('GET', '/users/me/mfa');
}

/** A new authenticator, pending until confirmed: `{ secret, otpauthUri, qrCode }`. */
export function startTotp(password) {
  return authed('POST', '/users/me/mfa/totp', { password });
}

/** Turns the pending authenticator on; the ten recovery codes, shown this once. */
export async function confirmTotp(code) {
  const { recoveryCodes } = await authed('POST', '/users/me/mfa/totp/confirm', { code });
  await reloadUser();
  return recoveryCodes;
}

export async function disableTotp(password, code) {
  await authed('DELETE', '/users/me/mfa/totp', { password, code });
  await reloadUser();
}

/** Ten new recovery codes; the older ones stop working. */
export async function newRecoveryCodes(code) {
  const { recoveryCodes } = await authed('POST', '/users/me/mfa/recovery-codes', { code });
  return recoveryCodes;
}

/** `[{ id, name, createdAt, lastUsedAt, backedUp }]` */
export function listPasskeys() {
  return authed('GET', '/users/me/passkeys');
}

/** Options for the ceremony that makes a new passkey for this account. */
export function passkeyCreationOptions() {
  return authed('POST', '/users/me/passkeys/options');
}

/** Saves the passkey the browser made with those options; `name` may be empty (the API picks one). */
export async function addPasskey(name, response) {
  const passkey = await authed(
    'POST',
    '/users/me/passkeys',
    name ? { name, response } : { response },
  );
  await reloadUser();
  return passkey;
}

export function renamePasskey(id, name) {
  return authed('PATCH', `/users/me/passkeys/${encodeURIComponent(id)}`, { name });
}

/** `password` for accounts that have one; without, a recent sign-in stands in for it. */
export async function removePasskey(id, password) {
  await authed(
    'DELETE',
    `/users/me/passkeys/${encodeURIComponent(id)}`,
    password ? { password } : {},
  );
  await reloadUser();
}

/** `[{ provider, email, linkedAt, lastUsedAt }]` */
export function listIdentities() {
  return authed('GET', '/users/me/identities');
}

/** Where the browser goes to link that provider's account to this one: `{ authorizeUrl }`. */
export function linkIdentity(provider, redirectTo) {
  return authed('POST', `/users/me/identities/${encodeURIComponent(provider)}`, { redirectTo });
}

export function unlinkIdentity(provider) {
  return authed('DELETE', `/users/me/identities/${encodeURIComponent(provider)}`);
}

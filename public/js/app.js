// The page: which screen shows, and what each form does.

import * as api from './api.js';
import { busy, clearErrors, onSubmit, showError, showFormError } from './forms.js';
import {
  prepareSecondStep,
  renderPasskeys,
  resetPasskeysCard,
  setUpPasskeys,
  startAutofill,
  stopAutofill,
} from './passkeys.js';
import { land, renderIdentities, resetIdentitiesCard, setUpProviders } from './providers.js';
import { leaveSecureLink, openSecureLink, setUpSecure } from './secure.js';

const $ = (id) => document.getElementById(id);
const VIEWS = [
  'signin',
  'second-step',
  'signup',
  'verify',
  'forgot',
  'reset',
  'secure',
  'secured',
  'account',
];

/** What the page remembers between screens, in memory only. */
const state = { pendingEmail: null, pendingPassword: null, resetToken: null };

function show(view, notice) {
  $('loading').hidden = true;
  if (view !== 'second-step') {
    api.forgetSecondStep();
  }
  if (view !== 'account') {
    resetMfaCard();
    resetPasskeysCard();
    resetIdentitiesCard();
  }
  if (view !== 'secure') {
    leaveSecureLink();
  }
  if (view !== 'signin') {
    stopAutofill();
    clearErrors($('signin-passkey-form'));
  }
  for (const name of VIEWS) {
    $(`view-${name}`).hidden = name !== view;
  }
  const message = $('notice');
  message.textContent = notice ?? '';
  message.hidden = !notice;
  document.title = `${$(`${view}-title`).textContent} · Account`;
  $(`${view}-title`).focus();
  if (view === 'signin') {
    // The browser may offer this site's passkeys in the email field's suggestions.
    void startAutofill();
  }
}

document.addEventListener('click', (event) => {
  const target = event.target.closest('[data-go]');
  if (target) {
    const form = $(`${target.dataset.go}-form`);
    if (form) {
      clearErrors(form);
    }
    show(target.dataset.go);
  }
});

api.whenSignedOut(() => show('signin', 'Your session has ended. Sign in again.'));

/** Messages for second-factor codes (the defaults speak of mailed codes). */
const AUTHENTICATOR_MESSAGES = {
  invalid_code: {
    field: 'code',
    text: 'That code is not right, or it was already used. Enter the code your authenticator app shows now, or an unused recovery code.',
  },
};
/** The same, where only the app's code is taken (no recovery code). */
const APP_CODE_MESSAGES = {
  invalid_code: {
    field: 'code',
    text: 'That code is not right, or it was already used. Enter the code your authenticator app shows now.',
  },
};

/** A field that must not be empty, as typed; its message, beside it, when it is. */
function given(data, field, message) {
  const value = String(data.get(field) ?? '');
  if (!value.trim()) {
    throw new api.ApiError(400, { code: 'validation_failed', errors: [{ field, message }] });
  }
  return value;
}

/** A code as typed: spaces go, and a 6-digit code copied as "123 456" is one code. */
function typedCode(data, what) {
  const code = given(data, 'code', `Enter ${what}`).trim();
  return /^[\d\s]+$/.test(code) ? code.replace(/\s/g, '') : code;
}

/**
 * Signs in with a password, then opens the account. An account with
 * two-step sign-in goes on to the second-step screen instead (a code, a
 * passkey, or either).
 */
async function signInWithPassword(login, password, notice) {
  try {
    await api.signIn(login, password);
  } catch (error) {
    if (error.code !== 'mfa_required') {
      throw error;
    }
    if (!prepareSecondStep(error.methods)) {
      api.forgetSecondStep();
      throw new api.ApiError(403, {
        code: 'mfa_unsupported',
        detail:
          'This account signs in with a passkey as its second step, and this browser cannot use passkeys. Try another browser.',
      });
    }
    $('signin-password').value = '';
    show('second-step');
    return;
  }
  $('signin-form').reset();
  await openAccount(notice);
}

/** Back to the sign-in screen, saying why (a sign-in that waited for its second step is void). */
function backToSignIn(why) {
  show('signin');
  showFormError($('signin-form'), why);
}

setUpPasskeys({ openAccount, backToSignIn, renderMfa });
setUpProviders({ show, openAccount, backToSignIn });
setUpSecure({ show });

// Sign in
onSubmit(
  $('signin-form'),
  async (data) => {
    const login = String(data.get('login')).trim();
    if (!login) {
      throw new api.ApiError(400, {
        code: 'validation_failed',
        errors: [{ field: 'login', message: 'Enter your email or username' }],
      });
    }
    try {
      await signInWithPassword(login, String(data.get('password')));
    } catch (error) {
      if (error.code === 'email_not_verified' && login.includes('@')) {
        state.pendingEmail = login;
        state.pendingPassword = String(data.get('password'));
        $('verify-email').textContent = login;
        show('verify', 'Confirm your email address first, with the code we mailed you.');
        return;
      }
      throw error;
    }
  },
  { email: 'login', username: 'login' },
);

// The second step of a sign-in
onSubmit(
  $('second-step-form'),
  async (data) => {
    const code = typedCode(data, 'the code from your authenticator app, or a recovery code');
    try {
      await api.finishSignIn(code);
    } catch (error) {
      const again = {
        invalid_mfa_token:
          'This sign-in expired or was already finished. Sign in again with your password.',
        too_many_attempts:
          'Too many wrong codes, so that sign-in no longer works. Sign in again with your password, then enter the code your app shows now.',
        account_disabled: 'This account is disabled. Contact the people who run this service.',
      }[error.code];
      if (!again) {
        throw error;
      }
      backToSignIn(again);
      return;
    }
    $('second-step-form').reset();
    $('signin-form').reset();
    await openAccount();
  },
  {},
  AUTHENTICATOR_MESSAGES,
);

// Sign up, then the emailed code, then signed in
onSubmit($('signup-form'), async (data) => {
  const fields = {
    email: String(data.get('email')).trim(),
    password: String(data.get('password')),
  };
  for (const optional of ['username', 'fullName']) {
    const value = String(data.get(optional)).trim();
    if (value) {
      fields[optional] = value;
    }
  }
  await api.register(fields);
  state.pendingEmail = fields.email;
  state.pendingPassword = fields.password;
  $('signup-form').reset();
  $('verify-email').textContent = fields.email;
  show('verify');
});

onSubmit($('verify-form'), async (data) => {
  await api.verifyEmail(state.pendingEmail ?? '', String(data.get('code')).trim());
  $('verify-form').reset();
  const { pendingEmail, pendingPassword } = state;
  state.pendingPassword = null;
  if (pendingPassword) {
    await signInWithPassword(
      pendingEmail,
      pendingPassword,
      'Your email address is confirmed. Welcome!',
    );
  } else {
    show('signin', 'Your email address is confirmed. Sign in.');
  }
});

$('verify-resend').addEventListener('click', (event) =>
  busy(event.currentTarget, async () => {
    clearErrors($('verify-form'));
    try {
      await api.resendCode(state.pendingEmail ?? '');
      show('verify', 'A new code is on its way. The previous one no longer works.');
    } catch (error) {
      showError($('verify-form'), error);
    }
  }),
);

// Forgot and reset
onSubmit($('forgot-form'), async (data) => {
  await api.forgotPassword(String(data.get('email')).trim());
  $('forgot-form').reset();
  show('signin', 'If that address has an account, a link to reset the password is on its way.');
});

onSubmit($('reset-form'), async (data) => {
  await api.resetPassword(state.resetToken ?? '', String(data.get('newPassword')));
  state.resetToken = null;
  history.replaceState(null, '', '/');
  $('reset-form').reset();
  show(
    'signin',
    'Your password is changed, and every session has ended. Sign in with the new one.',
  );
});

// The account
function renderProfile(user) {
  $('profile-name').textContent = user.fullName || user.username || user.email;
  const email = $('profile-email');
  email.textContent = user.email ?? '';
  const badge = document.createElement('span');
  badge.className = user.emailVerified ? 'badge' : 'badge warn';
  badge.textContent = user.emailVerified ? 'confirmed' : 'not confirmed';
  email.append(badge);
  $('profile-username').textContent = user.username ? `@${user.username}` : 'No username yet';
  const picture = $('profile-picture');
  if (user.imageUrl) {
    picture.src = user.imageUrl;
    picture.hidden = false;
  } else {
    picture.removeAttribute('src');
    picture.hidden = true;
  }
  $('profile-fullName').value = user.fullName ?? '';
  $('profile-username-input').value = user.username ?? '';
  $('profile-imageUrl').value = user.imageUrl ?? '';
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function describeAgent(agent) {
  if (!agent) {
    return 'Unknown device';
  }
  const browser = /Edg\//.test(agent)
    ? 'Edge'
    : /Chrome\//.test(agent)
      ? 'Chrome'
      : /Firefox\//.test(agent)
        ? 'Firefox'
        : /Safari\//.test(agent)
          ? 'Safari'
          : null;
  const system = /Android/.test(agent)
    ? 'Android'
    : /iPhone|iPad/.test(agent)
      ? 'iOS'
      : /Windows/.test(agent)
        ? 'Windows'
        : /Mac OS X/.test(agent)
          ? 'macOS'
          : /Linux/.test(agent)
            ? 'Linux'
            : null;
  return browser && system ? `${browser} on ${system}` : agent.slice(0, 80);
}

async function renderSessions() {
  const list = $('sessions-list');
  const problem = $('sessions-error');
  problem.hidden = true;
  let sessions;
  try {
    sessions = await api.listSessions();
  } catch (error) {
    problem.textContent = error.detail || 'Your sessions could not be loaded. Try again.';
    problem.hidden = false;
    return;
  }
  sessions.sort((a, b) => Number(b.current) - Number(a.current));
  list.replaceChildren(
    ...sessions.map((session) => {
      const item = document.createElement('li');
      item.dataset.sessionId = session.id;
      const agent = document.createElement('div');
      agent.className = 'agent';
      agent.textContent = describeAgent(session.userAgent);
      if (session.current) {
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = 'this device';
        agent.append(badge);
      }
      const details = document.createElement('div');
      details.className = 'muted';
      const used = session.lastUsedAt ?? session.createdAt;
      details.textContent = `${session.ip ?? 'unknown address'} · last used ${dateFormat.format(new Date(used))}`;
      item.append(agent, details);
      if (!session.current) {
        const end = document.createElement('button');
        end.type = 'button';
        end.className = 'secondary';
        end.textContent = 'End this session';
        end.setAttribute('aria-label', `End the session on ${agent.textContent}`);
        end.addEventListener('click', () =>
          busy(end, async () => {
            try {
              await api.endSession(session.id);
              item.remove();
            } catch (error) {
              problem.textContent = error.detail || 'That session could not be ended. Try again.';
              problem.hidden = false;
            }
          }),
        );
        item.append(end);
      }
      return item;
    }),
  );
}

// Two-step sign-in: its status, and setting it up, off, or new recovery codes.
const MFA_PARTS = ['mfa-setup-form', 'mfa-confirm-form', 'mfa-codes', 'mfa-on'];

function showMfaPart(part, focus) {
  for (const id of MFA_PARTS) {
    $(id).hidden = id !== part;
  }
  focus?.focus();
}

/** Forgets what the card showed of a set-up (the secret, the recovery codes) and its typed values. */
function resetMfaCard() {
  for (const id of [
    'mfa-setup-form',
    'mfa-confirm-form',
    'mfa-regenerate-form',
    'mfa-disable-form',
  ]) {
    $(id).reset();
    clearErrors($(id));
  }
  $('mfa-qr').removeAttribute('src');
  $('mfa-secret').textContent = '';
  $('mfa-uri').setAttribute('href', '#');
  $('mfa-recovery-codes').replaceChildren();
  $('mfa-status').textContent = 'Loading…';
  showMfaPart(null);
}

async function renderMfa() {
  const problem = $('mfa-error');
  problem.hidden = true;
  let status;
  try {
    status = await api.mfaStatus();
  } catch (error) {
    problem.textContent =
      error.detail || 'The two-step sign-in settings could not be loaded. Try again.';
    problem.hidden = false;
    return;
  }
  const on = status.totp.enabled;
  const passkeys = status.passkeys ?? 0;
  const badge = document.createElement('span');
  badge.className = on || passkeys > 0 ? 'badge' : 'badge warn';
  badge.textContent = on || passkeys > 0 ? 'on' : 'off';
  let details = 'Signing in asks for your password only.';
  if (!on && passkeys > 0) {
    details = `Signing in with your password also asks for one of your passkeys (${passkeys}). You can add an authenticator app as well.`;
  }
  if (on) {
    const left = status.recoveryCodesLeft;
    const since = status.totp.createdAt
      ? ` on ${dateFormat.format(new Date(status.totp.createdAt))}`
      : '';
    details = `Authenticator app set up${since}. ${left} recovery ${left === 1 ? 'code' : 'codes'} left.${left <= 3 ? ' Make new ones soon.' : ''}`;
  }
  $('mfa-status').replaceChildren('Status:', badge, document.createElement('br'), details);
  // Recovery codes on screen stay until the person says they saved them.
  if ($('mfa-codes').hidden && $('mfa-confirm-form').hidden) {
    showMfaPart(on ? 'mfa-on' : 'mfa-setup-form');
  }
}

function showRecoveryCodes(codes, title) {
  $('mfa-codes-title').textContent = title;
  $('mfa-recovery-codes').replaceChildren(
    ...codes.map((code) => {
      const item = document.createElement('li');
      const text = document.createElement('code');
      text.textContent = code;
      item.append(text);
      return item;
    }),
  );
  showMfaPart('mfa-codes', $('mfa-codes-title'));
}

onSubmit($('mfa-setup-form'), async (data) => {
  let setup;
  try {
    setup = await api.startTotp(given(data, 'password', 'Enter your password'));
  } catch (error) {
    if (error.code !== 'totp_already_enabled') {
      throw error;
    }
    show('account', 'Two-step sign-in is already on: it was set up in another session.');
    await renderMfa();
    return;
  }
  $('mfa-setup-form').reset();
  $('mfa-qr').src = setup.qrCode;
  $('mfa-secret').textContent = setup.secret;
  $('mfa-uri').href = setup.otpauthUri;
  $('mfa-confirm-form').reset();
  showMfaPart('mfa-confirm-form', $('mfa-confirm-title'));
});

onSubmit(
  $('mfa-confirm-form'),
  async (data) => {
    let codes;
    try {
      codes = await api.confirmTotp(typedCode(data, 'the 6-digit code your app shows'));
    } catch (error) {
      if (error.code === 'not_found') {
        resetMfaCard();
        await renderMfa();
        showFormError(
          $('mfa-setup-form'),
          'The set-up took too long (or was replaced by another). Start again.',
        );
        $('mfa-setup-password').focus();
        return;
      }
      throw error;
    }
    $('mfa-confirm-form').reset();
    $('mfa-qr').removeAttribute('src');
    $('mfa-secret').textContent = '';
    showRecoveryCodes(codes, 'Two-step sign-in is on: save your recovery codes');
    await Promise.all([renderMfa(), renderSessions()]);
  },
  {},
  APP_CODE_MESSAGES,
);

$('mfa-confirm-cancel').addEventListener('click', () => {
  resetMfaCard();
  showMfaPart('mfa-setup-form', $('mfa-title'));
});

$('mfa-codes-done').addEventListener('click', () => {
  $('mfa-recovery-codes').replaceChildren();
  showMfaPart('mfa-on', $('mfa-title'));
});

onSubmit(
  $('mfa-regenerate-form'),
  async (data) => {
    const codes = await api.newRecoveryCodes(typedCode(data, 'the 6-digit code your app shows'));
    $('mfa-regenerate-form').reset();
    showRecoveryCodes(codes, 'Your new recovery codes');
    await renderMfa();
  },
  {},
  APP_CODE_MESSAGES,
);

onSubmit(
  $('mfa-disable-form'),
  async (data) => {
    await api.disableTotp(
      given(data, 'password', 'Enter your password'),
      typedCode(data, 'the code from your authenticator app, or a recovery code'),
    );
    $('mfa-disable-form').reset();
    showMfaPart(null);
    show(
      'account',
      api.currentUser()?.mfaEnabled
        ? 'The authenticator app is removed. Signing in with your password still asks for one of your passkeys.'
        : 'Two-step sign-in is off. Signing in asks for your password only.',
    );
    await renderMfa();
  },
  {},
  AUTHENTICATOR_MESSAGES,
);

async function openAccount(notice) {
  const user = api.currentUser();
  renderProfile(user);
  show('account', notice);
  await Promise.all([renderMfa(), renderPasskeys(), renderIdentities(), renderSessions()]);
}

onSubmit(
  $('profile-form'),
  async (data) => {
    const user = await api.updateProfile({
      fullName: String(data.get('fullName')).trim() || null,
      username: String(data.get('username')).trim() || undefined,
      imageUrl: String(data.get('imageUrl')).trim() || null,
    });
    renderProfile(user);
    show('account', 'Your profile is saved.');
  },
  { username: 'username' },
);

onSubmit(
  $('password-form'),
  async (data) => {
    await api.changePassword(String(data.get('currentPassword')), String(data.get('newPassword')));
    $('password-form').reset();
    await openAccount('Your password is changed. Your other sessions have ended.');
  },
  { password: 'currentPassword' },
);

for (const [id, everywhere] of [
  ['signout', false],
  ['signout-all', true],
]) {
  $(id).addEventListener('click', (event) =>
    busy(event.currentTarget, async () => {
      try {
        await api.signOut(everywhere);
      } catch {
        // Signed out here either way.
      }
      show('signin', everywhere ? 'You are signed out everywhere.' : 'You are signed out.');
    }),
  );
}

onSubmit($('delete-form'), async (data) => {
  if (!confirm('Delete your account for good?')) {
    return;
  }
  await api.deleteAccount(String(data.get('password')));
  $('delete-form').reset();
  show('signin', 'Your account is deleted.');
});

// Start: a reset link, a new-device alert's link, a provider's answer, a session kept by
// the cookie, or the sign-in screen.
async function start() {
  const url = new URL(location.href);
  if (url.pathname === '/reset') {
    state.resetToken = url.searchParams.get('token');
    if (state.resetToken) {
      show('reset');
      return;
    }
    showFormError($('forgot-form'), 'This link is incomplete. Ask for a new one.');
    show('forgot');
    return;
  }
  if (url.pathname === '/secure') {
    openSecureLink(url);
    return;
  }
  if (await land()) {
    return;
  }
  if (await api.restore()) {
    await openAccount();
  } else {
    show('signin');
  }
}

start();

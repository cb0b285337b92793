// The page: which screen shows, and what each form does.

import * as api from './api.js';
import { busy, clearErrors, onSubmit, showError, showFormError } from './forms.js';

const $ = (id) => document.getElementById(id);
const VIEWS = ['signin', 'signup', 'verify', 'forgot', 'reset', 'account'];

/** What the page remembers between screens, in memory only. */
const state = { pendingEmail: null, pendingPassword: null, resetToken: null };

function show(view, notice) {
  $('loading').hidden = true;
  for (const name of VIEWS) {
    $(`view-${name}`).hidden = name !== view;
  }
  const message = $('notice');
  message.textContent = notice ?? '';
  message.hidden = !notice;
  document.title = `${$(`${view}-title`).textContent} · Account`;
  $(`${view}-title`).focus();
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
      await api.signIn(login, String(data.get('password')));
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
    $('signin-form').reset();
    await openAccount();
  },
  { email: 'login', username: 'login' },
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
    await api.signIn(pendingEmail, pendingPassword);
    await openAccount('Your email address is confirmed. Welcome!');
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

async function openAccount(notice) {
  const user = api.currentUser();
  renderProfile(user);
  show('account', notice);
  await renderSessions();
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

// Start: a reset link, a session kept by the cookie, or the sign-in screen.
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
  if (await api.restore()) {
    await openAccount();
  } else {
    show('signin');
  }
}

start();

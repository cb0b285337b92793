// Passkeys on the page: signing in with one (the button, and the browser's
// autofill on the email field), one as the second step of a password sign-in,
// and the profile's "Passkeys" panel. The WebAuthn ceremonies are
// SimpleWebAuthn's browser module, served by the app as published.

import {
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  startRegistration,
  WebAuthnAbortService,
} from '/vendor/simplewebauthn/index.js';
import * as api from './api.js';
import { busy, clearErrors, onSubmit, showError } from './forms.js';

const $ = (id) => document.getElementById(id);
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** What the page does around these parts: set by `setUpPasskeys`. */
let page = {
  openAccount: async () => {},
  backToSignIn: () => {},
  renderMfa: async () => {},
};

/** Messages for a passkey sign-in (the defaults speak of passwords). */
const SIGN_IN_MESSAGES = {
  invalid_credentials: {
    text: 'That passkey was not accepted: it may have been removed from its account. Try another one, or sign in with your password.',
  },
};
const SECOND_STEP_MESSAGES = {
  invalid_credentials: {
    text: 'That passkey was not accepted: it may not belong to this account. Try another one.',
  },
  invalid_code: {
    text: 'That passkey was not accepted: it may not belong to this account. Try another one.',
  },
};

/**
 * Runs a WebAuthn ceremony of the browser. Its errors become problems the
 * forms show in words; a ceremony cut short by another one (or by leaving the
 * screen) resolves to null, with nothing to say.
 */
async function ceremony(run) {
  // A ceremony of the person's own choosing replaces the autofill's (SimpleWebAuthn aborts it).
  autofill = null;
  try {
    return await run();
  } catch (error) {
    const problem = ceremonyProblem(error);
    if (problem) {
      throw problem;
    }
    return null;
  }
}

function ceremonyProblem(error) {
  const name = error?.cause?.name ?? error?.name;
  if (error?.code === 'ERROR_CEREMONY_ABORTED' || name === 'AbortError') {
    return null;
  }
  const problem = (detail) => new api.ApiError(400, { code: 'passkey_failed', detail });
  if (name === 'NotAllowedError') {
    return problem('No passkey was used: the request was cancelled or timed out. Try again.');
  }
  if (name === 'InvalidStateError') {
    return problem('This device or security key already holds a passkey of your account.');
  }
  if (!browserSupportsWebAuthn()) {
    return problem('This browser cannot use passkeys.');
  }
  return problem('The passkey could not be used. Try again, or try another one.');
}

// Autofill: while the sign-in screen shows, the browser may offer this site's
// passkeys in the email field's suggestions ("conditional mediation"). The
// request waits for the person to pick one; leaving the screen cancels it.
let autofill = null; // { ceremony: boolean } while one runs for the sign-in screen

/** Starts offering passkeys in the email field, unless that is already so (or not possible). */
export async function startAutofill() {
  if (autofill || $('view-signin').hidden) {
    return;
  }
  const run = { ceremony: false };
  autofill = run;
  const started = Date.now();
  let response;
  try {
    if (!(await browserSupportsWebAuthnAutofill())) {
      autofill = null;
      return;
    }
    const optionsJSON = await api.passkeySignInOptions();
    if (autofill !== run) {
      return;
    }
    run.ceremony = true;
    response = await startAuthentication({ optionsJSON, useBrowserAutofill: true });
  } catch (error) {
    // Offering passkeys is a convenience: when it cannot start, or ends unused, nothing is said.
    if (autofill === run) {
      autofill = null;
      // Its time ran out while the screen stayed open: offered again, with a new challenge.
      // (Anything quicker waits for the person to come back to the field, never in a loop.)
      if (ceremonyProblem(error) && Date.now() - started > 10000) {
        void startAutofill();
      }
    }
    return;
  }
  if (autofill !== run) {
    return;
  }
  // Offered again only when the person comes back to the field (or to the screen).
  autofill = null;
  const form = $('signin-form');
  clearErrors(form);
  clearErrors($('signin-passkey-form'));
  await busy(form, async () => {
    try {
      await api.signInWithPasskey(response);
    } catch (error) {
      showError(form, error, {}, SIGN_IN_MESSAGES);
      return;
    }
    form.reset();
    await page.openAccount();
  });
}

/** Stops offering passkeys in the email field (the sign-in screen is gone). */
export function stopAutofill() {
  const run = autofill;
  autofill = null;
  if (run?.ceremony) {
    WebAuthnAbortService.cancelCeremony();
  }
}

/**
 * Fits the second-step screen to the methods the sign-in may go on with:
 * a passkey, a code, or both. False when this browser can do none of them.
 */
export function prepareSecondStep(methods) {
  const passkey = methods.includes('passkey') && browserSupportsWebAuthn();
  const code = methods.some((method) => method === 'totp' || method === 'recovery_code');
  for (const id of ['second-step-passkey-form', 'second-step-form']) {
    $(id).reset();
    clearErrors($(id));
  }
  $('second-step-passkey-form').hidden = !passkey;
  $('second-step-or').hidden = !code;
  $('second-step-code-intro').hidden = !code;
  $('second-step-form').hidden = !code;
  return passkey || code;
}

/** Returns to the sign-in screen with a message when the waiting sign-in is void. */
const VOID_SIGN_IN = {
  invalid_mfa_token:
    'This sign-in expired or was already finished. Sign in again with your password.',
  too_many_attempts:
    'Too many failed attempts, so that sign-in no longer works. Sign in again with your password.',
  account_disabled: 'This account is disabled. Contact the people who run this service.',
};

// Profile: the panel's list, and adding, renaming and removing.
function problemOf(error, fallback) {
  return (error instanceof api.ApiError && error.detail) || fallback;
}

function showPanelError(text) {
  const slot = $('passkeys-error');
  slot.textContent = text;
  slot.hidden = false;
}

/** Forgets what the panel showed (the list, typed names and passwords). */
export function resetPasskeysCard() {
  $('passkeys-list').replaceChildren();
  $('passkeys-status').textContent = 'Loading…';
  $('passkeys-status').hidden = false;
  $('passkeys-error').hidden = true;
  $('passkey-add-form').reset();
  clearErrors($('passkey-add-form'));
}

export async function renderPasskeys() {
  $('passkeys-error').hidden = true;
  let passkeys;
  try {
    passkeys = await api.listPasskeys();
  } catch (error) {
    showPanelError(problemOf(error, 'Your passkeys could not be loaded. Try again.'));
    return;
  }
  // The list speaks for itself; an empty one says so.
  $('passkeys-status').textContent = 'No passkeys yet: you sign in with your password.';
  $('passkeys-status').hidden = passkeys.length > 0;
  $('passkeys-list').replaceChildren(...passkeys.map(passkeyRow));
}

function field(row, part, labelText, input) {
  const id = `passkey-${row.dataset.passkeyId}-${part}`;
  input.id = id;
  const label = document.createElement('label');
  label.htmlFor = id;
  label.textContent = labelText;
  const error = document.createElement('p');
  error.className = 'field-error';
  error.id = `${id}-error`;
  error.hidden = true;
  return [label, input, error];
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function button(text, className, type = 'button') {
  const node = element('button', className, text);
  node.type = type;
  return node;
}

function passkeyRow(passkey) {
  const row = element('li');
  row.dataset.passkeyId = passkey.id;

  const name = element('div', 'name', passkey.name);
  const badge = element('span', passkey.backedUp ? 'badge' : 'badge neutral');
  badge.textContent = passkey.backedUp ? 'synced' : 'this device only';
  badge.title = passkey.backedUp
    ? 'Backed up by its password manager, and usable on your other devices'
    : 'Kept by one device or security key only';
  name.append(badge);
  const used = passkey.lastUsedAt
    ? `last used ${dateFormat.format(new Date(passkey.lastUsedAt))}`
    : 'not used yet';
  const details = element(
    'div',
    'muted',
    `Added ${dateFormat.format(new Date(passkey.createdAt))} · ${used}`,
  );

  const actions = element('div', 'actions');
  const renameButton = button('Rename', 'secondary');
  renameButton.setAttribute('aria-label', `Rename the passkey ${passkey.name}`);
  const removeButton = button('Remove', 'secondary');
  removeButton.setAttribute('aria-label', `Remove the passkey ${passkey.name}`);
  actions.append(renameButton, removeButton);

  // Rename: the name in a field, in place.
  const rename = element('form', 'passkey-edit passkey-rename');
  rename.noValidate = true;
  rename.hidden = true;
  const nameInput = element('input');
  nameInput.name = 'name';
  nameInput.autocomplete = 'off';
  nameInput.maxLength = 64;
  nameInput.required = true;
  const renameActions = element('div', 'actions');
  const renameCancel = button('Cancel', 'secondary');
  renameActions.append(button('Save the name', '', 'submit'), renameCancel);
  rename.append(
    element('p', 'form-error'),
    ...field(row, 'name', `New name for ${passkey.name}`, nameInput),
    renameActions,
  );

  // Remove: the password first, for accounts that have one.
  const remove = element('form', 'passkey-edit passkey-remove');
  remove.noValidate = true;
  remove.hidden = true;
  const passwordInput = element('input');
  passwordInput.name = 'password';
  passwordInput.type = 'password';
  passwordInput.autocomplete = 'current-password';
  const passwordHint = element(
    'p',
    'hint',
    'Leave it empty if your account has no password: a recent sign-in is enough then.',
  );
  passwordHint.id = `passkey-${passkey.id}-password-hint`;
  passwordInput.setAttribute('aria-describedby', passwordHint.id);
  const removeActions = element('div', 'actions');
  const removeCancel = button('Cancel', 'secondary');
  removeActions.append(button('Remove this passkey', 'danger', 'submit'), removeCancel);
  const [passwordLabel, , passwordError] = field(
    row,
    'password',
    'Your password, to confirm',
    passwordInput,
  );
  remove.append(
    element('p', 'form-error'),
    element('p', '', `Remove "${passkey.name}"? It will no longer sign you in.`),
    passwordLabel,
    passwordInput,
    passwordHint,
    passwordError,
    removeActions,
  );
  for (const form of [rename, remove]) {
    form.querySelector('.form-error').setAttribute('role', 'alert');
    form.querySelector('.form-error').hidden = true;
  }

  const open = (form) => {
    for (const other of [rename, remove]) {
      other.reset();
      clearErrors(other);
      other.hidden = other !== form;
    }
    actions.hidden = form !== null;
    if (form === rename) {
      nameInput.value = passkey.name;
      nameInput.select();
      nameInput.focus();
    } else if (form === remove) {
      passwordInput.focus();
    } else {
      renameButton.focus();
    }
  };
  renameButton.addEventListener('click', () => open(rename));
  removeButton.addEventListener('click', () => open(remove));
  renameCancel.addEventListener('click', () => open(null));
  removeCancel.addEventListener('click', () => open(null));

  onSubmit(rename, async (data) => {
    const newName = String(data.get('name') ?? '').trim();
    if (!newName) {
      throw new api.ApiError(400, {
        code: 'validation_failed',
        errors: [{ field: 'name', message: 'Enter a name' }],
      });
    }
    try {
      await api.renamePasskey(passkey.id, newName);
    } catch (error) {
      if (error.code !== 'not_found') {
        throw error;
      }
      await renderPasskeys();
      showPanelError('That passkey is no longer on your account.');
      return;
    }
    await renderPasskeys();
    focusRow(passkey.id);
  });

  onSubmit(remove, async (data) => {
    try {
      await api.removePasskey(passkey.id, String(data.get('password') ?? ''));
    } catch (error) {
      if (error.code === 'not_found') {
        await renderPasskeys();
        showPanelError('That passkey is no longer on your account.');
        return;
      }
      if (
        error.code === 'validation_failed' &&
        error.errors.some((problem) => problem.field === 'password')
      ) {
        // Left empty, for an account that has a password.
        throw new api.ApiError(400, {
          code: 'validation_failed',
          errors: [{ field: 'password', message: 'Enter your password: your account has one' }],
        });
      }
      throw error;
    }
    await Promise.all([renderPasskeys(), page.renderMfa()]);
    $('passkeys-title').focus();
    showPanelNotice(`The passkey "${passkey.name}" is removed.`);
  });

  row.append(name, details, actions, rename, remove);
  return row;
}

function focusRow(id) {
  const row = [...$('passkeys-list').children].find((item) => item.dataset.passkeyId === id);
  row?.querySelector('button')?.focus();
}

function showPanelNotice(text) {
  const notice = $('notice');
  notice.textContent = text;
  notice.hidden = false;
}

/** Wires the passkey parts of the page; `hooks` are what the page does around them. */
export function setUpPasskeys(hooks) {
  page = { ...page, ...hooks };
  const supported = browserSupportsWebAuthn();
  $('signin-passkey-form').hidden = !supported;
  $('passkey-add-form').hidden = !supported;
  $('passkeys-unsupported').hidden = supported;

  // The email field offers passkeys again when the person comes back to it.
  $('signin-login').addEventListener('focus', () => void startAutofill());

  onSubmit(
    $('signin-passkey-form'),
    async () => {
      clearErrors($('signin-form'));
      const optionsJSON = await api.passkeySignInOptions();
      const response = await ceremony(() => startAuthentication({ optionsJSON }));
      if (!response) {
        return;
      }
      await api.signInWithPasskey(response);
      $('signin-form').reset();
      await page.openAccount();
    },
    {},
    SIGN_IN_MESSAGES,
  );

  onSubmit(
    $('second-step-passkey-form'),
    async () => {
      try {
        const optionsJSON = await api.secondStepPasskeyOptions();
        const response = await ceremony(() => startAuthentication({ optionsJSON }));
        if (!response) {
          return;
        }
        await api.finishSignInWithPasskey(response);
      } catch (error) {
        const again = error && VOID_SIGN_IN[error.code];
        if (!again) {
          throw error;
        }
        page.backToSignIn(again);
        return;
      }
      $('second-step-form').reset();
      $('signin-form').reset();
      await page.openAccount();
    },
    {},
    SECOND_STEP_MESSAGES,
  );

  onSubmit($('passkey-add-form'), async (data) => {
    const name = String(data.get('name') ?? '').trim();
    const optionsJSON = await api.passkeyCreationOptions();
    const response = await ceremony(() => startRegistration({ optionsJSON }));
    if (!response) {
      return;
    }
    const passkey = await api.addPasskey(name, response);
    $('passkey-add-form').reset();
    await Promise.all([renderPasskeys(), page.renderMfa()]);
    focusRow(passkey.id);
    showPanelNotice(
      `The passkey "${passkey.name}" is added. Sign in with it next time; signing in with your password now also asks for a passkey.`,
    );
  });
}

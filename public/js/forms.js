// Showing API errors next to the fields they concern, in plain words, and
// keeping a form's buttons disabled while its request is in flight.

import { ApiError } from './api.js';

/** Plain-words messages for the API's codes, and the field each belongs to. */
const MESSAGES = {
  invalid_credentials: {
    field: 'password',
    text: 'That password is not right. Check it and try again.',
  },
  email_taken: {
    field: 'email',
    text: 'An account with this email already exists. Sign in, or reset its password.',
  },
  username_taken: { field: 'username', text: 'This username is taken. Try another one.' },
  invalid_code: {
    field: 'code',
    text: 'That code is not right, or it has expired. Check the latest mail, or send a new code.',
  },
  too_many_attempts: {
    field: 'code',
    text: 'Too many wrong codes: this one no longer works. Send a new code.',
  },
  invalid_token: {
    text: 'This reset link no longer works (it was used, it expired, or a newer one was sent). Ask for a new link.',
  },
  account_disabled: { text: 'This account is disabled. Contact the people who run this service.' },
  email_not_verified: { text: 'Confirm your email address first, with the code we mailed you.' },
  service_unavailable: { text: 'The service is busy or down for a moment. Try again shortly.' },
  network: { text: 'The service cannot be reached. Check your connection and try again.' },
};

function fieldInput(form, name) {
  return form.querySelector(`[name="${CSS.escape(name)}"]`);
}

function errorSlot(input) {
  return input && document.getElementById(`${input.id}-error`);
}

export function clearErrors(form) {
  form.querySelectorAll('.field-error, .form-error').forEach((p) => {
    p.hidden = true;
    p.textContent = '';
  });
  form.querySelectorAll('[aria-invalid]').forEach((input) => {
    input.removeAttribute('aria-invalid');
    const describedBy = (input.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .filter((id) => id && id !== `${input.id}-error`);
    if (describedBy.length) {
      input.setAttribute('aria-describedby', describedBy.join(' '));
    } else {
      input.removeAttribute('aria-describedby');
    }
  });
}

export function showFieldError(form, name, text) {
  const input = fieldInput(form, name);
  const slot = errorSlot(input);
  if (!slot) {
    return false;
  }
  slot.textContent = text;
  slot.hidden = false;
  input.setAttribute('aria-invalid', 'true');
  const describedBy = new Set(
    (input.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean),
  );
  describedBy.add(slot.id);
  input.setAttribute('aria-describedby', [...describedBy].join(' '));
  return true;
}

export function showFormError(form, text) {
  const slot = form.querySelector('.form-error');
  slot.textContent = text;
  slot.hidden = false;
}

/**
 * Puts an API error where it belongs: next to its field(s), or at the top of
 * the form. `messages` replaces the plain-words messages of some codes for
 * this form (a code means something else for an authenticator than in a mail).
 */
export function showError(form, error, fieldAliases = {}, messages = {}) {
  if (!(error instanceof ApiError)) {
    showFormError(form, 'Something went wrong. Try again.');
    return;
  }
  if (error.code === 'weak_password') {
    // The detail says why, in words; it belongs to the new password, whatever the form calls it.
    const field = ['newPassword', 'password'].find((name) => fieldInput(form, name));
    if (field && showFieldError(form, field, error.detail)) {
      focusFirstInvalid(form);
      return;
    }
  }
  let placed = false;
  for (const { field, message } of error.errors) {
    const name = fieldAliases[field] ?? field;
    placed = showFieldError(form, name, inWords(fieldInput(form, name), field, message)) || placed;
  }
  if (placed) {
    focusFirstInvalid(form);
    return;
  }
  const known = messages[error.code] ?? MESSAGES[error.code];
  if (error.code === 'rate_limited') {
    const wait =
      error.retryAfter > 0
        ? ` Try again in ${describeWait(error.retryAfter)}.`
        : ' Try again later.';
    showFormError(form, `Too many attempts.${wait}`);
    return;
  }
  const text = known?.text ?? (error.detail || 'Something went wrong. Try again.');
  const field = known?.field && (fieldAliases[known.field] ?? known.field);
  if (!(field && showFieldError(form, field, text))) {
    showFormError(form, text);
  }
  focusFirstInvalid(form);
}

function describeWait(seconds) {
  return seconds < 90 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;
}

/** A validation message with the API's field name replaced by the field's label: "Picture URL must be…". */
function inWords(input, field, message) {
  const text = String(message ?? '').trim();
  const label = input?.labels?.[0]?.firstChild?.textContent?.trim();
  return sentence(label && text.startsWith(field) ? label + text.slice(field.length) : text);
}

function sentence(message) {
  const text = String(message ?? '').trim();
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function focusFirstInvalid(form) {
  form.querySelector('[aria-invalid="true"]')?.focus();
}

/**
 * Runs `work` for a submitted form: errors cleared, every button of the form
 * disabled (and the form marked busy) until the request has answered.
 */
export function onSubmit(form, work, fieldAliases, messages) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (form.getAttribute('aria-busy') === 'true') {
      return;
    }
    clearErrors(form);
    await busy(form, async () => {
      try {
        await work(new FormData(form));
      } catch (error) {
        showError(form, error, fieldAliases, messages);
      }
    });
  });
}

/** Disables the buttons of `scope` while `work` runs. */
export async function busy(scope, work) {
  const buttons =
    scope instanceof HTMLButtonElement ? [scope] : [...scope.querySelectorAll('button')];
  scope.setAttribute('aria-busy', 'true');
  buttons.forEach((button) => (button.disabled = true));
  try {
    return await work();
  } finally {
    scope.removeAttribute('aria-busy');
    buttons.forEach((button) => (button.disabled = false));
  }
}

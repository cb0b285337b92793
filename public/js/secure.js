// "Was this you?": the screen that a new-device alert's link opens,
// /secure?token=…. One button ends every session of the account and has a
// link to choose a new password mailed; "That was me" goes to the sign-in
// screen and calls nothing.

import * as api from './api.js';
import { clearErrors, onSubmit, showFormError } from './forms.js';

const $ = (id) => document.getElementById(id);

/** What the page does around this screen: set by `setUpSecure`. */
let page = { show: () => {} };

/** The link's token, in memory (and in this history entry's state, for a reload). */
let token = null;

const MESSAGES = {
  invalid_token: {
    text: 'This link is wrong, expired or already used, so nothing has changed. If you still think someone else signed in, reset your password.',
  },
};

export function setUpSecure({ show }) {
  page = { show };
  onSubmit(
    $('secure-form'),
    async () => {
      try {
        await api.secureAccount(token ?? '');
      } catch (error) {
        if (error.code === 'invalid_token') {
          // It will not work again: what is left is the reset.
          $('secure-submit').hidden = true;
          $('secure-forgot').hidden = false;
          $('secure-forgot').focus();
        }
        throw error;
      }
      page.show('secured');
    },
    {},
    MESSAGES,
  );
}

/**
 * Opens the screen for the link in `url`. The token leaves the address bar at
 * once (so the history, a bookmark or a shared screen does not show it); the
 * history entry's state keeps it, so a reload still works.
 */
export function openSecureLink(url) {
  token = url.searchParams.get('token') || history.state?.secureToken || null;
  history.replaceState(token ? { secureToken: token } : null, '', '/secure');
  clearErrors($('secure-form'));
  $('secure-submit').hidden = !token;
  $('secure-forgot').hidden = Boolean(token);
  page.show('secure');
  if (!token) {
    showFormError(
      $('secure-form'),
      'This link is incomplete. Open it again from the mail, exactly as it is. If you think someone else signed in, reset your password.',
    );
  }
}

/** Leaving the screen: the token is forgotten, and the address is the page's own again. */
export function leaveSecureLink() {
  token = null;
  if (location.pathname === '/secure') {
    history.replaceState(null, '', '/');
  }
}

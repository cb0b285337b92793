// Signing in with other providers (OpenID Connect): a button per provider on
// the sign-in screen, the landing step when a provider sends the browser back
// (the fragment's `#code=`, `#linked=` or `#error=`), and the profile's
// "Linked accounts" panel. Each button is a plain navigation: the API answers
// it with a redirect to the provider, and the provider's answer comes back to
// the API, which sends the browser here with the fragment.

/* global URLSearchParams */

import * as api from './api.js';
import { busy } from './forms.js';
import { prepareSecondStep } from './passkeys.js';

const $ = (id) => document.getElementById(id);
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** What the page does around these parts: set by `setUpProviders`. */
let page = {
  show: () => {},
  openAccount: async () => {},
  backToSignIn: () => {},
};

/** The configured providers, `[{ name, label }]`, once loaded (none when they cannot be). */
let providers = [];
let loaded = Promise.resolve();

const labelOf = (name) => providers.find((provider) => provider.name === name)?.label ?? null;

/** Where the provider's answer brings the browser back: this page (one of OIDC_REDIRECT_URLS). */
const returnUrl = () => `${location.origin}/`;

// Which provider a flow went to, and whether it links one to the signed-in
// account: kept by this tab across the provider's pages (sessionStorage), for
// the words of the answer. The API's fragment names neither.
const FLOW = 'auth.providerFlow';

function remember(provider, link) {
  try {
    sessionStorage.setItem(FLOW, JSON.stringify({ provider, link }));
  } catch {
    // Only words: the answer is shown with "the provider" instead.
  }
}

function recall() {
  try {
    const flow = JSON.parse(sessionStorage.getItem(FLOW) ?? 'null');
    sessionStorage.removeItem(FLOW);
    return flow && typeof flow === 'object' ? flow : null;
  } catch {
    return null;
  }
}

const DISABLED = 'This account is disabled. Contact the people who run this service.';

/** The words for a provider flow that ended in `#error=<code>` (or a failed exchange of its code). */
function problemText(code, label, link) {
  const subject = label ?? 'The provider';
  const object = label ?? 'the provider';
  switch (code) {
    case 'access_denied':
      return link
        ? `Linking ${object} was cancelled at the provider.`
        : 'Sign-in was cancelled at the provider.';
    case 'invalid_state':
      return link
        ? 'That link request expired or was opened in another browser; start again.'
        : 'That sign-in link expired or was opened in another browser; start again.';
    case 'account_exists':
      return `An account with this email already exists. Sign in with your password, then link ${object} from your profile.`;
    case 'email_not_verified':
      return `${subject} has not verified your email address, so it cannot sign you in here. Confirm the address at ${object} first, or create an account with your email and a password.`;
    case 'provider_error':
      return `${subject} could not be reached or answered with an error; try again later.`;
    case 'identity_taken':
      return label
        ? `That ${label} account is already linked to another account.`
        : "That provider's account is already linked to another account.";
    case 'account_disabled':
      return DISABLED;
    case 'invalid_code':
      return 'That sign-in took too long or was already finished; start again.';
    default:
      return link
        ? `Linking ${object} did not work; try again.`
        : `Signing in with ${object} did not work; try again.`;
  }
}

function authorizeUrl(name) {
  return `/api/v1/auth/oidc/${encodeURIComponent(name)}/authorize?redirectTo=${encodeURIComponent(returnUrl())}`;
}

/** The sign-in screen's buttons: "Continue with <label>", one per provider (none without any). */
function renderButtons() {
  $('signin-providers-list').replaceChildren(
    ...providers.map((provider) => {
      const item = document.createElement('li');
      const link = document.createElement('a');
      link.className = 'button secondary';
      link.href = authorizeUrl(provider.name);
      link.textContent = `Continue with ${provider.label}`;
      link.addEventListener('click', () => remember(provider.name, false));
      item.append(link);
      return item;
    }),
  );
  // One "or" above the other ways in: the passkey button's, when it shows.
  $('signin-providers-or').hidden = !$('signin-passkey-form').hidden;
  $('signin-providers').hidden = providers.length === 0;
}

/** Signs in with the code of the fragment: the account, or the second step for one that has it. */
async function exchange(code, label) {
  try {
    await api.signInWithProvider(code);
  } catch (error) {
    if (error.code !== 'mfa_required') {
      // A network, rate-limit or service problem says itself; any other answer means the code
      // no longer works (spent, expired, or never given).
      const passing = error.status === 0 || error.status === 429 || error.status >= 500;
      page.backToSignIn(
        error.code === 'account_disabled'
          ? DISABLED
          : passing
            ? error.detail || 'The service is busy or down for a moment. Try again shortly.'
            : problemText('invalid_code', label, false),
      );
      return;
    }
    if (!prepareSecondStep(error.methods)) {
      api.forgetSecondStep();
      page.backToSignIn(
        'This account signs in with a passkey as its second step, and this browser cannot use passkeys. Try another browser.',
      );
      return;
    }
    page.show('second-step');
    return;
  }
  await page.openAccount();
}

/**
 * The landing step: when a provider's answer brought the browser back with a
 * fragment, it leaves the address bar, and the page goes on from it. False
 * when the page was opened without one.
 */
export async function land() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const [code, linked, error] = ['code', 'linked', 'error'].map((key) => fragment.get(key));
  if (code === null && linked === null && error === null) {
    return false;
  }
  // The code is single use, and nothing of it should stay in the history or a bookmark.
  history.replaceState(null, '', location.pathname + location.search);
  const flow = recall();
  await loaded;
  const name = linked ?? fragment.get('provider') ?? flow?.provider ?? null;
  // Unknown (the flow began in another tab): with one provider configured, it was that one.
  const label = labelOf(name) ?? (!name && providers.length === 1 ? providers[0].label : null);
  if (code !== null) {
    await exchange(code, label);
    return true;
  }
  if (linked !== null) {
    if (await api.restore()) {
      await page.openAccount(`Linked ${label ?? linked}.`);
    } else {
      page.show('signin', `Linked ${label ?? linked}. Sign in to use it.`);
    }
    return true;
  }
  const link = flow ? flow.link === true : error === 'identity_taken';
  const text = problemText(error, label, link);
  if ((link || !flow) && (await api.restore())) {
    // A link started from the profile: its answer shows in the panel.
    await page.openAccount();
    showPanelError(text);
    $('identities-title').focus();
    return true;
  }
  page.backToSignIn(text);
  return true;
}

// Profile: the "Linked accounts" panel.
function showPanelError(text) {
  const slot = $('identities-error');
  slot.textContent = text;
  slot.hidden = false;
}

function showNotice(text) {
  const notice = $('notice');
  notice.textContent = text;
  notice.hidden = false;
}

/** Forgets what the panel showed. */
export function resetIdentitiesCard() {
  $('identities-list').replaceChildren();
  $('identities-status').textContent = 'Loading…';
  $('identities-status').hidden = false;
  $('identities-error').hidden = true;
}

export async function renderIdentities() {
  await loaded;
  $('identities-panel').hidden = providers.length === 0;
  if (providers.length === 0) {
    return;
  }
  $('identities-error').hidden = true;
  let identities;
  try {
    identities = await api.listIdentities();
  } catch (error) {
    $('identities-status').hidden = true;
    showPanelError(
      (error instanceof api.ApiError && error.detail) ||
        'Your linked accounts could not be loaded. Try again.',
    );
    return;
  }
  $('identities-status').hidden = true;
  // Every configured provider, linked or not; and a linked one no longer configured, to unlink it.
  const rows = providers.map((provider) =>
    identityRow(
      provider,
      identities.find((identity) => identity.provider === provider.name),
    ),
  );
  for (const identity of identities) {
    if (!labelOf(identity.provider)) {
      rows.push(identityRow({ name: identity.provider, label: identity.provider }, identity));
    }
  }
  $('identities-list').replaceChildren(...rows);
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

function when(timestamp) {
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime()) ? 'at an unknown time' : dateFormat.format(date);
}

function identityRow(provider, identity) {
  const row = element('li');
  row.dataset.provider = provider.name;
  const name = element('div', 'name', provider.label);
  const details = element('div', 'muted');
  const actions = element('div', 'actions');
  const action = element('button', 'secondary', identity ? 'Unlink' : 'Link');
  action.type = 'button';
  action.setAttribute('aria-label', `${identity ? 'Unlink' : 'Link'} ${provider.label}`);
  actions.append(action);
  if (identity) {
    name.append(element('span', 'badge', 'linked'));
    const used = identity.lastUsedAt ? `last used ${when(identity.lastUsedAt)}` : 'not used yet';
    details.append(
      ...(identity.email ? [element('span', 'email', identity.email), element('br')] : []),
      `Linked ${when(identity.linkedAt)} · ${used}`,
    );
    action.addEventListener('click', () => busy(action, () => unlink(provider)));
  } else {
    details.textContent = `Not linked: link it to sign in with ${provider.label}.`;
    action.addEventListener('click', () => busy(action, () => link(provider)));
  }
  row.append(name, details, actions);
  return row;
}

async function unlink(provider) {
  $('identities-error').hidden = true;
  try {
    await api.unlinkIdentity(provider.name);
  } catch (error) {
    if (error.code === 'not_found') {
      await renderIdentities();
      showPanelError(`${provider.label} is no longer linked to your account.`);
      return;
    }
    showPanelError(
      error.detail ||
        (error.code === 'last_sign_in_method'
          ? `${provider.label} is the last way to sign in to your account: set a password or add a passkey first.`
          : `${provider.label} could not be unlinked. Try again.`),
    );
    return;
  }
  await renderIdentities();
  $('identities-title').focus();
  showNotice(`Unlinked ${provider.label}. It no longer signs you in.`);
}

async function link(provider) {
  $('identities-error').hidden = true;
  let authorizeUrl;
  try {
    ({ authorizeUrl } = await api.linkIdentity(provider.name, returnUrl()));
  } catch (error) {
    if (error.code === 'identity_taken') {
      await renderIdentities();
      showPanelError(`An account of ${provider.label} is already linked to yours.`);
      return;
    }
    showPanelError(error.detail || `${provider.label} could not be linked. Try again.`);
    return;
  }
  remember(provider.name, true);
  location.assign(authorizeUrl);
}

/** Loads the providers and wires their parts of the page; `hooks` are what the page does around them. */
export function setUpProviders(hooks) {
  page = { ...page, ...hooks };
  loaded = api
    .signInProviders()
    .then((list) => {
      providers = Array.isArray(list)
        ? list.filter((provider) => provider && typeof provider.name === 'string')
        : [];
    })
    .catch(() => {
      // Without the list, the page offers no provider: the other ways in still work.
      providers = [];
    })
    .then(renderButtons);
}

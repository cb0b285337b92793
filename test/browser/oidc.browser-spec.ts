/// <reference lib="dom" />
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Page, Response } from 'playwright-core';
import { callbackUrl, freePort, OidcTestProvider } from '../support/oidc-provider';
import { Authenticator } from '../support/totp';
import {
  expectView,
  hasCount,
  hasText,
  person,
  SHOTS,
  shot,
  sidewaysOverflow,
  signIn,
  signUp,
  STRONG,
  type Tab,
  useBrowserRig,
} from './support';

/**
 * Signing in with another provider on the web page, against a real OpenID
 * provider (npm `oidc-provider`, test/support/oidc-provider.ts) whose own
 * login and consent pages (its devInteractions) Chromium goes through: any
 * password is accepted there, and the login names one of the accounts whose
 * claims each test sets.
 *
 * The service is told the provider's issuer before it starts (the port is
 * chosen first); the provider starts once the service's address, hence its
 * callback, is known. Until then its discovery fails, as for a provider that
 * is down when the service starts.
 */
const NAME = 'idp';
const LABEL = 'Test IdP';
const CLIENT_ID = 'auth-service-browser';
const CLIENT_SECRET = randomBytes(24).toString('base64url');

const env: Record<string, string> = {};
let providerPort = 0;
// Runs before the rig's beforeAll, which reads `env` when it starts the service.
beforeAll(async () => {
  providerPort = await freePort();
  Object.assign(env, {
    OIDC_PROVIDERS: NAME,
    OIDC_IDP_ISSUER: `http://127.0.0.1:${providerPort}`,
    OIDC_IDP_CLIENT_ID: CLIENT_ID,
    OIDC_IDP_CLIENT_SECRET: CLIENT_SECRET,
    OIDC_IDP_LABEL: LABEL,
  });
});
const rig = useBrowserRig(env);

let idp: OidcTestProvider | undefined;
const provider = () => {
  if (!idp) {
    throw new Error('the OpenID provider is not running');
  }
  return idp;
};

beforeAll(async () => {
  idp = await OidcTestProvider.start({
    port: providerPort,
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [callbackUrl(rig.base, NAME)],
      },
    ],
  });
  // The service tried the provider's discovery as it started, while the provider was down: it
  // still runs, and reaches the provider once asked again (after a short pause it keeps after a
  // failure, during which the button answers #error=provider_error at once).
  const authorize = `${rig.base}/api/v1/auth/oidc/${NAME}/authorize?redirectTo=${encodeURIComponent(`${rig.base}/`)}`;
  const deadline = Date.now() + 20000;
  for (;;) {
    const reply = await fetch(authorize, { redirect: 'manual' });
    const location = reply.headers.get('location') ?? '';
    if (reply.status === 302 && location.startsWith(`${provider().issuer}/`)) {
      break;
    }
    if (Date.now() > deadline) {
      throw new Error(`the service does not reach the provider: ${reply.status} ${location}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}, 60000);
afterAll(async () => {
  await idp?.stop();
});

/** A tab whose provider pages load without the Internet (they @import a web font). */
async function openTab(viewport?: { width: number; height: number }): Promise<Tab> {
  const tab = await rig.openTab(viewport);
  await tab.context.route(/^https:\/\/fonts\.(googleapis|gstatic)\.com\//, (route) =>
    route.fulfill({ status: 200, contentType: 'text/css', body: '' }),
  );
  return tab;
}

/** An account at the provider: its login there, with the claims given. */
async function providerAccount(claims: {
  email: string;
  email_verified?: boolean;
  name?: string;
}): Promise<string> {
  const login = `idp-${randomBytes(5).toString('hex')}`;
  await provider().setAccount(login, { email_verified: true, ...claims });
  return login;
}

const continueButton = (page: Page) => page.getByRole('link', { name: `Continue with ${LABEL}` });

/** The next page the main frame commits to: its URL. */
const nextPage = (page: Page) =>
  page
    .waitForEvent('framenavigated', {
      predicate: (frame) => frame === page.mainFrame(),
      timeout: 20000,
    })
    .then((frame) => new URL(frame.url()));

/**
 * Starts a provider flow with `go` (a click on the page), then goes through
 * the provider's own pages as the person would: its login page (the login of
 * `login`, any password), its consent page ("Continue"), or neither when the
 * provider remembers this browser. Resolves once the browser is back on the
 * page, with the address it came back to (its fragment).
 */
async function throughProvider(
  page: Page,
  go: () => Promise<void>,
  login: string,
  options: { shotLogin?: string; cancel?: boolean } = {},
): Promise<URL> {
  const app = new URL(rig.base).origin;
  let next = nextPage(page);
  await go();
  for (let hop = 0; hop < 5; hop += 1) {
    const url = await next;
    if (url.origin === app) {
      return url;
    }
    expect(url.origin).toBe(provider().issuer);
    await page.waitForLoadState('domcontentloaded');
    next = nextPage(page);
    if (options.cancel) {
      await page.getByRole('link', { name: '[ Cancel ]' }).click();
    } else if (await page.locator('input[name=login]').count()) {
      if (options.shotLogin) {
        await shot(page, options.shotLogin);
      }
      await page.fill('input[name=login]', login);
      await page.fill('input[name=password]', 'anything at all');
      await page.click('button[type=submit]');
    } else {
      // The consent page: the service asks for openid, email and profile.
      await page.click('button[type=submit]:has-text("Continue")');
    }
  }
  throw new Error(`still at the provider: ${page.url()}`);
}

/** The page strips the fragment from the address bar at once: no code stays in the history. */
async function fragmentGone(page: Page): Promise<void> {
  await page.waitForFunction(() => location.hash === '');
  expect(page.url()).toBe(`${rig.base}/`);
}

/** A new person, signed up and confirmed through the page: the account view is open. */
async function newAccount(tab: Tab): Promise<ReturnType<typeof person>> {
  const who = person();
  await signUp(tab.page, who);
  await tab.page.fill('#verify-code', await rig.newestCode(who.email));
  await tab.page.click('#verify-form button[type=submit]');
  await expectView(tab.page, 'account');
  return who;
}

async function signOut(page: Page): Promise<void> {
  await page.click('#signout');
  await expectView(page, 'signin');
}

const identityRow = (page: Page) => page.locator(`#identities-list li[data-provider="${NAME}"]`);

async function fitsPhone(page: Page, name: string): Promise<void> {
  await page.setViewportSize({ width: 320, height: 740 });
  await shot(page, `oidc-phone-320-${name}`);
  expect(await sidewaysOverflow(page)).toEqual({ root: 0, body: 0, sticksOut: [] });
  await page.setViewportSize({ width: 1024, height: 800 });
}

const EXPECTED = {
  access_denied: 'Sign-in was cancelled at the provider.',
  invalid_state: 'That sign-in link expired or was opened in another browser; start again.',
  account_exists: `An account with this email already exists. Sign in with your password, then link ${LABEL} from your profile.`,
  email_not_verified: `${LABEL} has not verified your email address`,
  provider_error: `${LABEL} could not be reached or answered with an error; try again later.`,
  identity_taken: `That ${LABEL} account is already linked to another account.`,
  account_disabled: 'This account is disabled.',
};

describe('Signing in with another provider on the web page', () => {
  it('should sign up through the provider, sign out, and sign in through it again', async () => {
    const tab = await openTab();
    const { page } = tab;
    const email = `grace.${randomBytes(4).toString('hex')}@example.org`;
    const login = await providerAccount({ email, name: 'Grace Hopper' });

    // One button per provider, a plain link to the API's authorize route, back to this page.
    await continueButton(page).waitFor({ state: 'visible' });
    await hasCount(page.locator('#signin-providers-list li'), 1);
    expect(await continueButton(page).getAttribute('href')).toBe(
      `/api/v1/auth/oidc/${NAME}/authorize?redirectTo=${encodeURIComponent(`${rig.base}/`)}`,
    );
    await shot(page, 'oidc-01-sign-in');
    await fitsPhone(page, 'sign-in');

    // The provider's own login page, its consent page, and back: a new account, signed in.
    const back = await throughProvider(page, () => continueButton(page).click(), login, {
      shotLogin: 'oidc-02-provider-login',
    });
    expect(back.hash).toMatch(/^#code=./);
    await expectView(page, 'account');
    await fragmentGone(page);
    await hasText(page.locator('#profile-email'), email);
    await hasText(page.locator('#profile-name'), 'Grace Hopper');
    await hasText(identityRow(page), LABEL);
    await hasText(identityRow(page), email);
    await hasText(identityRow(page), 'Linked ');
    await page.getByRole('button', { name: `Unlink ${LABEL}` }).waitFor({ state: 'visible' });
    // The page's own cookies: the refresh cookie, and no more the flow's (cleared at the callback).
    const ours = (await tab.context.cookies()).filter((cookie) => cookie.domain === 'localhost');
    expect(ours).toEqual([expect.objectContaining({ name: 'auth_refresh', httpOnly: true })]);
    await shot(page, 'oidc-03-signed-up');

    // The provider is the only way in: unlinking it is refused, in the API's words.
    const refused = page.waitForResponse(
      (response) =>
        response.request().method() === 'DELETE' &&
        response.url().endsWith(`/users/me/identities/${NAME}`),
    );
    await page.getByRole('button', { name: `Unlink ${LABEL}` }).click();
    const answer = await refused;
    expect(answer.status()).toBe(409);
    const problem = (await answer.json()) as { code: string; detail: string };
    expect(problem.code).toBe('last_sign_in_method');
    expect(problem.detail).toBeTruthy();
    await hasText(page.locator('#identities-error'), problem.detail);
    await hasText(identityRow(page), email);

    // Signed out, and in again the same way, with the keyboard: the same account (the provider
    // remembers this browser, so it sends it straight back).
    await signOut(page);
    await throughProvider(
      page,
      async () => {
        await continueButton(page).focus();
        await page.keyboard.press('Enter');
      },
      login,
    );
    await expectView(page, 'account');
    await fragmentGone(page);
    await hasText(page.locator('#profile-email'), email);
    await hasText(identityRow(page), 'last used');
    await page.reload();
    await expectView(page, 'account');
    await hasText(page.locator('#profile-email'), email);

    expect(tab.consoleErrors).toEqual([]);
    await tab.context.close();
  });

  it('should link the provider to a password account from the profile, then sign in either way', async () => {
    const tab = await openTab();
    const { page } = tab;
    const who = await newAccount(tab);
    // Its account at the provider has another address: linking goes by the account, not the email.
    const work = `ada.${randomBytes(4).toString('hex')}@work.example.org`;
    const login = await providerAccount({ email: work, name: 'Ada at work' });

    // The panel lists the provider, not linked.
    await page.locator('#identities-panel').waitFor({ state: 'visible' });
    await hasText(identityRow(page), 'Not linked');
    await page.getByRole('button', { name: `Link ${LABEL}` }).waitFor({ state: 'visible' });

    // Link: the provider's pages, then back on the profile, with the provider linked.
    const back = await throughProvider(
      page,
      () => page.getByRole('button', { name: `Link ${LABEL}` }).click(),
      login,
    );
    expect(back.hash).toBe(`#linked=${NAME}`);
    await expectView(page, 'account');
    await fragmentGone(page);
    await hasText(page.locator('#notice'), `Linked ${LABEL}.`);
    await hasText(page.locator('#profile-email'), who.email);
    await hasText(identityRow(page), work);
    await hasText(identityRow(page), 'not used yet');
    await page
      .locator('#identities-card')
      .screenshot({ path: join(SHOTS, 'oidc-linked-accounts.png') });
    await shot(page, 'oidc-04-linked');
    await rig.sink.waitFor((m) => m.to.includes(who.email) && /provider/i.test(m.subject));
    await fitsPhone(page, 'profile');

    // Signed out, in with the provider: the same account.
    await signOut(page);
    await throughProvider(page, () => continueButton(page).click(), login);
    await expectView(page, 'account');
    await hasText(page.locator('#profile-email'), who.email);
    await hasText(identityRow(page), 'last used');

    // And with the password: it still works.
    await signOut(page);
    await signIn(page, who.email, STRONG);
    await expectView(page, 'account');
    await hasText(page.locator('#profile-email'), who.email);

    // With two-step sign-in on, the provider's sign-in asks for the second step too.
    await page.fill('#mfa-setup-password', STRONG);
    await page.click('#mfa-setup-form button[type=submit]');
    await page.locator('#mfa-confirm-form').waitFor({ state: 'visible' });
    const app = new Authenticator(((await page.textContent('#mfa-secret')) ?? '').trim());
    await page.fill('#mfa-confirm-code', await app.next());
    await page.click('#mfa-confirm-form button[type=submit]');
    await page.click('#mfa-codes-done');
    await signOut(page);
    await throughProvider(page, () => continueButton(page).click(), login);
    await expectView(page, 'second-step');
    await fragmentGone(page);
    await page.fill('#second-step-code', await app.next());
    await page.click('#second-step-form button[type=submit]');
    await expectView(page, 'account');
    await hasText(page.locator('#profile-email'), who.email);

    // Unlink: the password still signs in, so it may go.
    await page.getByRole('button', { name: `Unlink ${LABEL}` }).click();
    await hasText(identityRow(page), 'Not linked');
    await hasText(page.locator('#notice'), `Unlinked ${LABEL}.`);

    expect(tab.consoleErrors).toEqual([]);
    await tab.context.close();
  });

  it('should refuse a provider account whose email belongs to a password account, and say what to do', async () => {
    const tab = await openTab();
    const { page } = tab;
    const who = await newAccount(tab);
    await signOut(page);
    const login = await providerAccount({ email: who.email, name: 'Not Ada' });

    const back = await throughProvider(page, () => continueButton(page).click(), login);
    expect(back.hash).toBe('#error=account_exists');
    await expectView(page, 'signin');
    await fragmentGone(page);
    await hasText(page.locator('#signin-form .form-error'), EXPECTED.account_exists);
    await shot(page, 'oidc-05-account-exists');

    // Nothing was linked: the password signs in, and the panel offers to link the provider.
    await signIn(page, who.email, STRONG);
    await expectView(page, 'account');
    await hasText(page.locator('#profile-name'), who.fullName);
    await hasText(identityRow(page), 'Not linked');

    expect(tab.consoleErrors).toEqual([]);
    await tab.context.close();
  });

  it('should say on the profile when the provider account is linked to another account', async () => {
    const tab = await openTab();
    const { page } = tab;
    // Someone signs up through the provider in this browser, then signs out (not at the provider).
    const login = await providerAccount({
      email: `b.${randomBytes(4).toString('hex')}@example.org`,
    });
    await throughProvider(page, () => continueButton(page).click(), login);
    await expectView(page, 'account');
    await signOut(page);

    // Another account, with a password, tries to link the provider: the provider answers with the
    // account already linked to the first one.
    const who = await newAccount(tab);
    const back = await throughProvider(
      page,
      () => page.getByRole('button', { name: `Link ${LABEL}` }).click(),
      login,
    );
    expect(back.hash).toBe('#error=identity_taken');
    await expectView(page, 'account');
    await fragmentGone(page);
    await hasText(page.locator('#profile-email'), who.email);
    await hasText(page.locator('#identities-error'), EXPECTED.identity_taken);
    await hasText(identityRow(page), 'Not linked');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('identities-title');
    await page
      .locator('#identities-card')
      .screenshot({ path: join(SHOTS, 'oidc-07-identity-taken.png') });

    expect(tab.consoleErrors).toEqual([]);
    await tab.context.close();
  });

  it('should say why a provider sign-in ended without one, for every answer', async () => {
    const tab = await openTab();
    const { page } = tab;
    const login = await providerAccount({
      email: `x.${randomBytes(4).toString('hex')}@example.org`,
    });

    // Cancelled at the provider's login page.
    const back = await throughProvider(page, () => continueButton(page).click(), login, {
      cancel: true,
    });
    expect(back.hash).toBe('#error=access_denied');
    await expectView(page, 'signin');
    await fragmentGone(page);
    await hasText(page.locator('#signin-form .form-error'), EXPECTED.access_denied);

    // An address the provider has not verified creates nothing.
    const unverified = await providerAccount({
      email: `u.${randomBytes(4).toString('hex')}@example.org`,
      email_verified: false,
    });
    const refused = await throughProvider(page, () => continueButton(page).click(), unverified);
    expect(refused.hash).toBe('#error=email_not_verified');
    await expectView(page, 'signin');
    await fragmentGone(page);
    await hasText(page.locator('#signin-form .form-error'), EXPECTED.email_not_verified);

    // Each answer of the API's callback, as the page reads it from the fragment.
    // (A new document each time: a change of the fragment alone does not load the page.)
    for (const [code, text] of Object.entries(EXPECTED)) {
      await page.goto('about:blank');
      await page.goto(`${rig.base}/#error=${code}`);
      await expectView(page, 'signin');
      await fragmentGone(page);
      await hasText(page.locator('#signin-form .form-error'), text);
    }
    await shot(page, 'oidc-06-error');

    // A code that is spent, or was never given.
    const exchanged = page.waitForResponse((response: Response) =>
      response.url().endsWith('/api/v1/auth/oidc/exchange'),
    );
    await page.goto('about:blank');
    await page.goto(`${rig.base}/#code=not-a-code`);
    expect((await exchanged).status()).toBe(400);
    await expectView(page, 'signin');
    await fragmentGone(page);
    await hasText(
      page.locator('#signin-form .form-error'),
      'That sign-in took too long or was already finished; start again.',
    );

    expect(tab.consoleErrors).toEqual([]);
    await tab.context.close();
  });

  it('should show no provider button and no Linked accounts panel when none is configured', async () => {
    const tab = await openTab();
    const { page } = tab;
    await page.route('**/api/v1/auth/oidc/providers', (route) =>
      route.fulfill({ status: 200, contentType: 'application/json', body: '[]' }),
    );
    await page.reload();
    await expectView(page, 'signin');
    await newAccount(tab);
    await page.locator('#mfa-status .badge').waitFor({ state: 'visible' });
    expect(await page.isVisible('#identities-panel')).toBe(false);
    await signOut(page);
    expect(await page.isVisible('#signin-providers')).toBe(false);
    await hasCount(continueButton(page), 0);

    expect(tab.consoleErrors).toEqual([]);
    await tab.context.close();
  });
});

/// <reference lib="dom" />
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
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
 * Passkeys on the web page, as their owner uses them, with Chromium's virtual
 * authenticator (the DevTools protocol's WebAuthn domain) standing in for the
 * device's own: a CTAP2 platform authenticator with resident keys and user
 * verification, on the service's own origin (http://localhost:PORT, the RP ID
 * `localhost`).
 *
 * Chromium answers a request for a passkey at once in this virtual
 * environment, a conditional one (the email field's autofill) included: as if
 * the person picked the passkey from the field's suggestions as soon as the
 * sign-in screen shows. Where a test wants the sign-in screen to stay, it
 * turns the authenticator's presence simulation off first (the autofill
 * request then waits, as it does for a person who ignores the suggestions),
 * and on again before the person's own choice.
 */
const rig = useBrowserRig();

interface VirtualAuthenticator {
  cdp: CDPSession;
  authenticatorId: string;
  /** The passkeys it holds: their credential ids (base64) and user handles. */
  credentials: () => Promise<Array<{ credentialId: string; isResidentCredential: boolean }>>;
  /** Whether it answers by itself (a person touching it); off, requests wait. */
  presence: (on: boolean) => Promise<void>;
}

async function virtualAuthenticator(tab: Tab): Promise<VirtualAuthenticator> {
  const cdp = await tab.context.newCDPSession(tab.page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    cdp,
    authenticatorId,
    credentials: async () =>
      (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
    presence: async (on) => {
      await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: on });
    },
  };
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

const rows = (page: Page) => page.locator('#passkeys-list li');
const row = (page: Page, name: string) =>
  page.locator('#passkeys-list li', { has: page.locator('.name', { hasText: name }) });

async function addPasskey(page: Page, name: string, count: number): Promise<void> {
  await page.locator('#passkey-add-form').waitFor({ state: 'visible' });
  await page.fill('#passkey-add-name', name);
  await page.click('#passkey-add-form button[type=submit]');
  await hasCount(rows(page), count);
  await hasText(page.locator('#notice'), `The passkey "${name}" is added`);
}

/** Signs out with the authenticator waiting: the sign-in screen stays (its autofill request waits too). */
async function signOut(page: Page, authenticator: VirtualAuthenticator): Promise<void> {
  await authenticator.presence(false);
  await page.click('#signout');
  await expectView(page, 'signin');
}

const status = (page: Page, expected: 'on' | 'off') =>
  hasText(page.locator('#mfa-status .badge'), new RegExp(`^${expected}$`));

describe('Passkeys on the web page', () => {
  it('should serve SimpleWebAuthn browser modules for the page, and nothing else of that package', async () => {
    const script = await fetch(`${rig.base}/vendor/simplewebauthn/index.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^(application|text)\/javascript/);
    expect(script.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await script.text()).toContain('startAuthentication');
    const nested = await fetch(`${rig.base}/vendor/simplewebauthn/methods/startRegistration.js`);
    expect(nested.status).toBe(200);
    for (const other of ['index.d.ts', 'index.d.ts.map', 'package.json', '']) {
      const response = await fetch(`${rig.base}/vendor/simplewebauthn/${other}`);
      expect([other, response.status]).toEqual([other, 404]);
    }
    // The module a page imports reaches its relative imports on the same origin.
    const tab = await rig.openTab();
    expect(
      await tab.page.evaluate(async () => {
        const url = '/vendor/simplewebauthn/index.js';
        const module = (await import(url)) as Record<string, unknown>;
        return ['startRegistration', 'startAuthentication', 'WebAuthnAbortService'].every(
          (name) => name in module,
        );
      }),
    ).toBe(true);
    expect(tab.consoleErrors).toEqual([]);
    await tab.context.close();
  });

  it('should add a passkey on the profile, rename it, sign in with it alone, use it as the second step, and remove it', async () => {
    const tab = await rig.openTab();
    const { page } = tab;
    const authenticator = await virtualAuthenticator(tab);
    // The email field offers passkeys in its suggestions.
    expect(await page.getAttribute('#signin-login', 'autocomplete')).toBe('username webauthn');
    await page.locator('#signin-passkey-form button').waitFor({ state: 'visible' });
    const who = await newAccount(tab);

    // No passkey yet; password sign-in is one step.
    await hasText(page.locator('#passkeys-status'), 'No passkeys yet');
    await status(page, 'off');

    // Add one with a name: the authenticator now holds a discoverable credential for this site.
    await addPasskey(page, 'Work laptop', 1);
    const [credential] = await authenticator.credentials();
    expect(credential).toEqual(expect.objectContaining({ isResidentCredential: true }));
    await hasText(row(page, 'Work laptop'), 'not used yet');
    await hasText(row(page, 'Work laptop'), 'Added ');
    // A passkey is a second factor too: password sign-ins now ask for one.
    await status(page, 'on');
    await hasText(page.locator('#mfa-status'), 'one of your passkeys');
    await rig.sink.waitFor((m) => m.to.includes(who.email) && /passkey/i.test(m.subject));
    // Every input of the page, the new ones too, has a label.
    expect(
      await page.evaluate(() =>
        [...document.querySelectorAll('input')].every((input) => input.labels?.length),
      ),
    ).toBe(true);
    await shot(page, 'passkeys-01-added');

    // Rename it in place.
    await page.getByRole('button', { name: 'Rename the passkey Work laptop' }).click();
    const rename = row(page, 'Work laptop').locator('form.passkey-rename');
    const nameInput = rename.locator('input[name=name]');
    expect(await nameInput.inputValue()).toBe('Work laptop');
    expect(await nameInput.evaluate((el: HTMLInputElement) => el.labels?.[0]?.textContent)).toBe(
      'New name for Work laptop',
    );
    await nameInput.fill('   ');
    await rename.locator('button[type=submit]').click();
    await hasText(rename.locator('.field-error'), 'Enter a name');
    await nameInput.fill('Ada’s laptop');
    await rename.locator('button[type=submit]').click();
    await hasText(page.locator('#passkeys-list'), 'Ada’s laptop');
    await hasCount(row(page, 'Work laptop'), 0);
    await hasCount(rows(page), 1);
    await page.locator('#passkeys-card').screenshot({ path: join(SHOTS, 'passkeys-profile.png') });

    // Sign out: the sign-in screen has the passkey button (and the autofill request waits).
    await signOut(page, authenticator);
    await page.waitForTimeout(300);
    await expectView(page, 'signin');
    await shot(page, 'passkeys-sign-in');

    // The passkey alone signs in: no email, no password.
    await authenticator.presence(true);
    await page.click('#signin-passkey-form button[type=submit]');
    await expectView(page, 'account');
    await hasText(page.locator('#profile-email'), who.email);
    await hasText(row(page, 'Ada’s laptop'), 'last used');
    expect(await tab.context.cookies()).toEqual([
      expect.objectContaining({ name: 'auth_refresh', httpOnly: true }),
    ]);
    await page.reload();
    await expectView(page, 'account');

    // Autofill: once signed out, the email field's suggestions hold the passkey, and picking it
    // (at once, for the virtual authenticator) signs in without the button.
    await authenticator.presence(true);
    const autofilled = page.waitForResponse('**/api/v1/auth/passkey/login');
    await page.click('#signout');
    expect((await autofilled).status()).toBe(200);
    await expectView(page, 'account');
    await hasText(page.locator('#profile-email'), who.email);

    // With the password, the sign-in stops at the second step, which offers the passkey alone.
    await signOut(page, authenticator);
    await signIn(page, who.email, STRONG);
    await expectView(page, 'second-step');
    await page.locator('#second-step-passkey-form button').waitFor({ state: 'visible' });
    expect(await page.isVisible('#second-step-form')).toBe(false);
    expect(await page.isVisible('#second-step-code')).toBe(false);
    expect(await page.inputValue('#signin-password')).toBe('');
    await shot(page, 'passkeys-second-step');
    await authenticator.presence(true);
    await page.click('#second-step-passkey-form button[type=submit]');
    await expectView(page, 'account');
    await hasText(page.locator('#profile-email'), who.email);

    // A problem the API states (e.g. the last way in) shows its own words.
    await page.route(
      '**/api/v1/users/me/passkeys/*',
      (route) =>
        route.request().method() === 'DELETE'
          ? route.fulfill({
              status: 409,
              contentType: 'application/problem+json',
              body: JSON.stringify({
                type: 'about:blank',
                title: 'Conflict',
                status: 409,
                code: 'last_sign_in_method',
                detail: 'This passkey is the last way to sign in to your account.',
              }),
            })
          : route.continue(),
      { times: 1 },
    );
    await page.getByRole('button', { name: 'Remove the passkey Ada’s laptop' }).click();
    const remove = row(page, 'Ada’s laptop').locator('form.passkey-remove');
    await remove.locator('input[name=password]').fill(STRONG);
    await remove.locator('button[type=submit]').click();
    await hasText(remove.locator('.form-error'), 'the last way to sign in');
    await page.unroute('**/api/v1/users/me/passkeys/*');

    // Remove it: the password is asked for, and a wrong one (or none) refused beside its field.
    await remove.locator('input[name=password]').fill('');
    await remove.locator('button[type=submit]').click();
    await hasText(remove.locator('.field-error'), 'Enter your password: your account has one.');
    await remove.locator('input[name=password]').fill('not my password');
    await remove.locator('button[type=submit]').click();
    await hasText(remove.locator('.field-error'), /not right/);
    await shot(page, 'passkeys-remove-wrong-password');
    await remove.locator('input[name=password]').fill(STRONG);
    await remove.locator('button[type=submit]').click();
    await hasCount(rows(page), 0);
    await hasText(page.locator('#passkeys-status'), 'No passkeys yet');
    await hasText(page.locator('#notice'), 'is removed');
    await status(page, 'off');
    await rig.sink.waitFor(
      (m) => m.to.includes(who.email) && /passkey/i.test(m.subject) && /remov/i.test(m.subject),
    );

    // The authenticator still holds it, but it no longer signs in; the password alone does.
    await signOut(page, authenticator);
    await authenticator.presence(true);
    await page.click('#signin-passkey-form button[type=submit]');
    await hasText(page.locator('#signin-passkey-form .form-error'), 'not accepted');
    await expectView(page, 'signin');
    await authenticator.presence(false);
    await signIn(page, who.email, STRONG);
    await expectView(page, 'account');

    expect(tab.consoleErrors).toEqual([]);
    await tab.context.close();
  });

  it('should offer the passkey and the authenticator app side by side as the second step', async () => {
    const tab = await rig.openTab();
    const { page } = tab;
    const authenticator = await virtualAuthenticator(tab);
    const who = await newAccount(tab);

    // An authenticator app first (as the two-step spec sets it up), then a passkey.
    await page.fill('#mfa-setup-password', STRONG);
    await page.click('#mfa-setup-form button[type=submit]');
    await page.locator('#mfa-confirm-form').waitFor({ state: 'visible' });
    const app = new Authenticator(((await page.textContent('#mfa-secret')) ?? '').trim());
    await page.fill('#mfa-confirm-code', await app.next());
    await page.click('#mfa-confirm-form button[type=submit]');
    await page.click('#mfa-codes-done');
    await addPasskey(page, 'Phone', 1);

    // The second step offers both: the passkey first, or the app's code.
    await signOut(page, authenticator);
    await signIn(page, who.username, STRONG);
    await expectView(page, 'second-step');
    await page.locator('#second-step-passkey-form button').waitFor({ state: 'visible' });
    await page.locator('#second-step-code').waitFor({ state: 'visible' });
    await hasText(page.locator('#second-step-or'), 'or');
    await shot(page, 'passkeys-second-step-or-code');
    await page.setViewportSize({ width: 320, height: 740 });
    expect(await sidewaysOverflow(page)).toEqual({ root: 0, body: 0, sticksOut: [] });
    await page.setViewportSize({ width: 1024, height: 800 });

    // The code works as before.
    await page.fill('#second-step-code', await app.next());
    await page.click('#second-step-form button[type=submit]');
    await expectView(page, 'account');
    await hasCount(rows(page), 1);

    // And the profile fits a phone.
    await page.setViewportSize({ width: 320, height: 740 });
    await shot(page, 'passkeys-phone-320-profile');
    expect(await sidewaysOverflow(page)).toEqual({ root: 0, body: 0, sticksOut: [] });

    expect(tab.consoleErrors).toEqual([]);
    await tab.context.close();
  });
});

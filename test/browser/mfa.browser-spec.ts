/// <reference lib="dom" />
import type { Page } from 'playwright-core';
import { Authenticator, wrongCode } from '../support/totp';
import {
  expectView,
  hasCount,
  hasText,
  person,
  shot,
  sidewaysOverflow,
  signIn,
  signUp,
  STRONG,
  type Tab,
  useBrowserRig,
} from './support';

/**
 * Two-step sign-in on the web page, as its owner uses it: the authenticator
 * app is otplib, fed the secret the page shows, asked for codes of steps that
 * only go up (the service takes each step once).
 */
const rig = useBrowserRig();

const RECOVERY_CODE = /^[a-z2-9]{5}-[a-z2-9]{5}$/;

/** The on/off badge of the account view's two-step sign-in card. */
const status = (page: Page, expected: 'on' | 'off') =>
  hasText(page.locator('#mfa-status .badge'), new RegExp(`^${expected}$`));

const focusedId = (page: Page) => page.evaluate(() => document.activeElement?.id ?? '');

/** A new person, signed up and confirmed through the page: the account view is open. */
async function newAccount(tab: Tab): Promise<ReturnType<typeof person>> {
  const who = person();
  await signUp(tab.page, who);
  await tab.page.fill('#verify-code', await rig.newestCode(who.email));
  await tab.page.click('#verify-form button[type=submit]');
  await expectView(tab.page, 'account');
  return who;
}

/** Sets up the authenticator from the account view: the secret as the page shows it. */
async function startSetUp(page: Page): Promise<Authenticator> {
  await page.locator('#mfa-setup-form').waitFor({ state: 'visible' });
  await page.fill('#mfa-setup-password', STRONG);
  await page.click('#mfa-setup-form button[type=submit]');
  await page.locator('#mfa-confirm-form').waitFor({ state: 'visible' });
  const secret = ((await page.textContent('#mfa-secret')) ?? '').trim();
  expect(secret).toMatch(/^[A-Z2-7]{16,}=*$/);
  return new Authenticator(secret);
}

/** The recovery codes the page shows now. */
async function shownRecoveryCodes(page: Page): Promise<string[]> {
  await hasCount(page.locator('#mfa-recovery-codes li'), 10);
  const codes = (await page.locator('#mfa-recovery-codes li').allTextContents()).map((code) =>
    code.trim(),
  );
  codes.forEach((code) => expect(code).toMatch(RECOVERY_CODE));
  expect(new Set(codes).size).toBe(10);
  return codes;
}

async function turnOn(page: Page, app: Authenticator): Promise<string[]> {
  await page.fill('#mfa-confirm-code', await app.next());
  await page.click('#mfa-confirm-form button[type=submit]');
  await page.locator('#mfa-codes').waitFor({ state: 'visible' });
  return shownRecoveryCodes(page);
}

async function signOut(page: Page): Promise<void> {
  await page.click('#signout');
  await expectView(page, 'signin');
}

/** Password first; the page then asks for the second step. */
async function firstStep(page: Page, login: string): Promise<void> {
  await signIn(page, login, STRONG);
  await expectView(page, 'second-step');
}

async function secondStep(page: Page, code: string): Promise<void> {
  await page.fill('#second-step-code', code);
  await page.click('#second-step-form button[type=submit]');
}

async function fitsPhone(page: Page, name: string): Promise<void> {
  await page.setViewportSize({ width: 320, height: 740 });
  await shot(page, `mfa-phone-320-${name}`);
  expect(await sidewaysOverflow(page)).toEqual({ root: 0, body: 0, sticksOut: [] });
  await page.setViewportSize({ width: 1024, height: 800 });
}

describe('Two-step sign-in on the web page', () => {
  it('should set up an authenticator app, sign in with its code and with a recovery code, and turn it off', async () => {
    const tab = await rig.openTab();
    const { page } = tab;
    const who = await newAccount(tab);
    await status(page, 'off');
    await hasText(page.locator('#mfa-status'), 'password only');
    expect(await page.isVisible('#mfa-on')).toBe(false);
    // Every input of the page, the new ones too, has a label.
    expect(
      await page.evaluate(() =>
        [...document.querySelectorAll('input')].every((input) => input.labels?.length),
      ),
    ).toBe(true);

    // A wrong password is marked on its field; the right one shows the QR code and the secret.
    await page.fill('#mfa-setup-password', 'not my password');
    await page.click('#mfa-setup-form button[type=submit]');
    await hasText(page.locator('#mfa-setup-password-error'), /not right/);
    const app = await startSetUp(page);
    expect(await focusedId(page)).toBe('mfa-confirm-title');
    const qr = page.locator('#mfa-qr');
    expect(await qr.getAttribute('alt')).toMatch(/QR code/);
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    await page.waitForFunction(() => {
      const img = document.getElementById('mfa-qr') as HTMLImageElement;
      return img.complete && img.naturalWidth > 0;
    });
    expect(await page.getAttribute('#mfa-uri', 'href')).toContain(`secret=${app.secret}`);
    await shot(page, 'mfa-01-set-up');
    await fitsPhone(page, 'set-up');

    // A wrong code is refused beside its field; the app's code turns it on and shows ten recovery codes.
    await page.fill('#mfa-confirm-code', await wrongCode(app.secret));
    await page.click('#mfa-confirm-form button[type=submit]');
    await hasText(page.locator('#mfa-confirm-code-error'), /not right/);
    expect(await page.getAttribute('#mfa-confirm-code', 'aria-invalid')).toBe('true');
    const recoveryCodes = await turnOn(page, app);
    expect(await focusedId(page)).toBe('mfa-codes-title');
    await hasText(page.locator('#mfa-codes'), /somewhere safe/);
    await status(page, 'on');
    await hasText(page.locator('#mfa-status'), '10 recovery codes left');
    // The secret is gone from the page once it is on.
    expect(await page.textContent('#mfa-secret')).toBe('');
    await shot(page, 'mfa-02-recovery-codes');
    await fitsPhone(page, 'recovery-codes');
    await page.click('#mfa-codes-done');
    await page.locator('#mfa-on').waitFor({ state: 'visible' });
    expect(await page.locator('#mfa-recovery-codes li').count()).toBe(0);
    await shot(page, 'mfa-03-on');

    // Sign out; the password alone now leads to the second step.
    await signOut(page);
    await firstStep(page, who.email);
    expect(await focusedId(page)).toBe('second-step-title');
    const input = page.locator('#second-step-code');
    expect(await input.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await input.getAttribute('inputmode')).toBe('text');
    expect(await input.evaluate((el: HTMLInputElement) => el.labels?.[0]?.textContent)).toMatch(
      /authenticator app, or a recovery code/,
    );
    expect(await page.inputValue('#signin-password')).toBe('');
    await shot(page, 'mfa-04-second-step');
    await fitsPhone(page, 'second-step');
    await secondStep(page, await wrongCode(app.secret));
    await hasText(page.locator('#second-step-code-error'), /not right/);
    await shot(page, 'mfa-05-second-step-wrong-code');
    await secondStep(page, '  ');
    await hasText(page.locator('#second-step-code-error'), /^Enter the code/);
    await secondStep(page, await app.next());
    await expectView(page, 'account');
    await hasText(page.locator('#mfa-status'), '10 recovery codes left');
    // The session lives on in the refresh cookie, as after a one-step sign-in.
    expect(await tab.context.cookies()).toEqual([
      expect.objectContaining({ name: 'auth_refresh', httpOnly: true }),
    ]);
    await page.reload();
    await expectView(page, 'account');
    await status(page, 'on');

    // Again, with a recovery code instead of the app (as typed: capitals are fine).
    await signOut(page);
    await firstStep(page, who.username);
    await secondStep(page, recoveryCodes[0].toUpperCase());
    await expectView(page, 'account');
    await hasText(page.locator('#mfa-status'), '9 recovery codes left');
    const notice = await rig.sink.waitFor(
      (m) => m.to.includes(who.email) && /recovery code was used/i.test(m.subject),
    );
    expect(notice.text).toMatch(/\b9\b/);

    // Turn it off with the password and a new code from the app; signing in is one step again.
    await page.fill('#mfa-disable-password', STRONG);
    await page.fill('#mfa-disable-code', await app.next());
    await page.click('#mfa-disable-form button[type=submit]');
    await hasText(page.locator('#notice'), 'Two-step sign-in is off');
    await status(page, 'off');
    await page.locator('#mfa-setup-form').waitFor({ state: 'visible' });
    expect(await page.isVisible('#mfa-on')).toBe(false);
    await signOut(page);
    await signIn(page, who.email, STRONG);
    await expectView(page, 'account');

    expect(tab.consoleErrors).toEqual([]);
    await tab.context.close();
  });

  it('should make new recovery codes, and send a sign-in back to the password when its second step is void', async () => {
    const a = await rig.openTab();
    const who = await newAccount(a);
    const app = await startSetUp(a.page);
    const first = await turnOn(a.page, app);
    await a.page.click('#mfa-codes-done');

    // New recovery codes need a right code from the app; they replace the old ones.
    await a.page.fill('#mfa-regenerate-code', await wrongCode(app.secret));
    await a.page.click('#mfa-regenerate-form button[type=submit]');
    await hasText(a.page.locator('#mfa-regenerate-code-error'), /not right/);
    await a.page.fill('#mfa-regenerate-code', await app.next());
    await a.page.click('#mfa-regenerate-form button[type=submit]');
    await a.page.locator('#mfa-codes').waitFor({ state: 'visible' });
    await hasText(a.page.locator('#mfa-codes-title'), 'new recovery codes');
    const second = await shownRecoveryCodes(a.page);
    expect(second.filter((code) => first.includes(code))).toEqual([]);
    await a.page.click('#mfa-codes-done');

    // An old code no longer works; the fifth wrong code voids the sign-in: back to the password.
    await signOut(a.page);
    await firstStep(a.page, who.email);
    await secondStep(a.page, first[0]);
    await hasText(a.page.locator('#second-step-code-error'), /not right/);
    for (let wrong = 2; wrong <= 4; wrong += 1) {
      await secondStep(a.page, await wrongCode(app.secret));
      await hasText(a.page.locator('#second-step-code-error'), /not right/);
    }
    await secondStep(a.page, await wrongCode(app.secret));
    await expectView(a.page, 'signin');
    await hasText(a.page.locator('#signin-form .form-error'), /Too many wrong codes/);
    await shot(a.page, 'mfa-06-too-many-wrong-codes');

    // Another browser signs in with a new recovery code.
    const b = await rig.openTab();
    await firstStep(b.page, who.email);
    await secondStep(b.page, second[0]);
    await expectView(b.page, 'account');
    await hasText(b.page.locator('#mfa-status'), '9 recovery codes left');

    // The first one stops at its second step while the second turns two-step sign-in off
    // (with the password and a recovery code): the waiting sign-in is void, and starts again.
    await firstStep(a.page, who.email);
    await b.page.fill('#mfa-disable-password', STRONG);
    await b.page.fill('#mfa-disable-code', second[1]);
    await b.page.click('#mfa-disable-form button[type=submit]');
    await hasText(b.page.locator('#notice'), 'Two-step sign-in is off');
    await secondStep(a.page, second[2]);
    await expectView(a.page, 'signin');
    await hasText(a.page.locator('#signin-form .form-error'), /Sign in again/);
    expect(await a.page.inputValue('#signin-login')).toBe(who.email);
    await shot(a.page, 'mfa-07-sign-in-void');
    await a.page.fill('#signin-password', STRONG);
    await a.page.click('#signin-form button[type=submit]');
    await expectView(a.page, 'account');
    await status(a.page, 'off');

    expect(a.consoleErrors).toEqual([]);
    expect(b.consoleErrors).toEqual([]);
    await a.context.close();
    await b.context.close();
  });
});

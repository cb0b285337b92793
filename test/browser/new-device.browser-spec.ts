/// <reference lib="dom" />
import type { Page } from 'playwright-core';
import { type CapturedMail, resetLinkIn } from '../support/smtp-sink';
import {
  expectView,
  hasText,
  person,
  shot,
  sidewaysOverflow,
  signIn,
  signUp,
  STRONG,
  STRONGER,
  type Tab,
  useBrowserRig,
} from './support';

/**
 * New-device sign-in alerts, as the account's owner meets them: a sign-in from
 * another browser (another User-Agent: Firefox on Windows) sends a mail "New
 * sign-in to your account"; its "This wasn't me" link opens the page at
 * /secure?token=…, one button ends every session (the other browser is out at
 * once) and a link to choose a new password comes by mail.
 */
const rig = useBrowserRig();

const FIREFOX_ON_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';

/** A new person, signed up and confirmed through the page: the account view is open. */
async function newAccount(tab: Tab): Promise<ReturnType<typeof person>> {
  const who = person();
  await signUp(tab.page, who);
  await tab.page.fill('#verify-code', await rig.newestCode(who.email));
  await tab.page.click('#verify-form button[type=submit]');
  await expectView(tab.page, 'account');
  return who;
}

/** Another browser (its own cookies) that says it is Firefox on Windows, with the page open. */
async function otherBrowser(tab: Tab): Promise<Tab> {
  const browser = tab.context.browser();
  if (!browser) {
    throw new Error('no browser');
  }
  const context = await browser.newContext({
    userAgent: FIREFOX_ON_WINDOWS,
    viewport: { width: 1024, height: 800 },
  });
  const page = await context.newPage();
  const other: Tab = { context, page, consoleErrors: [], failedLoads: [] };
  page.on('console', (message) => {
    if (message.type() !== 'error') {
      return;
    }
    (/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())
      ? other.failedLoads
      : other.consoleErrors
    ).push(message.text());
  });
  page.on('pageerror', (error) => other.consoleErrors.push(`uncaught: ${error.message}`));
  await page.goto(rig.base);
  return other;
}

const isAlert = (email: string) => (mail: CapturedMail) =>
  mail.to.includes(email) && mail.subject === 'New sign-in to your account';

/** The "This wasn't me" link of an alert. */
function secureLinkIn(mail: CapturedMail): string {
  const match = /(\S+\/secure\?token=[A-Za-z0-9_%-]+)/.exec(mail.text);
  if (!match) {
    throw new Error(`no secure link in mail: ${mail.subject}`);
  }
  return match[1];
}

const focusedId = (page: Page) => page.evaluate(() => document.activeElement?.id ?? '');

async function fitsPhone(page: Page, name: string): Promise<void> {
  await page.setViewportSize({ width: 320, height: 740 });
  await shot(page, `new-device-phone-320-${name}`);
  expect(await sidewaysOverflow(page)).toEqual({ root: 0, body: 0, sticksOut: [] });
  await page.setViewportSize({ width: 1024, height: 800 });
}

describe('New-device sign-in alerts on the web page', () => {
  it('should end every session from the mailed link, the other browser at once, and let a new password be set', async () => {
    const a = await rig.openTab();
    const who = await newAccount(a);

    // Another browser signs in with the password: the alert names it, with the link.
    const b = await otherBrowser(a);
    await expectView(b.page, 'signin');
    await signIn(b.page, who.email, STRONG);
    await expectView(b.page, 'account');
    const alert = await rig.sink.waitFor(isAlert(who.email));
    expect(alert.text).toContain('Browser: Firefox on Windows.');
    expect(alert.text).toContain('How: password.');
    // The sign-in that followed the registration, on its own device, sent none.
    expect(rig.sink.to(who.email).filter(isAlert(who.email))).toHaveLength(1);
    const link = secureLinkIn(alert);
    expect(link.startsWith(`${rig.base}/secure?token=`)).toBe(true);

    // The owner opens the link in the first browser: the question, the token out of the address bar.
    const { page } = a;
    const calls: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/v1/auth/secure-account')) {
        calls.push(request.method());
      }
    });
    await page.goto(link);
    await expectView(page, 'secure');
    expect(page.url()).toBe(`${rig.base}/secure`);
    expect(await page.title()).toBe('Was this you? · Account');
    expect(await focusedId(page)).toBe('secure-title');
    await hasText(page.locator('#view-secure'), 'every session ends at once, on every device');
    expect(await page.isVisible('#secure-forgot')).toBe(false);
    await shot(page, 'new-device-01-was-this-you');
    await fitsPhone(page, 'was-this-you');
    // A reload keeps the question (the token stays in this history entry, not in the address).
    await page.reload();
    await expectView(page, 'secure');
    expect(page.url()).toBe(`${rig.base}/secure`);
    expect(calls).toEqual([]);

    // With the keyboard: from the heading, Tab reaches the button; Enter presses it.
    expect(await focusedId(page)).toBe('secure-title');
    await page.keyboard.press('Tab');
    expect(await focusedId(page)).toBe('secure-submit');
    await page.keyboard.press('Enter');
    await expectView(page, 'secured');
    expect(calls).toEqual(['POST']);
    expect(await focusedId(page)).toBe('secured-title');
    await hasText(page.locator('#view-secured'), 'Done: every session of your account has ended.');
    await hasText(page.locator('#view-secured'), 'the link works for 7 days');
    expect(page.url()).toBe(`${rig.base}/`);
    await shot(page, 'new-device-02-secured');
    await fitsPhone(page, 'secured');

    // The other browser is out at once: its next request lands on the sign-in screen.
    await b.page.fill('#profile-fullName', 'Not Ada');
    await b.page.click('#profile-form button[type=submit]');
    await expectView(b.page, 'signin');
    await hasText(b.page.locator('#notice'), 'Your session has ended');
    await shot(b.page, 'new-device-03-other-browser-out');
    await b.page.reload();
    await expectView(b.page, 'signin');
    // So is this one's own session (it was signed in after the registration).
    await page.goto(rig.base);
    await expectView(page, 'signin');

    // The mailed reset link: a new password, then sign in with it (the old one no longer works).
    const reset = await rig.sink.waitFor(
      (m) => m.to.includes(who.email) && m.subject === 'Reset your password',
    );
    const { href } = resetLinkIn(reset);
    expect(href.startsWith(`${rig.base}/reset?token=`)).toBe(true);
    await page.goto(href);
    await expectView(page, 'reset');
    await page.fill('#reset-newPassword', STRONGER);
    await page.click('#reset-form button[type=submit]');
    await expectView(page, 'signin');
    await hasText(page.locator('#notice'), 'Your password is changed');
    await signIn(page, who.email, STRONG);
    await hasText(page.locator('#signin-password-error'), /not right/);
    await signIn(page, who.email, STRONGER);
    await expectView(page, 'account');
    await shot(page, 'new-device-04-signed-in-again');

    // The link works once: a second press says so in words, and offers a reset.
    await page.goto(link);
    await expectView(page, 'secure');
    await page.click('#secure-submit');
    await hasText(page.locator('#secure-form .form-error'), /^This link is wrong, expired or/);
    await page.locator('#secure-forgot').waitFor({ state: 'visible' });
    expect(await page.isVisible('#secure-submit')).toBe(false);
    expect(await focusedId(page)).toBe('secure-forgot');
    expect(calls).toEqual(['POST', 'POST']);
    await shot(page, 'new-device-05-spent-link');
    await fitsPhone(page, 'spent-link');
    // The session of this browser lived on: that press ended nothing.
    await page.goto(rig.base);
    await expectView(page, 'account');

    expect(a.consoleErrors).toEqual([]);
    expect(b.consoleErrors).toEqual([]);
    await a.context.close();
    await b.context.close();
  });

  it('should go to the sign-in screen on "That was me", calling nothing, and say when a link is incomplete', async () => {
    const tab = await rig.openTab();
    const { page } = tab;
    const calls: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/v1/auth/secure-account')) {
        calls.push(request.url());
      }
    });
    await page.goto(`${rig.base}/secure?token=${'0'.repeat(43)}`);
    await expectView(page, 'secure');
    await page.click('text=That was me');
    await expectView(page, 'signin');
    expect(page.url()).toBe(`${rig.base}/`);
    // The token is gone with the screen: a reload opens the sign-in screen.
    await page.reload();
    await expectView(page, 'signin');

    // A link cut short: no button, what to do instead.
    await page.goto(`${rig.base}/secure`);
    await expectView(page, 'secure');
    await hasText(page.locator('#secure-form .form-error'), 'This link is incomplete');
    expect(await page.isVisible('#secure-submit')).toBe(false);
    await shot(page, 'new-device-06-incomplete-link');
    await fitsPhone(page, 'incomplete-link');
    await page.click('#secure-forgot');
    await expectView(page, 'forgot');
    expect(page.url()).toBe(`${rig.base}/`);

    expect(calls).toEqual([]);
    expect(tab.consoleErrors).toEqual([]);
    await tab.context.close();
  });
});

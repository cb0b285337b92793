/// <reference lib="dom" />
import { createServer, type Server } from 'node:http';
import type { Page } from 'playwright-core';
import { resetLinkIn } from '../support/smtp-sink';
import {
  eventually,
  expectView,
  hasCount,
  hasText,
  isDisabled,
  person,
  shot,
  sidewaysOverflow,
  signIn,
  signUp,
  STRONG,
  STRONGER,
  THIRD,
  useBrowserRig,
} from './support';

/**
 * The web page in Debian's Chromium, driven by playwright-core, against the
 * built app (`dist/`) on the embedded store, with an SMTP server here.
 * Screenshots of every screen go to test-results/screenshots (git-ignored).
 */
// Short-lived access tokens, so the page's refresh ahead of expiry shows within the test.
const rig = useBrowserRig({ JWT_ACCESS_TTL: '8' });
const { openTab, newestCode } = rig;
let pictures: Server;
let pictureUrl: string;

beforeAll(async () => {
  // A picture on another origin, as a user's picture URL would be.
  pictures = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'image/svg+xml' });
    response.end(
      '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><rect width="96" height="96" fill="#2453c4"/><circle cx="48" cy="38" r="18" fill="#fff"/><rect x="18" y="62" width="60" height="26" rx="13" fill="#fff"/></svg>',
    );
  });
  await new Promise<void>((resolve) => pictures.listen(0, '127.0.0.1', resolve));
  const address = pictures.address();
  pictureUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/ada.svg`;
});

afterAll(async () => {
  await new Promise((resolve) => pictures?.close(resolve));
});

describe('The web page in Chromium', () => {
  it('should take a new person from sign-up to deleting the account, with every screen working', async () => {
    const tab = await openTab();
    const { page } = tab;
    const who = person();

    await expectView(page, 'signin');
    await shot(page, '01-sign-in');
    // Every input has a label.
    expect(
      await page.evaluate(() =>
        [...document.querySelectorAll('input')].every((input) => input.labels?.length),
      ),
    ).toBe(true);

    // Sign up: a weak password is explained next to the password field.
    await page.click('text=Create an account');
    await expectView(page, 'signup');
    await page.fill('#signup-email', who.email);
    await page.fill('#signup-username', who.username);
    await page.fill('#signup-fullName', who.fullName);
    await page.fill('#signup-password', 'password123');
    await page.click('#signup-form button[type=submit]');
    await hasText(page.locator('#signup-password-error'), /too weak/i);
    expect(await page.getAttribute('#signup-password', 'aria-invalid')).toBe('true');
    await shot(page, '02-sign-up-weak-password');
    await page.fill('#signup-password', STRONG);
    await page.click('#signup-form button[type=submit]');
    await expectView(page, 'verify');
    await hasText(page.locator('#verify-email'), who.email);
    await shot(page, '03-verify');

    // A wrong code, then the right one from the real mail: signed in.
    await page.fill('#verify-code', '000000');
    await page.click('#verify-form button[type=submit]');
    await hasText(page.locator('#verify-code-error'), /not right/);
    await shot(page, '04-verify-wrong-code');
    await page.fill('#verify-code', await newestCode(who.email));
    await page.click('#verify-form button[type=submit]');
    await expectView(page, 'account');
    await hasText(page.locator('#notice'), /confirmed/);
    await hasText(page.locator('#profile-name'), who.fullName);
    await hasCount(page.locator('#sessions-list li'), 1);
    await hasText(page.locator('#sessions-list li').first(), 'this device');

    // The access token is only in memory: nothing in storage or readable cookies.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    const cookies = await tab.context.cookies();
    expect(cookies).toEqual([
      expect.objectContaining({
        name: 'auth_refresh',
        httpOnly: true,
        sameSite: 'Strict',
        path: '/api/v1/auth',
      }),
    ]);
    expect(
      await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage })),
    ).not.toMatch(/ey[A-Za-z0-9_-]{10,}\./);

    // Profile: edit the name, username and picture; the picture is shown.
    await page.fill('#profile-fullName', 'Ada King');
    await page.fill('#profile-username-input', `${who.username}_k`);
    await page.fill('#profile-imageUrl', pictureUrl);
    await page.click('#profile-form button[type=submit]');
    await hasText(page.locator('#notice'), 'profile is saved');
    await hasText(page.locator('#profile-name'), 'Ada King');
    await hasText(page.locator('#profile-username'), `@${who.username}_k`);
    await page.waitForFunction(() => {
      const img = document.getElementById('profile-picture') as HTMLImageElement;
      return !img.hidden && img.complete && img.naturalWidth > 0;
    });
    await shot(page, '05-profile');
    // A bad picture URL gets its message beside that field, in words.
    await page.fill('#profile-imageUrl', 'javascript:alert(1)');
    await page.click('#profile-form button[type=submit]');
    await hasText(
      page.locator('#profile-imageUrl-error'),
      'Picture URL must be an http or https URL.',
    );
    await shot(page, '05-profile-bad-picture-url');
    await page.fill('#profile-imageUrl', pictureUrl);

    // A reload keeps the person signed in (the cookie), and the access token is refreshed before it expires.
    await page.reload();
    await expectView(page, 'account');
    await hasText(page.locator('#profile-name'), 'Ada King');
    const refreshed = await page.waitForRequest(/\/api\/v1\/auth\/refresh$/, { timeout: 15000 });
    expect(refreshed.headers()['x-refresh-cookie']).toBe('1');
    expect((await refreshed.response())?.status()).toBe(200);
    await page.waitForTimeout(3000); // past the first access token's expiry
    await page.reload();
    await expectView(page, 'account');

    // Change the password: a wrong current one is marked on its field.
    await page.fill('#password-currentPassword', 'not my password');
    await page.fill('#password-newPassword', STRONGER);
    await page.click('#password-form button[type=submit]');
    await hasText(page.locator('#password-currentPassword-error'), /not right/);
    await page.fill('#password-currentPassword', STRONG);
    await page.click('#password-form button[type=submit]');
    await hasText(page.locator('#notice'), 'password is changed');
    await shot(page, '06-password-changed');

    // Sign out, then sign in again with the keyboard alone.
    await page.click('#signout');
    await expectView(page, 'signin');
    await hasText(page.locator('#notice'), 'You are signed out.');
    await page.locator('#signin-title').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.type(who.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(STRONGER);
    await page.keyboard.press('Enter');
    await expectView(page, 'account');

    // Delete the account, confirmed with the password.
    await page.fill('#delete-password', 'not my password');
    await page.click('#delete-form button[type=submit]');
    await hasText(page.locator('#delete-password-error'), /not right/);
    await shot(page, '07-delete-wrong-password');
    await page.fill('#delete-password', STRONGER);
    await page.click('#delete-form button[type=submit]');
    await expectView(page, 'signin');
    await hasText(page.locator('#notice'), 'account is deleted');
    await signIn(page, who.email, STRONGER);
    await hasText(page.locator('#signin-password-error'), /not right/);
    await shot(page, '08-sign-in-wrong-password');

    expect(tab.consoleErrors).toEqual([]);
    await tab.context.close();
  });

  it('should end other sessions: one by its button, and all with "sign out everywhere"', async () => {
    const a = await openTab();
    const who = person();
    await signUp(a.page, who);
    await a.page.fill('#verify-code', await newestCode(who.email));
    await a.page.click('#verify-form button[type=submit]');
    await expectView(a.page, 'account');

    // A second browser (its own cookies) signs in to the same account.
    const b = await openTab();
    await signIn(b.page, who.email, STRONG);
    await expectView(b.page, 'account');
    await hasCount(b.page.locator('#sessions-list li'), 2);

    // A ends B's session with the button on B's row.
    await a.page.reload();
    await expectView(a.page, 'account');
    await hasCount(a.page.locator('#sessions-list li'), 2);
    await shot(a.page, '09-sessions');
    await a.page.locator('#sessions-list li:not(:has-text("this device")) button').click();
    await hasCount(a.page.locator('#sessions-list li'), 1);
    await b.page.reload();
    await expectView(b.page, 'signin');

    // B signs in again; A signs out everywhere; B is signed out too.
    await signIn(b.page, who.email, STRONG);
    await expectView(b.page, 'account');
    await a.page.click('#signout-all');
    await expectView(a.page, 'signin');
    await hasText(a.page.locator('#notice'), 'signed out everywhere');
    await b.page.reload();
    await expectView(b.page, 'signin');
    expect(await b.context.cookies()).toEqual([]);

    expect(a.consoleErrors).toEqual([]);
    expect(b.consoleErrors).toEqual([]);
    await a.context.close();
    await b.context.close();
  });

  it('should reset a forgotten password from the mailed link', async () => {
    const tab = await openTab();
    const { page } = tab;
    const who = person();
    await signUp(page, who);
    await page.click('#view-verify >> text=Back to sign in');
    await page.click('text=Forgot your password?');
    await expectView(page, 'forgot');
    await page.fill('#forgot-email', who.email);
    await shot(page, '10-forgot');
    await page.click('#forgot-form button[type=submit]');
    await expectView(page, 'signin');
    await hasText(page.locator('#notice'), 'on its way');

    const mail = await rig.sink.waitFor(
      (m) => m.to.includes(who.email) && /reset\?token=/.test(m.text),
    );
    const { href } = resetLinkIn(mail);
    expect(href.startsWith(`${rig.base}/reset?token=`)).toBe(true);
    await page.goto(href);
    await expectView(page, 'reset');
    await page.fill('#reset-newPassword', 'password123');
    await page.click('#reset-form button[type=submit]');
    await hasText(page.locator('#reset-newPassword-error'), /too weak/i);
    await shot(page, '11-reset-weak-password');
    await page.fill('#reset-newPassword', THIRD);
    await page.click('#reset-form button[type=submit]');
    await expectView(page, 'signin');
    await hasText(page.locator('#notice'), 'password is changed');
    expect(new URL(page.url()).pathname).toBe('/');
    await signIn(page, who.username, THIRD);
    await expectView(page, 'account');
    // The link is spent.
    await page.goto(href);
    await page.fill('#reset-newPassword', STRONGER);
    await page.click('#reset-form button[type=submit]');
    await hasText(page.locator('#reset-form .form-error'), 'no longer works');

    expect(tab.consoleErrors).toEqual([]);
    await tab.context.close();
  });

  it('should disable a form while its request is in flight, and fit a phone-width screen', async () => {
    const tab = await openTab({ width: 375, height: 740 });
    const { page } = tab;
    await expectView(page, 'signin');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      375,
    );
    await shot(page, '12-sign-in-phone');

    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/v1/auth/login', async (route) => {
      await held;
      await route.continue();
    });
    await page.fill('#signin-login', 'nobody@example.com');
    await page.fill('#signin-password', 'whatever it is 1');
    const submit = page.locator('#signin-form button[type=submit]');
    await submit.click();
    await isDisabled(submit, true);
    expect(await page.getAttribute('#signin-form', 'aria-busy')).toBe('true');
    release();
    await hasText(page.locator('#signin-password-error'), /not right/);
    await isDisabled(submit, false);

    await page.click('text=Create an account');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      375,
    );
    await shot(page, '13-sign-up-phone');
    expect(tab.consoleErrors).toEqual([]);
    await tab.context.close();
  });
});

/**
 * Nothing may scroll sideways on a phone: every screen, in its longest likely
 * state (a long email, username and name, a picture, two sessions, error
 * messages), at the narrowest phone widths.
 */
describe('The web page on a phone', () => {
  const WIDTHS = [320, 390];
  const tag = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  /** As long as the API lets them be: a 60-odd character local part, a 50 character username, a name with no space to wrap at. */
  const longPerson = () => {
    const t = tag();
    return {
      email: `augusta.ada.king.countess.of.lovelace.${t}@analytical-engine-society.example.com`,
      username: `augusta_ada_king_countess_of_lovelace_${t}`.slice(0, 50),
      fullName: `Wolfeschlegelsteinhausenbergerdorff-Lovelace`,
    };
  };
  const long = longPerson();
  const otherAgent = `ADeviceNobodyKnows/1.0 ${'x'.repeat(40)}-${'y'.repeat(40)}`;

  async function callApi(
    method: string,
    path: string,
    body?: object,
    headers: Record<string, string> = {},
  ): Promise<Record<string, unknown> | null> {
    const response = await fetch(`${rig.base}/api/v1${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body && JSON.stringify(body),
    });
    if (!response.ok) {
      throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    }
    return response.status === 204 ? null : ((await response.json()) as Record<string, unknown>);
  }

  beforeAll(async () => {
    // The long-named person, confirmed, with a picture and a second session on an unknown device.
    await callApi('POST', '/auth/register', { ...long, password: STRONG });
    await callApi('POST', '/auth/verify-email', {
      email: long.email,
      code: await newestCode(long.email),
    });
    const other = await callApi(
      'POST',
      '/auth/login',
      { email: long.email, password: STRONG },
      { 'user-agent': otherAgent },
    );
    await callApi(
      'PATCH',
      '/users/me',
      { imageUrl: pictureUrl },
      { authorization: `Bearer ${String(other?.accessToken)}` },
    );
  }, 60000);

  async function signedIn(page: Page): Promise<void> {
    await signIn(page, long.email, STRONG);
    await expectView(page, 'account');
    // The other device's session, and one more for each earlier sign-in here.
    await eventually(async () =>
      expect(await page.locator('#sessions-list li').count()).toBeGreaterThanOrEqual(2),
    );
    await page.waitForFunction(() => {
      const img = document.getElementById('profile-picture') as HTMLImageElement;
      return !img.hidden && img.complete && img.naturalWidth > 0;
    });
  }

  /** Each screen, brought up from a fresh page. */
  const SCREENS: Array<{ name: string; open: (page: Page) => Promise<void> }> = [
    { name: 'sign-in', open: (page) => expectView(page, 'signin') },
    {
      name: 'sign-in, wrong password',
      open: async (page) => {
        await signIn(page, long.email, 'not my password');
        await hasText(page.locator('#signin-password-error'), /not right/);
      },
    },
    {
      name: 'register, email taken',
      open: async (page) => {
        await page.click('text=Create an account');
        await page.fill('#signup-email', long.email);
        await page.fill('#signup-fullName', long.fullName);
        await page.fill('#signup-password', STRONG);
        await page.click('#signup-form button[type=submit]');
        await hasText(page.locator('#signup-email-error'), /already exists/);
      },
    },
    {
      name: 'verify, long email and a wrong code',
      open: async (page) => {
        const who = longPerson();
        await page.click('text=Create an account');
        await page.fill('#signup-email', who.email);
        await page.fill('#signup-password', STRONG);
        await page.click('#signup-form button[type=submit]');
        await expectView(page, 'verify');
        await page.fill('#verify-code', '000000');
        await page.click('#verify-form button[type=submit]');
        await hasText(page.locator('#verify-code-error'), /not right/);
      },
    },
    {
      name: 'forgot',
      open: async (page) => {
        await page.click('text=Forgot your password?');
        await expectView(page, 'forgot');
      },
    },
    {
      name: 'forgot, incomplete link',
      open: async (page) => {
        await page.goto(`${rig.base}/reset`);
        await expectView(page, 'forgot');
      },
    },
    {
      name: 'reset, spent link',
      open: async (page) => {
        await page.goto(`${rig.base}/reset?token=${'0'.repeat(64)}`);
        await page.fill('#reset-newPassword', STRONGER);
        await page.click('#reset-form button[type=submit]');
        await hasText(page.locator('#reset-form .form-error'), 'no longer works');
      },
    },
    { name: 'profile and sessions, long email and names', open: signedIn },
    {
      name: 'profile, field errors',
      open: async (page) => {
        await signedIn(page);
        await page.fill('#profile-imageUrl', 'javascript:alert(1)');
        await page.click('#profile-form button[type=submit]');
        await hasText(page.locator('#profile-imageUrl-error'), 'must be an http or https URL');
        await page.fill('#password-currentPassword', 'not my password');
        await page.fill('#password-newPassword', STRONGER);
        await page.click('#password-form button[type=submit]');
        await hasText(page.locator('#password-currentPassword-error'), /not right/);
      },
    },
  ];

  const cases = SCREENS.flatMap((screen) => WIDTHS.map((width) => ({ ...screen, width })));

  it.each(cases)(
    'should not scroll sideways: $name at $width px',
    async ({ name, width, open }) => {
      const tab = await openTab({ width, height: 740 });
      try {
        await open(tab.page);
        await shot(tab.page, `phone-${width}-${name.replace(/\W+/g, '-')}`);
        expect(await sidewaysOverflow(tab.page)).toEqual({ root: 0, body: 0, sticksOut: [] });
        expect(tab.consoleErrors).toEqual([]);
      } finally {
        await tab.context.close();
      }
    },
  );
});

/// <reference lib="dom" />
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Locator,
  type Page,
} from 'playwright-core';
import { codeIn, SmtpSink } from '../support/smtp-sink';
import { useRealService } from '../support/service-process';

/**
 * What the browser specs share: the built app (`dist/`) on the embedded store,
 * with an SMTP server here, and Debian's Chromium driven by playwright-core.
 * Screenshots go to test-results/screenshots (git-ignored).
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SHOTS = join(process.cwd(), 'test-results', 'screenshots');
export const STRONG = 'violet tractor harbour 42';
export const STRONGER = 'amber lantern quietly 77';
export const THIRD = 'copper meadow whistle 19';

/**
 * A browser context whose page records what its console says. Chromium also
 * reports each 4xx answer of the API as "Failed to load resource": those are
 * the API's expected answers (a wrong password is a 401), so they are kept
 * apart; any other console error or uncaught exception fails the test.
 */
export interface Tab {
  context: BrowserContext;
  page: Page;
  consoleErrors: string[];
  failedLoads: string[];
}

export interface BrowserRig {
  /** The app's origin as the page is opened, its PUBLIC_URL: e.g. http://localhost:41234. */
  readonly base: string;
  readonly sink: SmtpSink;
  /** A new browser context (its own cookies) with the page open. */
  openTab: (viewport?: { width: number; height: number }) => Promise<Tab>;
  /** The 6-digit code of the newest verification mail to `email` (once it has more than `after` mails). */
  newestCode: (email: string, after?: number) => Promise<string>;
}

/**
 * For one spec file: beforeAll starts the SMTP sink, the built app (with
 * `env` on top of the defaults) and Chromium; afterAll stops them.
 */
export function useBrowserRig(env: Record<string, string> = {}): BrowserRig {
  const real = useRealService();
  let sink: SmtpSink | undefined;
  let base: string | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    sink = await SmtpSink.start();
    ({ publicUrl: base } = await real.start(
      {
        MAIL_URL: sink.url,
        JWT_SECRET: 'browser-test-secret-browser-test-secret-01234',
        LOG_LEVEL: 'warn',
        ...env,
      },
      { built: true },
    ));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
        '--disable-quic',
      ],
    });
  }, 120000);

  afterAll(async () => {
    await browser?.close();
    await sink?.close();
  });

  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) {
      throw new Error(`${what} is not running (use it inside a test)`);
    }
    return value;
  };

  return {
    get base() {
      return started(base, 'the app');
    },
    get sink() {
      return started(sink, 'the SMTP sink');
    },
    async openTab(viewport = { width: 1024, height: 800 }) {
      const context = await started(browser, 'Chromium').newContext({ viewport });
      const page = await context.newPage();
      const consoleErrors: string[] = [];
      const failedLoads: string[] = [];
      page.on('console', (message) => {
        if (message.type() !== 'error') {
          return;
        }
        if (
          /^Failed to load resource: the server responded with a status of 4\d\d/.test(
            message.text(),
          )
        ) {
          failedLoads.push(message.text());
        } else {
          consoleErrors.push(message.text());
        }
      });
      page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
      page.on('dialog', (dialog) => void dialog.accept());
      await page.goto(started(base, 'the app'));
      return { context, page, consoleErrors, failedLoads };
    },
    async newestCode(email, after = 0) {
      const mails = started(sink, 'the SMTP sink');
      return codeIn(
        await mails.waitFor((m) => m.to.includes(email) && mails.to(email).length > after),
      );
    },
  };
}

/** Polls until `check` passes (Playwright's own matchers belong to @playwright/test, not playwright-core). */
export async function eventually(check: () => Promise<void>, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The element's text contains `expected`, or matches it. */
export const hasText = (locator: Locator, expected: string | RegExp) =>
  eventually(async () => {
    const text = (await locator.textContent()) ?? '';
    if (typeof expected === 'string') {
      expect(text).toContain(expected);
    } else {
      expect(text).toMatch(expected);
    }
  });

export const hasCount = (locator: Locator, count: number) =>
  eventually(async () => expect(await locator.count()).toBe(count));

export const isDisabled = (locator: Locator, disabled: boolean) =>
  eventually(async () => expect(await locator.isDisabled()).toBe(disabled));

export const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

export const visibleView = (page: Page) =>
  page.locator('section.view:not([hidden])').getAttribute('id');

export async function expectView(page: Page, view: string): Promise<void> {
  await page.locator(`#view-${view}`).waitFor({ state: 'visible' });
  expect(await visibleView(page)).toBe(`view-${view}`);
}

export async function signIn(page: Page, login: string, password: string): Promise<void> {
  await page.fill('#signin-login', login);
  await page.fill('#signin-password', password);
  await page.click('#signin-form button[type=submit]');
}

export function person() {
  const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return { email: `web.${tag}@example.com`, username: `web_${tag}`, fullName: 'Ada Lovelace' };
}

export async function signUp(page: Page, who: ReturnType<typeof person>): Promise<void> {
  await page.click('text=Create an account');
  await expectView(page, 'signup');
  await page.fill('#signup-email', who.email);
  await page.fill('#signup-username', who.username);
  await page.fill('#signup-fullName', who.fullName);
  await page.fill('#signup-password', STRONG);
  await page.click('#signup-form button[type=submit]');
  await expectView(page, 'verify');
}

/**
 * How far the page scrolls sideways (root and body; 0 when it fits), and the
 * elements whose box sticks out of the viewport, as "tag#id.class +Npx".
 */
export const sidewaysOverflow = (page: Page) =>
  page.evaluate(() => {
    const root = document.documentElement;
    const width = root.clientWidth;
    const outside = (element: Element) => {
      const box = element.getBoundingClientRect();
      return box.width > 0 && (box.right > width + 0.5 || box.left < -0.5);
    };
    const sticksOut = [...document.body.querySelectorAll('*')].filter(outside).map((element) => {
      const box = element.getBoundingClientRect();
      const name = `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}${[...element.classList].map((c) => `.${c}`).join('')}`;
      return `${name} +${Math.ceil(Math.max(box.right - width, -box.left))}px`;
    });
    return {
      root: root.scrollWidth - root.clientWidth,
      body: document.body.scrollWidth - document.body.clientWidth,
      sticksOut,
    };
  });

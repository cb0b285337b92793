import { randomBytes } from 'node:crypto';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { DataSource } from 'typeorm';
import { ADMIN, signIn } from './support/admin';
import { expectProblem, expectSessionEnded, newUser, type SignedIn } from './support/factories';
import { type CapturedMail, resetLinkIn, type SmtpSink, useSmtpSink } from './support/smtp-sink';
import {
  createStore,
  type Reply,
  startApp,
  type TestApp,
  type TestStore,
  useTestApp,
} from './support/test-app';
import { enrolTotp, wrongCode } from './support/totp';
import { SoftAuthenticator } from './support/webauthn';

const API = '/api/v1';
/** PUBLIC_URL in these tests: the base of the mails' links, and the passkeys' origin. */
const ORIGIN = 'http://localhost:3000';
const ALERT_SUBJECT = 'New sign-in to your account';
const RESET_SUBJECT = 'Reset your password';

/** User-Agent headers of real browsers (ua-parser-js names their browser and system). */
const UA = {
  firefoxWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
  /** The same browser family and system, a later version: the same device. */
  firefoxWindowsUpdated:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:134.0) Gecko/20100101 Firefox/134.0',
  chromeMac:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  safariIphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:134.0) Gecko/20100101 Firefox/134.0',
};

/** Where a request comes from: its User-Agent and client address. */
interface Device {
  ua: string;
  ip: string;
}

const on = (ua: string, ip: string): Device => ({ ua, ip });

interface Account {
  id: string;
  email: string;
  password: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A request from `device`. */
function send(
  t: Pick<TestApp, 'http'>,
  method: 'GET' | 'POST',
  path: string,
  device: Device,
  extra: { body?: unknown; token?: string } = {},
): Promise<Reply> {
  return t.http.request(method, path, {
    ...extra,
    from: device.ip,
    headers: { 'user-agent': device.ua },
  });
}

/** Registers an account (email and password) from `device`. */
async function registerOn(t: Pick<TestApp, 'http'>, device: Device): Promise<Account> {
  const body = newUser();
  const reply = await send(t, 'POST', `${API}/auth/register`, device, { body });
  expect(reply.status).toBe(201);
  return { id: reply.body.id, email: body.email, password: body.password };
}

/** A password sign-in from `device` that succeeds: its token pair. */
async function signInOn(
  t: Pick<TestApp, 'http'>,
  account: Pick<Account, 'email' | 'password'>,
  device: Device,
): Promise<SignedIn> {
  const reply = await send(t, 'POST', `${API}/auth/login`, device, {
    body: { email: account.email, password: account.password },
  });
  expect(reply.status).toBe(200);
  return { ...reply.body, email: account.email, password: account.password };
}

/** The alert mails (kind new_device) the sign-ins of this account queued in the outbox. */
async function queuedAlerts(t: Pick<TestApp, 'app'>, userId: string): Promise<number> {
  const rows: Array<{ n: number }> = await t.app
    .get(DataSource)
    .query(`SELECT count(*)::int AS n FROM outbox WHERE kind = 'new_device' AND user_id = $1`, [
      userId,
    ]);
  return rows[0].n;
}

/** Waits until no mail of this account (or to this address) is still waiting for delivery. */
async function delivered(t: Pick<TestApp, 'app'>, account: Account): Promise<void> {
  const db = t.app.get(DataSource);
  const deadline = Date.now() + 15000;
  for (;;) {
    const rows: Array<{ n: number }> = await db.query(
      `SELECT count(*)::int AS n FROM outbox
        WHERE (user_id = $1 OR recipient = $2) AND status = 'pending'`,
      [account.id, account.email],
    );
    if (rows[0].n === 0) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`${rows[0].n} mails of ${account.email} still pending after 15 s`);
    }
    await sleep(50);
  }
}

function alertsTo(sink: SmtpSink, email: string): CapturedMail[] {
  return sink.to(email).filter((mail) => mail.subject === ALERT_SUBJECT);
}

/** The `count`-th alert mail to this address (waits for it). */
async function nthAlert(sink: SmtpSink, email: string, count: number): Promise<CapturedMail> {
  await sink.waitFor(() => alertsTo(sink, email).length >= count);
  return alertsTo(sink, email)[count - 1];
}

/** Exactly `count` alerts for this account: queued with the sign-ins, and delivered. */
async function expectAlerts(
  t: Pick<TestApp, 'app'>,
  sink: SmtpSink,
  account: Account,
  count: number,
): Promise<void> {
  expect(await queuedAlerts(t, account.id)).toBe(count);
  await delivered(t, account);
  expect(alertsTo(sink, account.email)).toHaveLength(count);
}

/** The "this wasn't me" link in an alert, and its token. */
function secureLinkIn(mail: CapturedMail): { href: string; token: string } {
  const match = /(\S+\/secure\?token=([A-Za-z0-9_%-]+))/.exec(mail.text);
  if (!match) {
    throw new Error(`no secure link in mail: ${mail.subject}`);
  }
  return { href: match[1], token: decodeURIComponent(match[2]) };
}

/** What an alert tells: when, browser, system, address, method (the mail's "When: … How: …" line). */
function alertFacts(mail: CapturedMail) {
  const match =
    /When: (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) UTC\. Browser: (.+?) on (.+?)\. Address: (\S+?)\. How: (.+?)\./.exec(
      mail.text,
    );
  if (!match) {
    throw new Error(`no sign-in facts in the alert:\n${mail.text}`);
  }
  const [, when, browser, os, ip, method] = match;
  return { at: Date.parse(`${when.replace(' ', 'T')}Z`), browser, os, ip, method };
}

/** An alert mail about a sign-in between `before` and `after` (ms) from this browser, system, address, by this method. */
function expectAlert(
  mail: CapturedMail,
  expected: { browser: string; os: string; ip: string; method: RegExp },
  before: number,
  after: number,
): void {
  expect(mail.subject).toBe(ALERT_SUBJECT);
  const facts = alertFacts(mail);
  // The mail gives whole seconds.
  expect(facts.at).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
  expect(facts.at).toBeLessThanOrEqual(after);
  expect({ browser: facts.browser, os: facts.os, ip: facts.ip }).toEqual({
    browser: expected.browser,
    os: expected.os,
    ip: expected.ip,
  });
  expect(facts.method).toMatch(expected.method);
  const link = secureLinkIn(mail);
  expect(link.href).toBe(`${ORIGIN}/secure?token=${encodeURIComponent(link.token)}`);
  expect(mail.text).toContain(`This wasn't me: ${link.href}`);
  expect(mail.html).toContain(`href="${link.href}"`);
}

function secure(t: Pick<TestApp, 'http'>, token: unknown, from = '192.0.2.200'): Promise<Reply> {
  return send(t, 'POST', `${API}/auth/secure-account`, on(UA.chromeMac, from), {
    body: { token },
  });
}

/** A client address of a request of its own, so that per-address mail limits never meet. */
let addresses = 0;
function nextAddress(): string {
  addresses += 1;
  return `198.18.${Math.floor(addresses / 250)}.${(addresses % 250) + 1}`;
}

describe('New-device sign-in alerts (e2e)', () => {
  const smtp = useSmtpSink();
  const t = useTestApp(() => ({
    MAIL_URL: smtp.sink.url,
    PUBLIC_URL: ORIGIN,
    RATE_LIMIT_PER_ADDRESS: '100000',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
  }));
  let admin: SignedIn;
  /** Every device and account the tests used, for the privacy check at the end. */
  const used: Device[] = [];
  const device = (ua: string, ip: string): Device => {
    const made = on(ua, ip);
    used.push(made);
    return made;
  };

  beforeAll(async () => {
    admin = await signIn(t, ADMIN.email, ADMIN.password);
  });

  async function auditOf(userId: string, type: string): Promise<any[]> {
    const reply = await t.http.get(
      `${API}/audit?userId=${userId}&type=${type}&size=100`,
      admin.accessToken,
    );
    expect(reply.status).toBe(200);
    return reply.body.items;
  }

  it('should send no alert for the sign-in after registration on the same device, nor after a browser update or from another address of the same /24', async () => {
    const home = device(UA.firefoxWindows, '203.0.113.7');
    const account = await registerOn(t, home);
    await signInOn(t, account, home);
    await signInOn(t, account, home);
    await signInOn(t, account, device(UA.firefoxWindowsUpdated, '203.0.113.7'));
    await signInOn(t, account, device(UA.firefoxWindows, '203.0.113.250'));
    await expectAlerts(t, smtp.sink, account, 0);
  });

  it('should alert for another browser and system on the same network, with the time in UTC, browser and OS, address, method and the PUBLIC_URL/secure link; not the second time', async () => {
    const home = device(UA.firefoxWindows, '203.0.113.8');
    const account = await registerOn(t, home);
    await signInOn(t, account, home);
    const other = device(UA.chromeMac, '203.0.113.9');
    const before = Date.now();
    await signInOn(t, account, other);
    const after = Date.now();
    // Queued by the sign-in itself, before its answer.
    expect(await queuedAlerts(t, account.id)).toBe(1);
    const alert = await nthAlert(smtp.sink, account.email, 1);
    expectAlert(
      alert,
      { browser: 'Chrome', os: 'Mac OS', ip: '203.0.113.9', method: /^password$/ },
      before,
      after,
    );
    expect(alert.to).toContain(account.email);

    await signInOn(t, account, other);
    await signInOn(t, account, home);
    await expectAlerts(t, smtp.sink, account, 1);
  });

  it('should alert for another network (another /24) with the same browser and system, once', async () => {
    const home = device(UA.firefoxWindows, '203.0.113.10');
    const account = await registerOn(t, home);
    const before = Date.now();
    await signInOn(t, account, device(UA.firefoxWindows, '198.51.100.7'));
    const after = Date.now();
    expectAlert(
      await nthAlert(smtp.sink, account.email, 1),
      { browser: 'Firefox', os: 'Windows', ip: '198.51.100.7', method: /^password$/ },
      before,
      after,
    );
    // Another address of that /24 and another browser version: the same device.
    await signInOn(t, account, device(UA.firefoxWindowsUpdated, '198.51.100.200'));
    await signInOn(t, account, home);
    await expectAlerts(t, smtp.sink, account, 1);
  });

  it('should alert for each new device, each mail with a link of its own', async () => {
    const account = await registerOn(t, device(UA.firefoxWindows, '203.0.113.11'));
    await signInOn(t, account, device(UA.chromeMac, '203.0.113.11'));
    await signInOn(t, account, device(UA.safariIphone, '100.64.5.6'));
    await expectAlerts(t, smtp.sink, account, 2);
    // Delivered in either order.
    const alerts = alertsTo(smtp.sink, account.email);
    expect(alerts.map((mail) => alertFacts(mail)).sort((x, y) => x.ip.localeCompare(y.ip))).toEqual(
      [
        expect.objectContaining({ browser: 'Mobile Safari', os: 'iOS', ip: '100.64.5.6' }),
        expect.objectContaining({ browser: 'Chrome', os: 'Mac OS', ip: '203.0.113.11' }),
      ],
    );
    expect(secureLinkIn(alerts[0]).token).not.toBe(secureLinkIn(alerts[1]).token);
  });

  it('should alert after a two-step sign-in once, after the second step (not at the first step’s 403 nor at a wrong code)', async () => {
    const home = device(UA.firefoxWindows, '203.0.113.12');
    const account = await registerOn(t, home);
    const session = await signInOn(t, account, home);
    const { authenticator, secret } = await enrolTotp(t.http, {
      accessToken: session.accessToken,
      password: account.password,
    });
    const laptop = device(UA.firefoxLinux, '192.0.2.12');
    const firstStep = async (): Promise<string> => {
      const reply = await send(t, 'POST', `${API}/auth/login`, laptop, {
        body: { email: account.email, password: account.password },
      });
      expectProblem(reply, 403, 'mfa_required');
      return reply.body.mfaToken;
    };
    const verify = (mfaToken: string, code: string) =>
      send(t, 'POST', `${API}/auth/mfa/verify`, laptop, { body: { mfaToken, code } });

    const mfaToken = await firstStep();
    expect(await queuedAlerts(t, account.id)).toBe(0);
    expectProblem(await verify(mfaToken, await wrongCode(secret)), 400, 'invalid_code');
    expect(await queuedAlerts(t, account.id)).toBe(0);

    const before = Date.now();
    const done = await verify(mfaToken, await authenticator.next());
    const after = Date.now();
    expect(done.status).toBe(200);
    expect(await queuedAlerts(t, account.id)).toBe(1);
    expectAlert(
      await nthAlert(smtp.sink, account.email, 1),
      { browser: 'Firefox', os: 'Linux', ip: '192.0.2.12', method: /authenticator|totp/i },
      before,
      after,
    );

    // The next two-step sign-in from that device: none.
    expect((await verify(await firstStep(), await authenticator.next())).status).toBe(200);
    await expectAlerts(t, smtp.sink, account, 1);
  });

  it('should alert after a passkey sign-in from a new device, naming the method passkey', async () => {
    const home = device(UA.chromeMac, '203.0.113.13');
    const account = await registerOn(t, home);
    const session = await signInOn(t, account, home);
    const authenticator = new SoftAuthenticator({ origin: ORIGIN, rpId: 'localhost' });
    const creation = await send(t, 'POST', `${API}/users/me/passkeys/options`, home, {
      token: session.accessToken,
    });
    expect(creation.status).toBe(200);
    const added = await send(t, 'POST', `${API}/users/me/passkeys`, home, {
      token: session.accessToken,
      body: { response: authenticator.create(creation.body) },
    });
    expect(added.status).toBe(201);

    const phone = device(UA.safariIphone, '192.0.2.13');
    const options = await send(t, 'POST', `${API}/auth/passkey/options`, phone);
    expect(options.status).toBe(200);
    const before = Date.now();
    const reply = await send(t, 'POST', `${API}/auth/passkey/login`, phone, {
      body: {
        response: authenticator.get(options.body as PublicKeyCredentialRequestOptionsJSON),
      },
    });
    const after = Date.now();
    expect(reply.status).toBe(200);
    expectAlert(
      await nthAlert(smtp.sink, account.email, 1),
      { browser: 'Mobile Safari', os: 'iOS', ip: '192.0.2.13', method: /^passkey$/ },
      before,
      after,
    );
    await expectAlerts(t, smtp.sink, account, 1);
  });

  it('should count IPv6 addresses of one /48 as one network, another /48 as another, and an IPv4-mapped address as its IPv4 /24', async () => {
    const home = device(UA.firefoxWindows, '2001:db8:1:1::10');
    const account = await registerOn(t, home);
    await signInOn(t, account, home);
    await signInOn(t, account, device(UA.firefoxWindows, '2001:db8:1:ffff::20'));
    await signInOn(t, account, device(UA.firefoxWindows, '2001:db8:1:2:3:4:5:6'));
    await expectAlerts(t, smtp.sink, account, 0);

    const before = Date.now();
    await signInOn(t, account, device(UA.firefoxWindows, '2001:db8:2:1::20'));
    const after = Date.now();
    expectAlert(
      await nthAlert(smtp.sink, account.email, 1),
      { browser: 'Firefox', os: 'Windows', ip: '2001:db8:2:1::20', method: /^password$/ },
      before,
      after,
    );
    await expectAlerts(t, smtp.sink, account, 1);

    // A dual-stack listener sees an IPv4 client as ::ffff:a.b.c.d: the same /24.
    const v4 = await registerOn(t, device(UA.chromeMac, '203.0.113.14'));
    await signInOn(t, v4, device(UA.chromeMac, '::ffff:203.0.113.99'));
    await expectAlerts(t, smtp.sink, v4, 0);
  });

  it('should send nothing for an account without email (secret key), and its sign-ins from new devices succeed', async () => {
    const created = await send(
      t,
      'POST',
      `${API}/auth/secret/register`,
      device(UA.firefoxWindows, '203.0.113.15'),
      { body: { username: newUser().username } },
    );
    expect(created.status).toBe(201);
    const userSecret = created.body.userSecret as string;
    for (const from of [
      device(UA.firefoxWindows, '203.0.113.15'),
      device(UA.chromeMac, '192.0.2.15'),
      device(UA.safariIphone, '2001:db8:15::1'),
    ]) {
      const reply = await send(t, 'POST', `${API}/auth/secret/login`, from, {
        body: { userSecret },
      });
      expect(reply.status).toBe(200);
      expect((await t.http.get(`${API}/users/me`, reply.body.accessToken)).status).toBe(200);
    }
    const userId = created.body.id as string;
    const rows: Array<{ n: number }> = await t.app
      .get(DataSource)
      .query(`SELECT count(*)::int AS n FROM outbox WHERE user_id = $1`, [userId]);
    expect(rows[0].n).toBe(0);
  });

  it('should not alert when a session is refreshed from another device (a refresh is no sign-in)', async () => {
    const home = device(UA.firefoxWindows, '203.0.113.16');
    const account = await registerOn(t, home);
    const session = await signInOn(t, account, home);
    const refreshed = await send(
      t,
      'POST',
      `${API}/auth/refresh`,
      device(UA.chromeMac, '10.1.2.3'),
      {
        body: { refreshToken: session.refreshToken },
      },
    );
    expect(refreshed.status).toBe(200);
    await expectAlerts(t, smtp.sink, account, 0);
  });

  it('should end every session at once with the secure link, the new device’s included, audit account.secured, void an earlier reset link and mail a 7-day reset link that works', async () => {
    const home = device(UA.firefoxWindows, '203.0.113.17');
    const account = await registerOn(t, home);
    const mine = await signInOn(t, account, home);
    const resetMails = () => smtp.sink.to(account.email).filter((m) => m.subject === RESET_SUBJECT);

    // The owner had asked for a reset link earlier (valid 30 minutes, not yet used).
    const forgot = await send(
      t,
      'POST',
      `${API}/auth/password/forgot`,
      on(UA.firefoxWindows, nextAddress()),
      {
        body: { email: account.email },
      },
    );
    expect(forgot.status).toBe(202);
    await smtp.sink.waitFor(() => resetMails().length >= 1);
    const earlier = resetLinkIn(resetMails()[0]);

    const intruder = device(UA.chromeMac, '192.0.2.17');
    const theirs = await signInOn(t, account, intruder);
    const { token } = secureLinkIn(await nthAlert(smtp.sink, account.email, 1));
    // Both sessions work until the owner answers the alert.
    expect((await t.http.get(`${API}/users/me`, theirs.accessToken)).status).toBe(200);

    const securedAt = Date.now();
    const secured = await secure(t, token, '203.0.113.17');
    expect(secured.status).toBe(204);
    expect(secured.text).toBe('');
    await expectSessionEnded(t.http, theirs);
    await expectSessionEnded(t.http, mine);

    const audited = await auditOf(account.id, 'account.secured');
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({
      type: 'account.secured',
      userId: account.id,
      ip: '203.0.113.17',
      detail: { sessions: 2 },
    });
    expect(JSON.stringify(audited[0])).not.toContain(token);

    // A fresh reset link, valid 7 days; the earlier one is void.
    await smtp.sink.waitFor(() => resetMails().length >= 2);
    const fresh = resetMails()[1];
    const link = resetLinkIn(fresh);
    expect(link.href).toBe(`${ORIGIN}/reset?token=${encodeURIComponent(link.token)}`);
    expect(fresh.text).toMatch(/7 days/);
    const [stored]: Array<{ expires_at: Date }> = await t.app
      .get(DataSource)
      .query(`SELECT expires_at FROM password_resets WHERE user_id = $1`, [account.id]);
    const sevenDays = securedAt + 7 * 86400 * 1000;
    expect(new Date(stored.expires_at).getTime()).toBeGreaterThan(sevenDays - 120000);
    expect(new Date(stored.expires_at).getTime()).toBeLessThan(sevenDays + 120000);

    const newPassword = 'copper meadow lantern 58';
    expectProblem(
      await t.http.post(`${API}/auth/password/reset`, { token: earlier.token, newPassword }),
      400,
      'invalid_token',
    );
    const reset = await t.http.post(`${API}/auth/password/reset`, {
      token: link.token,
      newPassword,
    });
    expect(reset.status).toBe(204);
    expectProblem(
      await send(t, 'POST', `${API}/auth/login`, home, {
        body: { email: account.email, password: account.password },
      }),
      401,
      'invalid_credentials',
    );
    await signInOn(t, { email: account.email, password: newPassword }, home);

    // The link works once.
    expectProblem(await secure(t, token), 400, 'invalid_token');
    expect(await auditOf(account.id, 'account.secured')).toHaveLength(1);
  });

  it('should refuse a wrong or missing token with 400 and end no session', async () => {
    const home = device(UA.firefoxWindows, '203.0.113.18');
    const account = await registerOn(t, home);
    const session = await signInOn(t, account, home);
    expectProblem(await secure(t, randomBytes(32).toString('base64url')), 400, 'invalid_token');
    expectProblem(await secure(t, 'x'), 400, 'invalid_token');
    expectProblem(await secure(t, ''), 400);
    expectProblem(
      await send(t, 'POST', `${API}/auth/secure-account`, home, { body: {} }),
      400,
      'validation_failed',
    );
    expect((await t.http.get(`${API}/users/me`, session.accessToken)).status).toBe(200);
    expect(await auditOf(account.id, 'account.secured')).toHaveLength(0);
  });

  it('should store no User-Agent, browser, system, address or network in known_devices: only the account, a keyed hash and when it was last seen', async () => {
    const db = t.app.get(DataSource);
    const rows: Array<Record<string, unknown>> = await db.query(`SELECT * FROM known_devices`);
    expect(rows.length).toBeGreaterThanOrEqual(10);
    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual(['device_hash', 'last_seen_at', 'user_id']);
      expect(row.device_hash).toMatch(/^[0-9a-f]{64}$/);
    }
    const stored = JSON.stringify(rows).toLowerCase();
    const needles = new Set<string>([
      'firefox',
      'chrome',
      'safari',
      'windows',
      'mac os',
      'ios',
      'linux',
    ]);
    for (const { ua, ip } of used) {
      needles.add(ua.toLowerCase());
      needles.add(ip.toLowerCase());
      // The network, as the /24 (or /48) prefix.
      needles.add(
        ip.includes(':')
          ? ip.split(':').slice(0, 3).join(':')
          : ip.split('.').slice(0, 3).join('.'),
      );
    }
    for (const needle of needles) {
      expect({ needle, found: stored.includes(needle) }).toEqual({ needle, found: false });
    }
    // The alert's payload (address, browser) is erased once the mail is delivered.
    const payloads: Array<{ status: string; payload: unknown }> = await db.query(
      `SELECT status, payload FROM outbox WHERE kind = 'new_device' AND status <> 'pending'`,
    );
    expect(payloads.length).toBeGreaterThan(0);
    expect(payloads.every((row) => row.payload === null)).toBe(true);
  });
});

describe('New-device alerts with NEW_DEVICE_ALERTS=off (e2e)', () => {
  const smtp = useSmtpSink();
  const t = useTestApp(() => ({
    MAIL_URL: smtp.sink.url,
    PUBLIC_URL: ORIGIN,
    RATE_LIMIT_PER_ADDRESS: '100000',
    NEW_DEVICE_ALERTS: 'off',
  }));

  it('should send no alert for sign-ins from new browsers and networks, and record no device', async () => {
    const account = await registerOn(t, on(UA.firefoxWindows, '203.0.113.30'));
    await signInOn(t, account, on(UA.chromeMac, '192.0.2.30'));
    await signInOn(t, account, on(UA.safariIphone, '2001:db8:30::1'));
    await expectAlerts(t, smtp.sink, account, 0);
    const rows: Array<{ n: number }> = await t.app
      .get(DataSource)
      .query(`SELECT count(*)::int AS n FROM known_devices`);
    expect(rows[0].n).toBe(0);
  });
});

/** Two instances need a database server: the embedded store is one process's. */
const describeOnServer = process.env.TEST_DATABASE_URL ? describe : describe.skip;

describeOnServer('New-device alerts on two instances sharing one PostgreSQL database (e2e)', () => {
  const smtp = useSmtpSink();
  let store: TestStore;
  const instances: TestApp[] = [];

  beforeAll(async () => {
    store = await createStore();
    const env = {
      MAIL_URL: smtp.sink.url,
      PUBLIC_URL: ORIGIN,
      RATE_LIMIT_PER_ADDRESS: '100000',
    };
    // Each has its own connection pool (and outbox worker), as separate processes would.
    instances.push(await startApp(store, env), await startApp(store, env));
  });
  afterAll(async () => {
    for (const instance of instances) {
      await instance.close();
    }
    await store?.drop();
  });

  it('should agree on known devices: registered at A, the same device at B sends none; a new device at B, then at A, sends one', async () => {
    const [a, b] = instances;
    const home = on(UA.firefoxWindows, '203.0.113.40');
    const account = await registerOn(a, home);
    await signInOn(b, account, home);
    await expectAlerts(b, smtp.sink, account, 0);

    const laptop = on(UA.chromeMac, '192.0.2.40');
    await signInOn(b, account, laptop);
    await signInOn(a, account, laptop);
    await signInOn(a, account, on(UA.chromeMac, '192.0.2.41'));
    await expectAlerts(a, smtp.sink, account, 1);
    expect(alertFacts(alertsTo(smtp.sink, account.email)[0])).toMatchObject({
      browser: 'Chrome',
      os: 'Mac OS',
      ip: '192.0.2.40',
    });
  });

  it('should honour at A a secure link mailed by either instance, ending the sessions made at B', async () => {
    const [a, b] = instances;
    const account = await registerOn(b, on(UA.firefoxWindows, '203.0.113.41'));
    const theirs = await signInOn(b, account, on(UA.safariIphone, '192.0.2.42'));
    const { token } = secureLinkIn(await nthAlert(smtp.sink, account.email, 1));
    expect((await secure(a, token)).status).toBe(204);
    await expectSessionEnded(b.http, theirs);
    expectProblem(await secure(b, token), 400, 'invalid_token');
  });
});

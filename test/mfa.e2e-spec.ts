import { DataSource } from 'typeorm';
import {
  expectProblem,
  expectSessionEnded,
  newUser,
  type SignedIn,
  signedInUser,
} from './support/factories';
import { type CapturedMail, useSmtpSink } from './support/smtp-sink';
import { type Reply, type TestApp, useTestApp } from './support/test-app';
import {
  Authenticator,
  awayFromStepEnd,
  codeFromNow,
  currentStep,
  enrolTotp,
  wrongCode,
} from './support/totp';

const MFA = '/api/v1/users/me/mfa';
const VERIFY = '/api/v1/auth/mfa/verify';
const WRONG_PASSWORD = 'not the password 1';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The claims of an access token. */
function claims(accessToken: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString());
}

/** An aal2 access token of a sign-in that passed a password (or secret) and a code. */
function expectTwoFactorToken(accessToken: string): void {
  const payload = claims(accessToken);
  expect(payload).toMatchObject({ amr: ['pwd', 'otp'], aal: 'aal2' });
  expect(payload.auth_time).toEqual(expect.any(Number));
  expect(Math.abs((payload.auth_time as number) - (payload.iat as number))).toBeLessThanOrEqual(1);
}

/**
 * The first step of a password sign-in of an account with a second factor:
 * 403 mfa_required with an mfaToken, and no token of any kind.
 */
async function firstStep(
  t: TestApp,
  user: { email: string; password: string },
  from?: string,
): Promise<string> {
  const reply = await t.http.request('POST', '/api/v1/auth/login', {
    body: { email: user.email, password: user.password },
    from,
  });
  expectProblem(reply, 403, 'mfa_required');
  expect(reply.headers['cache-control']).toBe('no-store');
  expect(reply.body.mfaToken).toEqual(expect.any(String));
  expect(reply.body).not.toHaveProperty('accessToken');
  expect(reply.body).not.toHaveProperty('refreshToken');
  expect(reply.headers['set-cookie']).toBeUndefined();
  return reply.body.mfaToken;
}

function secondStep(t: TestApp, mfaToken: string, code: string, from?: string): Promise<Reply> {
  return t.http.request('POST', VERIFY, { body: { mfaToken, code }, from });
}

/** A secret-key account (no password, no email), signed in. */
async function secretKeyUser(t: TestApp) {
  const created = await t.http.post('/api/v1/auth/secret/register', {
    username: newUser().username,
  });
  expect(created.status).toBe(201);
  const login = await t.http.post('/api/v1/auth/secret/login', {
    userSecret: created.body.userSecret,
  });
  expect(login.status).toBe(200);
  return { ...login.body, userSecret: created.body.userSecret as string };
}

function confirm(t: TestApp, user: Pick<SignedIn, 'accessToken'>, code: string): Promise<Reply> {
  return t.http.post(`${MFA}/totp/confirm`, { code }, user.accessToken);
}

function disable(t: TestApp, user: Pick<SignedIn, 'accessToken'>, body: unknown): Promise<Reply> {
  return t.http.request('DELETE', `${MFA}/totp`, { token: user.accessToken, body });
}

/** Neither the TOTP secret nor any recovery code (as shown, or without its dash) is in `text`. */
function expectNoSecretIn(text: string, secret: string, recoveryCodes: string[]): void {
  const haystack = text.toLowerCase();
  for (const needle of [
    secret,
    ...recoveryCodes,
    ...recoveryCodes.map((code) => code.replace(/-/g, '')),
  ]) {
    expect(haystack).not.toContain(needle.toLowerCase());
  }
}

function everything(mail: CapturedMail): string {
  return `${mail.subject}\n${mail.text}\n${mail.html}`;
}

/** RFC 4648 base32, as authenticator apps read the secret. */
function base32Bytes(secret: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of secret.replace(/=+$/, '')) {
    bits += alphabet.indexOf(char).toString(2).padStart(5, '0');
  }
  const bytes = bits.match(/.{8}/g) ?? [];
  return Buffer.from(bytes.map((byte) => parseInt(byte, 2)));
}

describe('Two-step sign-in (e2e)', () => {
  const smtp = useSmtpSink();
  const t = useTestApp(() => ({ MAIL_URL: smtp.sink.url, RATE_LIMIT_PER_ADDRESS: '100000' }));

  const noticeTo = (email: string, subject: string) =>
    smtp.sink.waitFor((mail) => mail.to.includes(email) && mail.subject === subject);

  describe('Setting up an authenticator: POST /users/me/mfa/totp and /totp/confirm', () => {
    it('should start a pending authenticator after the password: a base32 secret, its otpauth URI and an SVG QR code', async () => {
      const user = await signedInUser(t.http);
      const off = { totp: { enabled: false, createdAt: null, lastUsedAt: null } };
      expect((await t.http.get(MFA, user.accessToken)).body).toEqual({
        ...off,
        recoveryCodesLeft: 0,
        passkeys: 0,
      });
      const missing = await t.http.post(`${MFA}/totp`, {}, user.accessToken);
      expectProblem(missing, 400, 'validation_failed');
      expect(missing.body.errors.map((e: { field: string }) => e.field)).toContain('password');
      expectProblem(
        await t.http.post(`${MFA}/totp`, { password: WRONG_PASSWORD }, user.accessToken),
        401,
        'invalid_credentials',
      );

      const started = await t.http.post(
        `${MFA}/totp`,
        { password: user.password },
        user.accessToken,
      );
      expect(started.status).toBe(201);
      expect(started.headers['cache-control']).toBe('no-store');
      expect(Object.keys(started.body).sort()).toEqual(['otpauthUri', 'qrCode', 'secret']);
      const { secret, otpauthUri, qrCode } = started.body;
      expect(secret).toMatch(/^[A-Z2-7]{16,}=*$/);
      const uri = new URL(otpauthUri);
      expect(uri.protocol).toBe('otpauth:');
      expect(uri.host).toBe('totp');
      expect(decodeURIComponent(uri.pathname)).toBe(`/auth-service:${user.email}`);
      expect(uri.searchParams.get('secret')).toBe(secret);
      expect(uri.searchParams.get('issuer')).toBe('auth-service');
      // SHA-1, 6 digits, 30 s: the defaults, when the URI names them at all.
      expect(uri.searchParams.get('algorithm') ?? 'SHA1').toBe('SHA1');
      expect(uri.searchParams.get('digits') ?? '6').toBe('6');
      expect(uri.searchParams.get('period') ?? '30').toBe('30');
      const qr = /^data:image\/svg\+xml(;base64)?,(.*)$/s.exec(qrCode);
      expect(qr).not.toBeNull();
      const svg = qr?.[1]
        ? Buffer.from(qr[2], 'base64').toString()
        : decodeURIComponent(String(qr?.[2]));
      expect(svg).toContain('<svg');

      // Pending: nothing changes until a code confirms it.
      expect((await t.http.get(MFA, user.accessToken)).body).toMatchObject(off);
      expect((await t.http.get('/api/v1/users/me', user.accessToken)).body.mfaEnabled).toBe(false);
      const login = await t.http.post('/api/v1/auth/login', {
        email: user.email,
        password: user.password,
      });
      expect(login.status).toBe(200);
      expect(claims(login.body.accessToken)).toMatchObject({ amr: ['pwd'], aal: 'aal1' });
    });

    it('should replace a pending authenticator when set-up starts again: only the new secret confirms it', async () => {
      const user = await signedInUser(t.http);
      const body = { password: user.password };
      const first = await t.http.post(`${MFA}/totp`, body, user.accessToken);
      const second = await t.http.post(`${MFA}/totp`, body, user.accessToken);
      expect([first.status, second.status]).toEqual([201, 201]);
      expect(second.body.secret).not.toBe(first.body.secret);
      expectProblem(
        await confirm(t, user, await codeFromNow(first.body.secret)),
        400,
        'invalid_code',
      );
      const confirmed = await confirm(t, user, await codeFromNow(second.body.secret));
      expect(confirmed.status).toBe(200);
      expect((await t.http.get(MFA, user.accessToken)).body.totp.enabled).toBe(true);
    });

    it('should forget a pending authenticator after 10 minutes: confirming it then answers 404', async () => {
      const user = await signedInUser(t.http);
      const body = { password: user.password };
      const stale = await t.http.post(`${MFA}/totp`, body, user.accessToken);
      // As if the set-up had started eleven minutes ago.
      await t.app
        .get(DataSource)
        .query(
          `UPDATE totp_authenticators SET created_at = now() - interval '11 minutes' WHERE user_id = $1`,
          [user.user.id],
        );
      expectProblem(await confirm(t, user, await codeFromNow(stale.body.secret)), 404);
      const fresh = await t.http.post(`${MFA}/totp`, body, user.accessToken);
      expect(fresh.status).toBe(201);
      expect((await confirm(t, user, await codeFromNow(fresh.body.secret))).status).toBe(200);
    });

    it('should confirm with a code of the current step or one either side, and refuse a wrong code, one two steps away, or nothing pending', async () => {
      const early = await signedInUser(t.http);
      const late = await signedInUser(t.http);
      expectProblem(await confirm(t, early, '123456'), 404);
      const begin = async (user: SignedIn) =>
        (await t.http.post(`${MFA}/totp`, { password: user.password }, user.accessToken)).body
          .secret as string;
      const earlySecret = await begin(early);
      const lateSecret = await begin(late);
      expectProblem(await confirm(t, early, await wrongCode(earlySecret)), 400, 'invalid_code');
      expectProblem(
        await confirm(t, early, await codeFromNow(earlySecret, -60)),
        400,
        'invalid_code',
      );
      expectProblem(
        await confirm(t, early, await codeFromNow(earlySecret, 60)),
        400,
        'invalid_code',
      );
      expectProblem(await confirm(t, early, 'abcde-fghij'), 400, 'invalid_code');
      expect((await t.http.get(MFA, early.accessToken)).body.totp.enabled).toBe(false);

      await awayFromStepEnd();
      expect((await confirm(t, early, await codeFromNow(earlySecret, -30))).status).toBe(200);
      expect((await confirm(t, late, await codeFromNow(lateSecret, 30))).status).toBe(200);
      // Confirmed: nothing is pending any more.
      expectProblem(await confirm(t, late, await codeFromNow(lateSecret, 30)), 404);
    });

    it('should turn two-step sign-in on: ten recovery codes, the other sessions ended, this one raised to aal2, a notice mailed', async () => {
      const user = await signedInUser(t.http);
      const other = await t.http.post('/api/v1/auth/login', {
        email: user.email,
        password: user.password,
      });
      expect(other.status).toBe(200);
      const started = await t.http.post(
        `${MFA}/totp`,
        { password: user.password },
        user.accessToken,
      );
      const authenticator = new Authenticator(started.body.secret);
      const confirming = await authenticator.next();
      const confirmed = await confirm(t, user, confirming);
      expect(confirmed.status).toBe(200);
      expect(confirmed.headers['cache-control']).toBe('no-store');
      expect(confirmed.body).toEqual({ recoveryCodes: expect.any(Array) });
      const codes: string[] = confirmed.body.recoveryCodes;
      expect(codes).toHaveLength(10);
      expect(new Set(codes).size).toBe(10);
      codes.forEach((code) => expect(code).toMatch(/^[A-Za-z0-9-]{8,}$/));

      await expectSessionEnded(t.http, other.body);
      const me = await t.http.get('/api/v1/users/me', user.accessToken);
      expect(me.status).toBe(200);
      expect(me.body.mfaEnabled).toBe(true);
      const refreshed = await t.http.post('/api/v1/auth/refresh', {
        refreshToken: user.refreshToken,
      });
      expect(refreshed.status).toBe(200);
      expect(claims(refreshed.body.accessToken)).toMatchObject({
        aal: 'aal2',
        amr: expect.arrayContaining(['pwd', 'otp']),
      });
      expect(refreshed.body.user.mfaEnabled).toBe(true);

      const status = await t.http.get(MFA, refreshed.body.accessToken);
      expect(status.body).toEqual({
        totp: { enabled: true, createdAt: expect.any(String), lastUsedAt: expect.any(String) },
        recoveryCodesLeft: 10,
        passkeys: 0,
      });
      for (const at of [status.body.totp.createdAt, status.body.totp.lastUsedAt]) {
        expect(new Date(at).toISOString()).toBe(at);
      }
      expectProblem(
        await t.http.post(`${MFA}/totp`, { password: user.password }, refreshed.body.accessToken),
        409,
        'totp_already_enabled',
      );

      // The code that confirmed the authenticator is spent: it does not sign in.
      expectProblem(await secondStep(t, await firstStep(t, user), confirming), 400, 'invalid_code');

      const notice = await noticeTo(user.email, 'Two-step sign-in is on');
      expectNoSecretIn(everything(notice), started.body.secret, codes);
    });

    it('should let a secret-key account set it up after a recent sign-in, sign in in two steps, and turn it off with a code alone', async () => {
      const account = await secretKeyUser(t);
      const { authenticator, recoveryCodes } = await enrolTotp(t.http, account);

      const first = await t.http.post('/api/v1/auth/secret/login', {
        userSecret: account.userSecret,
      });
      expectProblem(first, 403, 'mfa_required');
      expect([...first.body.methods].sort()).toEqual(['recovery_code', 'totp']);
      expect(first.body).not.toHaveProperty('accessToken');
      const done = await secondStep(t, first.body.mfaToken, await authenticator.next());
      expect(done.status).toBe(200);
      expectTwoFactorToken(done.body.accessToken);
      expect(done.body.user).toMatchObject({ id: account.user.id, mfaEnabled: true });

      expect((await disable(t, done.body, { code: recoveryCodes[0] })).status).toBe(204);
      const again = await t.http.post('/api/v1/auth/secret/login', {
        userSecret: account.userSecret,
      });
      expect(again.status).toBe(200);
      expect(claims(again.body.accessToken)).toMatchObject({ amr: ['pwd'], aal: 'aal1' });
    });
  });

  describe('Signing in in two steps: POST /auth/mfa/verify', () => {
    it('should stop a password sign-in at 403 mfa_required with no token, and finish it with a code: an aal2 token pair', async () => {
      const user = await signedInUser(t.http);
      const { authenticator, secret } = await enrolTotp(t.http, user);
      const byName = await t.http.post('/api/v1/auth/login', {
        username: user.username,
        password: user.password,
      });
      expectProblem(byName, 403, 'mfa_required');
      const first = await t.http.post('/api/v1/auth/login', {
        email: user.email,
        password: user.password,
      });
      expectProblem(first, 403, 'mfa_required');
      expect(first.body).not.toHaveProperty('user');
      expect([...first.body.methods].sort()).toEqual(['recovery_code', 'totp']);
      const { mfaToken } = first.body;
      expect(mfaToken.length).toBeGreaterThanOrEqual(32);
      expect(mfaToken).not.toBe(byName.body.mfaToken);

      expectProblem(await t.http.post(VERIFY, { mfaToken }), 400, 'validation_failed');
      expectProblem(
        await secondStep(t, 'x'.repeat(43), await wrongCode(secret)),
        401,
        'invalid_mfa_token',
      );

      const done = await secondStep(t, mfaToken, await authenticator.next());
      expect(done.status).toBe(200);
      expect(done.headers['cache-control']).toBe('no-store');
      expect(done.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
        user: expect.objectContaining({ id: user.user.id, email: user.email, mfaEnabled: true }),
      });
      expectTwoFactorToken(done.body.accessToken);
      expect(claims(done.body.accessToken).sub).toBe(user.user.id);
      expect((await t.http.get('/api/v1/users/me', done.body.accessToken)).status).toBe(200);
      const refreshed = await t.http.post('/api/v1/auth/refresh', {
        refreshToken: done.body.refreshToken,
      });
      expectTwoFactorToken(refreshed.body.accessToken);

      // Spent: single use, even with another good code.
      expectProblem(
        await secondStep(t, mfaToken, await authenticator.next()),
        401,
        'invalid_mfa_token',
      );
      const status = await t.http.get(MFA, done.body.accessToken);
      expect(status.body.totp.lastUsedAt).toEqual(expect.any(String));
    });

    it('should stop an OAuth2 password grant with 403 mfa_required and an mfa_token, in the RFC 6749 shape', async () => {
      const user = await signedInUser(t.http);
      const { authenticator } = await enrolTotp(t.http, user);
      const form = await t.http.request('POST', '/api/v1/auth/token', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        raw: new URLSearchParams({
          grant_type: 'password',
          username: user.email,
          password: user.password,
        }).toString(),
      });
      const json = await t.http.post('/api/v1/auth/token', {
        grant_type: 'password',
        username: user.username,
        password: user.password,
      });
      for (const reply of [form, json]) {
        expect(reply.status).toBe(403);
        expect(reply.headers['cache-control']).toBe('no-store');
        expect(reply.body).toEqual({
          error: 'mfa_required',
          error_description: expect.any(String),
          mfa_token: expect.any(String),
        });
      }
      expect(json.body.mfa_token).not.toBe(form.body.mfa_token);
      const done = await secondStep(t, json.body.mfa_token, await authenticator.next());
      expect(done.status).toBe(200);
      expectTwoFactorToken(done.body.accessToken);
    });

    it('should accept a code one step behind or ahead, each step once, and refuse one two steps away or older than the last used', async () => {
      const user = await signedInUser(t.http);
      const { secret } = await enrolTotp(t.http, user);
      // As if the authenticator was last used ten minutes ago: only the window decides.
      await t.app
        .get(DataSource)
        .query(
          `UPDATE totp_authenticators SET last_used_step = last_used_step - 20 WHERE user_id = $1`,
          [user.user.id],
        );

      await awayFromStepEnd();
      let mfaToken = await firstStep(t, user);
      expectProblem(
        await secondStep(t, mfaToken, await codeFromNow(secret, -60)),
        400,
        'invalid_code',
      );
      expectProblem(
        await secondStep(t, mfaToken, await codeFromNow(secret, 60)),
        400,
        'invalid_code',
      );
      const behind = await codeFromNow(secret, -30);
      const passed = await secondStep(t, mfaToken, behind);
      expect(passed.status).toBe(200);
      expectTwoFactorToken(passed.body.accessToken);

      mfaToken = await firstStep(t, user);
      expectProblem(await secondStep(t, mfaToken, behind), 400, 'invalid_code');
      const ahead = await codeFromNow(secret, 30);
      expect((await secondStep(t, mfaToken, ahead)).status).toBe(200);

      mfaToken = await firstStep(t, user);
      expectProblem(await secondStep(t, mfaToken, ahead), 400, 'invalid_code');
      // The current step is not later than the one used last: refused too.
      expectProblem(await secondStep(t, mfaToken, await codeFromNow(secret)), 400, 'invalid_code');
    });

    it('should refuse, not fail, a code when the last step used is ahead of the clock (a clock set back, another instance)', async () => {
      const user = await signedInUser(t.http);
      const { secret, recoveryCodes } = await enrolTotp(t.http, user);
      await t.app
        .get(DataSource)
        .query(`UPDATE totp_authenticators SET last_used_step = $2 WHERE user_id = $1`, [
          user.user.id,
          currentStep() + 5,
        ]);
      const mfaToken = await firstStep(t, user);
      for (const offset of [-30, 0, 30]) {
        expectProblem(
          await secondStep(t, mfaToken, await codeFromNow(secret, offset)),
          400,
          'invalid_code',
        );
      }
      expectProblem(
        await t.http.post(
          `${MFA}/recovery-codes`,
          { code: await codeFromNow(secret) },
          user.accessToken,
        ),
        400,
        'invalid_code',
      );
      // A recovery code still gets the owner in.
      expect((await secondStep(t, mfaToken, recoveryCodes[0])).status).toBe(200);
    });

    it('should let a code pass once when sign-ins race with it, and finish an mfaToken once when codes race for it', async () => {
      const user = await signedInUser(t.http);
      const { authenticator, recoveryCodes } = await enrolTotp(t.http, user);
      const statuses = (replies: Reply[]) => replies.map((reply) => reply.status).sort();

      const code = await authenticator.next();
      const tokens = [await firstStep(t, user), await firstStep(t, user)];
      expect(
        statuses(await Promise.all(tokens.map((mfaToken) => secondStep(t, mfaToken, code)))),
      ).toEqual([200, 400]);

      const more = [await firstStep(t, user), await firstStep(t, user)];
      expect(
        statuses(
          await Promise.all(more.map((mfaToken) => secondStep(t, mfaToken, recoveryCodes[0]))),
        ),
      ).toEqual([200, 400]);

      const mfaToken = await firstStep(t, user);
      const both = await Promise.all([
        secondStep(t, mfaToken, await authenticator.next()),
        secondStep(t, mfaToken, recoveryCodes[1]),
      ]);
      expect(statuses(both)).toEqual([200, 401]);
      expect(both.find((reply) => reply.status === 401)?.body.code).toBe('invalid_mfa_token');
    });

    it('should void the mfaToken after 5 wrong codes: the fifth answers 429 too_many_attempts, then even the right code', async () => {
      const user = await signedInUser(t.http);
      const { authenticator, secret } = await enrolTotp(t.http, user);
      const mfaToken = await firstStep(t, user);
      const wrong = await wrongCode(secret);
      for (const code of [wrong, 'zzzzz-zzzzz', wrong, 'not a code at all']) {
        expectProblem(await secondStep(t, mfaToken, code), 400, 'invalid_code');
      }
      const fifth = await secondStep(t, mfaToken, wrong);
      expectProblem(fifth, 429, 'too_many_attempts');
      expect(Number(fifth.headers['retry-after'])).toBeGreaterThan(0);
      const right = await authenticator.next();
      expectProblem(await secondStep(t, mfaToken, right), 429, 'too_many_attempts');

      // The account is not locked, and the code refused with the void token was not spent.
      const done = await secondStep(t, await firstStep(t, user), right);
      expect(done.status).toBe(200);
    });

    it('should finish a sign-in with a recovery code once, mail how many are left, and count them down', async () => {
      const user = await signedInUser(t.http);
      const { recoveryCodes, secret } = await enrolTotp(t.http, user);
      const first = await secondStep(t, await firstStep(t, user), recoveryCodes[3]);
      expect(first.status).toBe(200);
      expectTwoFactorToken(first.body.accessToken);
      const nineLeft = await smtp.sink.waitFor(
        (mail) =>
          mail.to.includes(user.email) &&
          mail.subject === 'A recovery code was used' &&
          /\b9\b[^.]*\bleft\b/.test(mail.text),
      );
      expect((await t.http.get(MFA, first.body.accessToken)).body.recoveryCodesLeft).toBe(9);

      expectProblem(
        await secondStep(t, await firstStep(t, user), recoveryCodes[3]),
        400,
        'invalid_code',
      );
      const second = await secondStep(t, await firstStep(t, user), recoveryCodes[7]);
      expect(second.status).toBe(200);
      const eightLeft = await smtp.sink.waitFor(
        (mail) =>
          mail.to.includes(user.email) &&
          mail.subject === 'A recovery code was used' &&
          /\b8\b[^.]*\bleft\b/.test(mail.text),
      );
      expect((await t.http.get(MFA, second.body.accessToken)).body.recoveryCodesLeft).toBe(8);
      for (const mail of [nineLeft, eightLeft]) {
        expectNoSecretIn(everything(mail), secret, recoveryCodes);
      }
    });
  });

  describe('Recovery codes and turning it off', () => {
    it('should replace the recovery codes for a current TOTP code: every older one is void', async () => {
      const user = await signedInUser(t.http);
      const { authenticator, secret, recoveryCodes: old } = await enrolTotp(t.http, user);
      const regenerate = (code: string) =>
        t.http.post(`${MFA}/recovery-codes`, { code }, user.accessToken);
      expectProblem(await regenerate(await wrongCode(secret)), 400, 'invalid_code');
      // A recovery code is not enough to make new ones.
      expectProblem(await regenerate(old[0]), 400, 'invalid_code');
      const renewed = await regenerate(await authenticator.next());
      expect(renewed.status).toBe(200);
      expect(renewed.headers['cache-control']).toBe('no-store');
      const codes: string[] = renewed.body.recoveryCodes;
      expect(codes).toHaveLength(10);
      expect(new Set([...codes, ...old]).size).toBe(20);
      expect((await t.http.get(MFA, user.accessToken)).body.recoveryCodesLeft).toBe(10);

      const mfaToken = await firstStep(t, user);
      for (const code of [old[0], old[1]]) {
        expectProblem(await secondStep(t, mfaToken, code), 400, 'invalid_code');
      }
      expect((await secondStep(t, mfaToken, codes[0])).status).toBe(200);
    });

    it('should turn it off with the password and a code: the factors go, sign-in is one step again, a notice is mailed', async () => {
      const user = await signedInUser(t.http);
      const { authenticator, secret, recoveryCodes } = await enrolTotp(t.http, user);
      const code = await authenticator.next();
      expectProblem(
        await disable(t, user, { password: WRONG_PASSWORD, code }),
        401,
        'invalid_credentials',
      );
      expectProblem(await disable(t, user, { code }), 400, 'validation_failed');
      expectProblem(
        await disable(t, user, { password: user.password, code: await wrongCode(secret) }),
        400,
        'invalid_code',
      );
      expect((await t.http.get('/api/v1/users/me', user.accessToken)).body.mfaEnabled).toBe(true);
      // The code refused with the wrong password was not spent.
      expect((await disable(t, user, { password: user.password, code })).status).toBe(204);

      expect((await t.http.get(MFA, user.accessToken)).body).toEqual({
        totp: { enabled: false, createdAt: null, lastUsedAt: null },
        recoveryCodesLeft: 0,
        passkeys: 0,
      });
      expect((await t.http.get('/api/v1/users/me', user.accessToken)).body.mfaEnabled).toBe(false);
      const login = await t.http.post('/api/v1/auth/login', {
        email: user.email,
        password: user.password,
      });
      expect(login.status).toBe(200);
      expect(login.body.user.mfaEnabled).toBe(false);
      expect(claims(login.body.accessToken)).toMatchObject({ amr: ['pwd'], aal: 'aal1' });
      const [left] = await t.app.get(DataSource).query(
        `SELECT (SELECT count(*) FROM recovery_codes WHERE user_id = $1)::int AS codes,
                  (SELECT count(*) FROM totp_authenticators WHERE user_id = $1)::int AS authenticators`,
        [user.user.id],
      );
      expect(left).toEqual({ codes: 0, authenticators: 0 });

      const notice = await noticeTo(user.email, 'Two-step sign-in is off');
      expectNoSecretIn(everything(notice), secret, recoveryCodes);
    });
  });

  it('should keep neither the secret nor a recovery code in plaintext anywhere in the database or in a mail', async () => {
    const user = await signedInUser(t.http);
    const { authenticator, secret, recoveryCodes: first } = await enrolTotp(t.http, user);
    const renewed = await t.http.post(
      `${MFA}/recovery-codes`,
      { code: await authenticator.next() },
      user.accessToken,
    );
    const second: string[] = renewed.body.recoveryCodes;
    expect((await secondStep(t, await firstStep(t, user), second[0])).status).toBe(200);
    await noticeTo(user.email, 'Two-step sign-in is on');
    await noticeTo(user.email, 'A recovery code was used');

    const db = t.app.get(DataSource);
    const [sealed] = await db.query(
      `SELECT secret_sealed FROM totp_authenticators WHERE user_id = $1`,
      [user.user.id],
    );
    expect(sealed.secret_sealed).toEqual(expect.any(String));
    const hashes: Array<{ code_hash: string }> = await db.query(
      `SELECT code_hash FROM recovery_codes WHERE user_id = $1`,
      [user.user.id],
    );
    expect(hashes).toHaveLength(10);

    const tables: Array<{ table_name: string }> = await db.query(
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
    );
    const names = tables.map((table) => table.table_name);
    expect(names).toEqual(
      expect.arrayContaining(['users', 'totp_authenticators', 'recovery_codes', 'mfa_challenges']),
    );
    // Every row of every table, every column in its text form.
    let dump = '';
    for (const name of names) {
      const rows: Array<{ row: string }> = await db.query(`SELECT t::text AS row FROM "${name}" t`);
      dump += rows.map((row) => row.row).join('\n');
    }
    expect(dump).toContain(sealed.secret_sealed);
    expect(dump).toContain(user.user.id);
    const raw = base32Bytes(secret);
    expect(raw.length).toBeGreaterThanOrEqual(10);
    expectNoSecretIn(dump, secret, [...first, ...second]);
    for (const encoded of [
      raw.toString('hex'),
      raw.toString('base64'),
      raw.toString('base64url'),
    ]) {
      expect(dump).not.toContain(encoded);
    }

    const mails = smtp.sink.to(user.email);
    expect(mails.map((mail) => mail.subject)).toEqual(
      expect.arrayContaining(['Two-step sign-in is on', 'A recovery code was used']),
    );
    for (const mail of mails) {
      expectNoSecretIn(everything(mail), secret, [...first, ...second]);
    }
  });
});

describe('Two-step sign-in with short clocks and small limits (e2e)', () => {
  const t = useTestApp({
    MFA_TOKEN_TTL: '1',
    REAUTH_MAX_AGE: '1',
    RATE_LIMIT_FAILURES_PER_ADDRESS: '3',
  });

  it('should answer 401 invalid_mfa_token once the mfaToken is older than MFA_TOKEN_TTL', async () => {
    const user = await signedInUser(t.http);
    const { authenticator } = await enrolTotp(t.http, user);
    const mfaToken = await firstStep(t, user);
    await sleep(1100);
    expectProblem(
      await secondStep(t, mfaToken, await authenticator.next()),
      401,
      'invalid_mfa_token',
    );
  });

  it('should ask an account without a password for a sign-in newer than REAUTH_MAX_AGE: 403 reauthentication_required', async () => {
    const account = await secretKeyUser(t);
    await sleep(1100);
    expectProblem(
      await t.http.post(`${MFA}/totp`, {}, account.accessToken),
      403,
      'reauthentication_required',
    );
    expect((await t.http.get(MFA, account.accessToken)).body.totp.enabled).toBe(false);
  });

  it('should count wrong codes, on the MFA routes and at the second step, toward the sign-in failure limit of the address and account', async () => {
    const user = await signedInUser(t.http);
    const { authenticator, secret } = await enrolTotp(t.http, user);
    const wrong = await wrongCode(secret);
    expectProblem(
      await t.http.post(`${MFA}/recovery-codes`, { code: wrong }, user.accessToken),
      400,
      'invalid_code',
    );
    expectProblem(
      await disable(t, user, { password: user.password, code: wrong }),
      400,
      'invalid_code',
    );
    const mfaToken = await firstStep(t, user);
    expectProblem(await secondStep(t, mfaToken, wrong), 400, 'invalid_code');

    // Three failures: the limit of this address and account is reached, even for the right code.
    const right = await authenticator.next();
    const limited = await secondStep(t, mfaToken, right);
    expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expectProblem(
      await t.http.post('/api/v1/auth/login', { email: user.email, password: user.password }),
      429,
      'rate_limited',
    );

    // Another address is not affected, and the refused code was not spent.
    const elsewhere = '198.51.100.7';
    const done = await secondStep(t, await firstStep(t, user, elsewhere), right, elsewhere);
    expect(done.status).toBe(200);
    expectTwoFactorToken(done.body.accessToken);
  });
});

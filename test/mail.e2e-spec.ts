import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  expectProblem,
  expectSessionEnded,
  expectSignInRefused,
  newUser,
  PASSWORD,
  signedInUser,
} from './support/factories';
import { codeIn, resetLinkIn, SmtpSink, useSmtpSink } from './support/smtp-sink';
import { useAppWithMailDown } from './support/mail-down';
import { TestApp, useTestApp } from './support/test-app';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const PUBLIC_URL = 'https://auth.example.test';

/** Registers an account and returns it with the code from its verification mail. */
async function registerAndReadCode(t: TestApp, sink: SmtpSink, overrides = {}) {
  const body = newUser(overrides);
  const reply = await t.http.post('/api/v1/auth/register', body);
  expect(reply.status).toBe(201);
  const mail = await sink.waitFor(
    (m) => m.to.includes(body.email) && /verification code/i.test(m.subject),
  );
  return { body, user: reply.body, mail, code: codeIn(mail) };
}

describe('Email verification (e2e)', () => {
  const smtp = useSmtpSink();
  const t = useTestApp(() => ({ MAIL_URL: smtp.sink.url, RATE_LIMIT: 'off', PUBLIC_URL }));

  it('should mail a 6-digit code at registration that verifies the address once', async () => {
    const { body, user, mail, code } = await registerAndReadCode(t, smtp.sink);
    expect(mail.from).toContain(`no-reply@auth.example.test`);
    expect(mail.html).toContain(code);
    expect(code).toMatch(/^\d{6}$/);
    expect(JSON.stringify(user)).not.toContain(code);

    const verified = await t.http.post('/api/v1/auth/verify-email', {
      email: body.email.toUpperCase(),
      code,
    });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ id: user.id, email: body.email, emailVerified: true });
    expectProblem(
      await t.http.post('/api/v1/auth/verify-email', { email: body.email, code }),
      400,
      'invalid_code',
    );
  });

  it('should keep no code in plaintext and erase the delivered mail', async () => {
    const { user, code } = await registerAndReadCode(t, smtp.sink);
    const db = t.app.get(DataSource);
    // Delivery is recorded just after the SMTP server accepts the mail.
    await sleep(300);
    const [outbox] = await db.query(
      `SELECT status, payload, to_jsonb(o)::text AS everything FROM outbox o WHERE user_id = $1`,
      [user.id],
    );
    expect(outbox).toMatchObject({ status: 'sent', payload: null });
    expect(outbox.everything).not.toContain(code);
    const [stored] = await db.query(
      `SELECT code_hash FROM email_verifications WHERE user_id = $1`,
      [user.id],
    );
    expect(stored.code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.code_hash).not.toContain(code);
  });

  it('should answer wrong, unknown-address and spent codes alike, and void the code after 5 wrong ones', async () => {
    const { body, code } = await registerAndReadCode(t, smtp.sink);
    const wrong = code === '000000' ? '000001' : '000000';
    const unknown = await t.http.post('/api/v1/auth/verify-email', {
      email: `nobody.${body.email}`,
      code,
    });
    expectProblem(unknown, 400, 'invalid_code');
    for (let i = 1; i <= 4; i++) {
      const reply = await t.http.post('/api/v1/auth/verify-email', {
        email: body.email,
        code: wrong,
      });
      expectProblem(reply, 400, 'invalid_code');
      expect(reply.body).toEqual(unknown.body);
    }
    expectProblem(
      await t.http.post('/api/v1/auth/verify-email', { email: body.email, code: wrong }),
      429,
      'too_many_attempts',
    );
    // Void: even the right code no longer works.
    expectProblem(
      await t.http.post('/api/v1/auth/verify-email', { email: body.email, code }),
      429,
      'too_many_attempts',
    );

    const resent = await t.http.post('/api/v1/auth/verify-email/resend', { email: body.email });
    expect(resent.status).toBe(202);
    const second = await smtp.sink.waitFor((m) => m.to.includes(body.email) && codeIn(m) !== code);
    const ok = await t.http.post('/api/v1/auth/verify-email', {
      email: body.email,
      code: codeIn(second),
    });
    expect(ok.status).toBe(200);
  });

  it('should void the old code when a new one is sent', async () => {
    const { body, code: first } = await registerAndReadCode(t, smtp.sink);
    await t.http.post('/api/v1/auth/verify-email/resend', { email: body.email });
    const mail = await smtp.sink.waitFor((m) => m.to.includes(body.email) && codeIn(m) !== first);
    const second = codeIn(mail);
    expectProblem(
      await t.http.post('/api/v1/auth/verify-email', { email: body.email, code: first }),
      400,
      'invalid_code',
    );
    expect(
      (await t.http.post('/api/v1/auth/verify-email', { email: body.email, code: second })).status,
    ).toBe(200);
  });

  it('should let concurrent submissions of the right code succeed once', async () => {
    const { body, code } = await registerAndReadCode(t, smtp.sink);
    const replies = await Promise.all(
      Array.from({ length: 6 }, () =>
        t.http.post('/api/v1/auth/verify-email', { email: body.email, code }),
      ),
    );
    expect(replies.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400, 400]);
  });

  it('should answer resend alike for unknown, verified and unverified addresses, mailing only the last', async () => {
    const { body, code } = await registerAndReadCode(t, smtp.sink);
    await t.http.post('/api/v1/auth/verify-email', { email: body.email, code });
    const verified = await t.http.post('/api/v1/auth/verify-email/resend', { email: body.email });
    const unknownEmail = `nobody.${body.email}`;
    const unknown = await t.http.post('/api/v1/auth/verify-email/resend', { email: unknownEmail });
    const pending = await registerAndReadCode(t, smtp.sink);
    const unverified = await t.http.post('/api/v1/auth/verify-email/resend', {
      email: pending.body.email,
    });
    for (const reply of [verified, unknown, unverified]) {
      expect(reply.status).toBe(202);
      expect(reply.body).toEqual(unknown.body);
    }
    await smtp.sink.waitFor((m) => m.to.includes(pending.body.email) && codeIn(m) !== pending.code);
    await sleep(500);
    expect(smtp.sink.to(body.email)).toHaveLength(1);
    expect(smtp.sink.to(unknownEmail)).toHaveLength(0);
  });
});

describe('Password reset and notices (e2e)', () => {
  const smtp = useSmtpSink();
  const t = useTestApp(() => ({ MAIL_URL: smtp.sink.url, RATE_LIMIT: 'off', PUBLIC_URL }));

  const resetMailFor = (email: string, not?: string) =>
    smtp.sink.waitFor(
      (m) =>
        m.to.includes(email) &&
        /reset your password/i.test(m.subject) &&
        (!not || resetLinkIn(m).token !== not),
    );

  it('should answer forgot alike for known and unknown addresses and mail a link built from PUBLIC_URL', async () => {
    const user = await signedInUser(t.http);
    const unknownEmail = `nobody.${user.email}`;
    const evilHost = { host: 'evil.example', 'x-forwarded-host': 'evil.example' };
    const known = await t.http.request('POST', '/api/v1/auth/password/forgot', {
      body: { email: user.email },
      headers: evilHost,
    });
    const unknown = await t.http.request('POST', '/api/v1/auth/password/forgot', {
      body: { email: unknownEmail },
      headers: evilHost,
    });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(known.text).toBe(unknown.text);
    const mail = await resetMailFor(user.email);
    const { href, token } = resetLinkIn(mail);
    expect(href.startsWith(`${PUBLIC_URL}/reset?token=`)).toBe(true);
    expect(mail.html).toContain(`${PUBLIC_URL}/reset?token=`);
    expect(mail.text + mail.html).not.toContain('evil.example');
    expect(known.text).not.toContain(token);
    await sleep(300);
    expect(smtp.sink.to(unknownEmail)).toHaveLength(0);
  });

  it('should reset the password, end every session, sign nobody in, spend the token and mail a notice', async () => {
    const user = await signedInUser(t.http);
    await t.http.post('/api/v1/auth/password/forgot', { email: user.email });
    const { token } = resetLinkIn(await resetMailFor(user.email));
    const newPassword = 'amber lantern quietly 77';

    const reply = await t.http.post('/api/v1/auth/password/reset', { token, newPassword });
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
    await expectSessionEnded(t.http, user);
    await expectSignInRefused(t.http, user, 401, 'invalid_credentials');
    const login = await t.http.post('/api/v1/auth/login', {
      email: user.email,
      password: newPassword,
    });
    expect(login.status).toBe(200);
    expect(login.body.user.emailVerified).toBe(true);

    expectProblem(
      await t.http.post('/api/v1/auth/password/reset', {
        token,
        newPassword: 'another good passphrase 5',
      }),
      400,
      'invalid_token',
    );
    const notice = await smtp.sink.waitFor(
      (m) => m.to.includes(user.email) && m.subject === 'Your password was reset',
    );
    expect(notice.text).toContain('127.0.0.1');
  });

  it('should void an older link when a newer one is requested, and keep a link after a refused weak password', async () => {
    const user = await signedInUser(t.http);
    await t.http.post('/api/v1/auth/password/forgot', { email: user.email });
    const first = resetLinkIn(await resetMailFor(user.email)).token;
    await t.http.post('/api/v1/auth/password/forgot', { email: user.email });
    const second = resetLinkIn(await resetMailFor(user.email, first)).token;

    expectProblem(
      await t.http.post('/api/v1/auth/password/reset', {
        token: first,
        newPassword: 'amber lantern quietly 77',
      }),
      400,
      'invalid_token',
    );
    expectProblem(
      await t.http.post('/api/v1/auth/password/reset', {
        token: second,
        newPassword: 'password123',
      }),
      400,
      'weak_password',
    );
    expect(
      (
        await t.http.post('/api/v1/auth/password/reset', {
          token: second,
          newPassword: 'amber lantern quietly 77',
        })
      ).status,
    ).toBe(204);
    expectProblem(
      await t.http.post('/api/v1/auth/password/reset', {
        token: 'made-up',
        newPassword: 'amber lantern quietly 77',
      }),
      400,
      'invalid_token',
    );
  });

  it('should mail a notice when the password is changed', async () => {
    const user = await signedInUser(t.http, {}, { 'user-agent': 'NoticeTest/1.0' });
    const reply = await t.http.request('PUT', '/api/v1/users/me/password', {
      token: user.accessToken,
      body: { currentPassword: user.password, newPassword: 'amber lantern quietly 77' },
      headers: { 'user-agent': 'NoticeTest/1.0' },
    });
    expect(reply.status).toBe(204);
    const notice = await smtp.sink.waitFor(
      (m) => m.to.includes(user.email) && m.subject === 'Your password was changed',
    );
    expect(notice.text).toContain('NoticeTest/1.0');
    expect(notice.text).not.toContain('amber lantern');
  });
});

describe('Code and link expiry (e2e)', () => {
  const smtp = useSmtpSink();
  const t = useTestApp(() => ({
    MAIL_URL: smtp.sink.url,
    RATE_LIMIT: 'off',
    OTP_TTL: '1',
    PASSWORD_RESET_TTL: '1',
  }));

  it('should refuse an expired code and an expired reset link', async () => {
    const { body, code } = await registerAndReadCode(t, smtp.sink);
    await t.http.post('/api/v1/auth/password/forgot', { email: body.email });
    const { token } = resetLinkIn(
      await smtp.sink.waitFor((m) => m.to.includes(body.email) && /reset/i.test(m.subject)),
    );
    await sleep(1600);
    expectProblem(
      await t.http.post('/api/v1/auth/verify-email', { email: body.email, code }),
      400,
      'invalid_code',
    );
    expectProblem(
      await t.http.post('/api/v1/auth/password/reset', {
        token,
        newPassword: 'amber lantern quietly 77',
      }),
      400,
      'invalid_token',
    );
  });
});

describe('REQUIRE_VERIFIED_EMAIL=true (e2e)', () => {
  const smtp = useSmtpSink();
  const t = useTestApp(() => ({
    MAIL_URL: smtp.sink.url,
    RATE_LIMIT: 'off',
    REQUIRE_VERIFIED_EMAIL: 'true',
  }));

  it('should refuse sign-in until the address is verified', async () => {
    const { body, code } = await registerAndReadCode(t, smtp.sink);
    expectProblem(
      await t.http.post('/api/v1/auth/login', { email: body.email, password: PASSWORD }),
      403,
      'email_not_verified',
    );
    const token = await t.http.post('/api/v1/auth/token', {
      grant_type: 'password',
      username: body.email,
      password: PASSWORD,
    });
    expect(token.status).toBe(400);
    expect(token.body.error).toBe('invalid_grant');
    // A wrong password still gets the ordinary answer.
    expectProblem(
      await t.http.post('/api/v1/auth/login', { email: body.email, password: 'wrong password 12' }),
      401,
      'invalid_credentials',
    );

    await t.http.post('/api/v1/auth/verify-email', { email: body.email, code });
    expect(
      (await t.http.post('/api/v1/auth/login', { email: body.email, password: PASSWORD })).status,
    ).toBe(200);
  });
});

describe('Mail server down (e2e)', () => {
  const { app, mailServerUp } = useAppWithMailDown();

  it('should register while SMTP is down and deliver the code once it is back', async () => {
    const t = app();
    const body = newUser();
    const started = Date.now();
    const reply = await t.http.post('/api/v1/auth/register', body);
    expect(reply.status).toBe(201);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(
      (await t.http.post('/api/v1/auth/login', { email: body.email, password: PASSWORD })).status,
    ).toBe(200);
    await sleep(1500);
    const [pending] = await t.app
      .get(DataSource)
      .query(`SELECT status, attempts FROM outbox WHERE recipient = $1`, [body.email]);
    expect(pending.status).toBe('pending');
    expect(pending.attempts).toBeGreaterThanOrEqual(1);

    const sink = await mailServerUp();
    const mail = await sink.waitFor((m) => m.to.includes(body.email), 20000);
    const verified = await t.http.post('/api/v1/auth/verify-email', {
      email: body.email,
      code: codeIn(mail),
    });
    expect(verified.status).toBe(200);
    expect(verified.body.id).toBe(reply.body.id);
  });
});

describe('Mail without MAIL_URL (e2e)', () => {
  const t = useTestApp({ RATE_LIMIT: 'off' });

  it('should write the mail, code included, to the log in development', async () => {
    const logged: string[] = [];
    const spy = jest.spyOn(Logger.prototype, 'log').mockImplementation((message: unknown) => {
      logged.push(String(message));
    });
    try {
      const body = newUser();
      expect((await t.http.post('/api/v1/auth/register', body)).status).toBe(201);
      let entry: string | undefined;
      for (let i = 0; i < 50 && !entry; i++) {
        await sleep(100);
        entry = logged.find((line) => line.includes(`To: ${body.email}`));
      }
      expect(entry).toBeDefined();
      const code = /^\s+(\d{6})\s*$/m.exec(entry as string)?.[1] as string;
      const verified = await t.http.post('/api/v1/auth/verify-email', { email: body.email, code });
      expect(verified.status).toBe(200);
    } finally {
      spy.mockRestore();
    }
  });
});

import { DataSource } from 'typeorm';
import { expectProblem, newUser, PASSWORD, signedInUser, SignedIn } from './support/factories';
import { codeIn, resetLinkIn, useSmtpSink } from './support/smtp-sink';
import { useAppWithMailDown } from './support/mail-down';
import { useTestApp } from './support/test-app';

const ADMIN = { email: 'reset.admin@example.com', password: 'granite orchard whistle 81' };
const NEW_PASSWORD = 'amber lantern quietly 77';

/**
 * A reset link is a key to the account: every change that settles the
 * password or the account's state (a password change, a reset, disabling,
 * deletion) voids the links still outstanding.
 */
describe('Outstanding reset links (e2e)', () => {
  const smtp = useSmtpSink();
  const t = useTestApp(() => ({
    MAIL_URL: smtp.sink.url,
    RATE_LIMIT: 'off',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
  }));

  async function resetLinkFor(user: SignedIn): Promise<string> {
    const before = smtp.sink.to(user.email).length;
    expect((await t.http.post('/api/v1/auth/password/forgot', { email: user.email })).status).toBe(
      202,
    );
    const mail = await smtp.sink.waitFor(
      (m) =>
        m.to.includes(user.email) &&
        /reset your password/i.test(m.subject) &&
        smtp.sink.to(user.email).indexOf(m) >= before,
    );
    return resetLinkIn(mail).token;
  }

  const reset = (token: string) =>
    t.http.post('/api/v1/auth/password/reset', { token, newPassword: NEW_PASSWORD });

  async function adminToken(): Promise<string> {
    const reply = await t.http.post('/api/v1/auth/login', ADMIN);
    expect(reply.status).toBe(200);
    return reply.body.accessToken as string;
  }

  it('should void a reset link when the password is changed', async () => {
    const user = await signedInUser(t.http);
    const token = await resetLinkFor(user);
    const changed = await t.http.request('PUT', '/api/v1/users/me/password', {
      token: user.accessToken,
      body: { currentPassword: PASSWORD, newPassword: 'copper meadow sunrise 19' },
    });
    expect(changed.status).toBe(204);
    expectProblem(await reset(token), 400, 'invalid_token');
    // The changed password stands.
    expect(
      (
        await t.http.post('/api/v1/auth/login', {
          email: user.email,
          password: 'copper meadow sunrise 19',
        })
      ).status,
    ).toBe(200);
  });

  it('should void a reset link when an administrator disables the account, also once it is enabled again', async () => {
    const user = await signedInUser(t.http);
    const token = await resetLinkFor(user);
    const admin = await adminToken();
    for (const disabled of [true, false]) {
      const reply = await t.http.request('PATCH', `/api/v1/users/${user.user.id}`, {
        token: admin,
        body: { disabled },
      });
      expect(reply.status).toBe(200);
    }
    expectProblem(await reset(token), 400, 'invalid_token');
  });

  it('should void a reset link when the account is deleted', async () => {
    const user = await signedInUser(t.http);
    const token = await resetLinkFor(user);
    const deleted = await t.http.request('DELETE', '/api/v1/users/me', {
      token: user.accessToken,
      body: { password: PASSWORD },
    });
    expect(deleted.status).toBe(204);
    expectProblem(await reset(token), 400, 'invalid_token');
  });

  it('should let a verification code mailed before a reset still verify, and never lock the owner out', async () => {
    const body = newUser();
    expect((await t.http.post('/api/v1/auth/register', body)).status).toBe(201);
    const code = codeIn(
      await smtp.sink.waitFor(
        (m) => m.to.includes(body.email) && /verification code/i.test(m.subject),
      ),
    );
    const before = smtp.sink.to(body.email).length;
    await t.http.post('/api/v1/auth/password/forgot', { email: body.email });
    const mail = await smtp.sink.waitFor(
      (m) =>
        m.to.includes(body.email) &&
        /reset your password/i.test(m.subject) &&
        smtp.sink.to(body.email).indexOf(m) >= before,
    );
    expect((await reset(resetLinkIn(mail).token)).status).toBe(204);

    // The reset proved the address; the code from the first mail is still the person's own.
    const verified = await t.http.post('/api/v1/auth/verify-email', { email: body.email, code });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ email: body.email, emailVerified: true });
  });
});

/**
 * A reset mail still waiting for delivery when the password changes must not
 * carry a working link once it goes out.
 */
describe('A reset mail queued before a password change (e2e)', () => {
  const { app, mailServerUp } = useAppWithMailDown();

  it('should not deliver a working link', async () => {
    const t = app();
    const user = await signedInUser(t.http);
    expect((await t.http.post('/api/v1/auth/password/forgot', { email: user.email })).status).toBe(
      202,
    );
    const changed = await t.http.request('PUT', '/api/v1/users/me/password', {
      token: user.accessToken,
      body: { currentPassword: PASSWORD, newPassword: 'copper meadow sunrise 19' },
    });
    expect(changed.status).toBe(204);
    const sink = await mailServerUp();
    // The notice of the change arrives; a reset link, if any arrives, does not work.
    await sink.waitFor(
      (m) => m.to.includes(user.email) && m.subject === 'Your password was changed',
      20000,
    );
    const resetMails = await t.app
      .get(DataSource)
      .query<Array<{ status: string }>>(
        `SELECT status FROM outbox WHERE recipient = $1 AND kind = 'password_reset'`,
        [user.email],
      );
    expect(resetMails).toEqual([{ status: 'skipped' }]);
    const links = sink.to(user.email).filter((m) => /reset your password/i.test(m.subject));
    for (const link of links) {
      expectProblem(
        await t.http.post('/api/v1/auth/password/reset', {
          token: resetLinkIn(link).token,
          newPassword: NEW_PASSWORD,
        }),
        400,
        'invalid_token',
      );
    }
    expect(links).toHaveLength(0);
  });
});

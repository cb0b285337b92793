import { randomUUID } from 'node:crypto';
import { ADMIN, ADMIN_ENV, signIn } from './support/admin';
import {
  expectProblem,
  expectSessionEnded,
  type SignedIn,
  signedInUser,
} from './support/factories';
import { useSmtpSink } from './support/smtp-sink';
import { type Reply, type TestApp, useTestApp } from './support/test-app';
import { enrolTotp, wrongCode } from './support/totp';

const MFA = '/api/v1/users/me/mfa';

function claims(accessToken: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString());
}

/** The first step of a password sign-in of an account with a second factor: its mfaToken. */
async function firstStep(t: TestApp, user: { email: string; password: string }): Promise<string> {
  const reply = await t.http.post('/api/v1/auth/login', {
    email: user.email,
    password: user.password,
  });
  expectProblem(reply, 403, 'mfa_required');
  return reply.body.mfaToken;
}

function secondStep(t: TestApp, mfaToken: string, code: string): Promise<Reply> {
  return t.http.post('/api/v1/auth/mfa/verify', { mfaToken, code });
}

describe('Second factors and administrators, with MFA_REQUIRED_FOR_ADMINS (e2e)', () => {
  const smtp = useSmtpSink();
  const t = useTestApp(() => ({
    ...ADMIN_ENV,
    MAIL_URL: smtp.sink.url,
    MFA_REQUIRED_FOR_ADMINS: 'true',
  }));
  /** The bootstrapped administrator, with an authenticator set up in this session. */
  let admin: SignedIn;

  beforeAll(async () => {
    admin = await signIn(t, ADMIN.email, ADMIN.password);
    await enrolTotp(t.http, admin);
  });

  const resetMfa = (id: string, token?: string) =>
    t.http.request('DELETE', `/api/v1/users/${id}/mfa`, { token });

  it('should refuse every admin route to an administrator without a second factor with 403 mfa_enrollment_required, until one is set up', async () => {
    const user = await signedInUser(t.http);
    const promoted = await t.http.request('PATCH', `/api/v1/users/${user.user.id}`, {
      token: admin.accessToken,
      body: { roles: ['user', 'admin'] },
    });
    expect(promoted.status).toBe(200);
    const adminRoutes: Array<['GET' | 'DELETE', string]> = [
      ['GET', '/api/v1/users'],
      ['GET', `/api/v1/users/${user.user.id}`],
      ['GET', '/api/v1/audit'],
      ['DELETE', `/api/v1/users/${randomUUID()}/mfa`],
    ];
    for (const [method, url] of adminRoutes) {
      expectProblem(
        await t.http.request(method, url, { token: user.accessToken }),
        403,
        'mfa_enrollment_required',
      );
    }
    // The account's own routes stay open: that is where the factor is set up.
    expect((await t.http.get('/api/v1/users/me', user.accessToken)).body.roles).toEqual([
      'user',
      'admin',
    ]);
    expect((await t.http.get(MFA, user.accessToken)).status).toBe(200);

    const { authenticator } = await enrolTotp(t.http, user);
    expect((await t.http.get('/api/v1/users', user.accessToken)).status).toBe(200);
    const signedIn = await secondStep(t, await firstStep(t, user), await authenticator.next());
    expect(signedIn.status).toBe(200);
    expect(claims(signedIn.body.accessToken)).toMatchObject({ aal: 'aal2' });
    for (const [method, url] of adminRoutes.slice(0, 3)) {
      const reply = await t.http.request(method, url, { token: signedIn.body.accessToken });
      expect(reply.status).toBe(200);
    }
    expectProblem(await resetMfa(randomUUID(), signedIn.body.accessToken), 404);
  });

  it('should remove the factors of a user who lost the phone: 204, every session ended, one-step sign-in, a notice, audited with the actor', async () => {
    const user = await signedInUser(t.http);
    const { authenticator, secret, recoveryCodes } = await enrolTotp(t.http, user);
    const twoStep = await secondStep(t, await firstStep(t, user), await authenticator.next());
    expect(twoStep.status).toBe(200);
    const pending = await firstStep(t, user);

    const reset = await resetMfa(user.user.id, admin.accessToken);
    expect(reset.status).toBe(204);

    await expectSessionEnded(t.http, user);
    await expectSessionEnded(t.http, twoStep.body);
    // A sign-in waiting for its second step ends too.
    expectProblem(
      await secondStep(t, pending, await authenticator.next()),
      401,
      'invalid_mfa_token',
    );
    const login = await t.http.post('/api/v1/auth/login', {
      email: user.email,
      password: user.password,
    });
    expect(login.status).toBe(200);
    expect(login.body.user.mfaEnabled).toBe(false);
    expect(claims(login.body.accessToken)).toMatchObject({ amr: ['pwd'], aal: 'aal1' });
    expect((await t.http.get(MFA, login.body.accessToken)).body).toEqual({
      totp: { enabled: false, createdAt: null, lastUsedAt: null },
      recoveryCodesLeft: 0,
      passkeys: 0,
    });
    const seen = await t.http.get(`/api/v1/users/${user.user.id}`, admin.accessToken);
    expect(seen.body.mfaEnabled).toBe(false);

    const notice = await smtp.sink.waitFor(
      (mail) => mail.to.includes(user.email) && mail.subject === 'Your second factors were removed',
    );
    const text = `${notice.text}\n${notice.html}`.toLowerCase();
    for (const needle of [secret, ...recoveryCodes]) {
      expect(text).not.toContain(needle.toLowerCase());
    }

    const audit = await t.http.get(
      `/api/v1/audit?userId=${user.user.id}&type=mfa.reset`,
      admin.accessToken,
    );
    expect(audit.status).toBe(200);
    expect(audit.body.total).toBe(1);
    expect(audit.body.items[0]).toMatchObject({
      type: 'mfa.reset',
      userId: user.user.id,
      outcome: 'success',
      detail: expect.objectContaining({ actorId: admin.user.id }),
    });

    // The owner can set up a new authenticator.
    const again = await t.http.post(
      `${MFA}/totp`,
      { password: user.password },
      login.body.accessToken,
    );
    expect(again.status).toBe(201);
  });

  it('should answer 404 for an unknown user, 400 for a malformed id, 403 forbidden to a non-admin and 401 without a token', async () => {
    const victim = await signedInUser(t.http);
    await enrolTotp(t.http, victim);
    const other = await signedInUser(t.http);
    expectProblem(await resetMfa(randomUUID(), admin.accessToken), 404, 'not_found');
    expectProblem(await resetMfa('not-a-uuid', admin.accessToken), 400);
    expectProblem(await resetMfa(victim.user.id, other.accessToken), 403, 'forbidden');
    expectProblem(await resetMfa(victim.user.id), 401);
    expect((await t.http.get(MFA, victim.accessToken)).body.totp.enabled).toBe(true);
  });

  it('should audit setting up, the second step, a wrong code, recovery codes and turning off, with no code or secret', async () => {
    const user = await signedInUser(t.http);
    const { authenticator, secret, recoveryCodes } = await enrolTotp(t.http, user);
    const mfaToken = await firstStep(t, user);
    expect((await secondStep(t, mfaToken, await wrongCode(secret))).status).toBe(400);
    const totpCode = await authenticator.next();
    expect((await secondStep(t, mfaToken, totpCode)).status).toBe(200);
    expect((await secondStep(t, await firstStep(t, user), recoveryCodes[0])).status).toBe(200);
    const regenerateCode = await authenticator.next();
    const renewed = await t.http.post(
      `${MFA}/recovery-codes`,
      { code: regenerateCode },
      user.accessToken,
    );
    expect(renewed.status).toBe(200);
    const off = await t.http.request('DELETE', `${MFA}/totp`, {
      token: user.accessToken,
      body: { password: user.password, code: renewed.body.recoveryCodes[0] },
    });
    expect(off.status).toBe(204);

    const trail = await t.http.get(
      `/api/v1/audit?userId=${user.user.id}&size=100`,
      admin.accessToken,
    );
    expect(trail.status).toBe(200);
    type Event = { type: string; outcome: string; detail: Record<string, unknown> | null };
    const events: Event[] = trail.body.items;
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'mfa.enabled',
        'login.failed',
        'recovery_code.used',
        'recovery_codes.regenerated',
        'mfa.disabled',
      ]),
    );
    const methods = (type: string) =>
      events.filter((e) => e.type === type).map((e) => e.detail?.method);
    expect(methods('login.succeeded')).toEqual(expect.arrayContaining(['totp', 'recovery_code']));
    expect(methods('login.failed')).toContain('totp');

    const recorded = JSON.stringify(trail.body).toLowerCase();
    for (const needle of [secret, ...recoveryCodes, ...renewed.body.recoveryCodes]) {
      expect(recorded).not.toContain(needle.toLowerCase());
    }
    for (const code of [totpCode, regenerateCode]) {
      expect(recorded).not.toContain(`"${code}"`);
    }
  });
});

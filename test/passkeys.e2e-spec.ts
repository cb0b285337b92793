import { randomBytes, randomUUID } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { DataSource } from 'typeorm';
import { ADMIN, signIn } from './support/admin';
import { expectProblem, newUser, type SignedIn, signedInUser } from './support/factories';
import { useSmtpSink } from './support/smtp-sink';
import {
  createStore,
  type Reply,
  startApp,
  type TestApp,
  type TestStore,
  useTestApp,
} from './support/test-app';
import { enrolTotp } from './support/totp';
import {
  type AuthenticatorSettings,
  type CreateKnobs,
  encodeCbor,
  flipByte,
  type GetKnobs,
  InvalidStateError,
  SoftAuthenticator,
  ZERO_AAGUID,
} from './support/webauthn';

/** The page's origin in these tests (PUBLIC_URL), and so the RP ID. */
const ORIGIN = 'http://localhost:3000';
const RP_ID = 'localhost';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

// ---------------------------------------------------------------------------
// First, the test's own authenticator against the library the service uses:
// what it makes is what a browser and a real authenticator would hand over.
// ---------------------------------------------------------------------------

describe('The software authenticator (test/support/webauthn.ts) against @simplewebauthn/server', () => {
  const verdict = (promise: Promise<{ verified: boolean }>) =>
    promise.then(
      (result) => result.verified,
      () => false,
    );

  async function registered(settings: Partial<AuthenticatorSettings> = {}) {
    const authenticator = new SoftAuthenticator({ origin: ORIGIN, ...settings });
    const options = await generateRegistrationOptions({
      rpName: 'auth-service',
      rpID: RP_ID,
      userName: 'someone@example.com',
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    });
    const response = authenticator.create(options);
    const verification = await verifyRegistrationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: ORIGIN,
      expectedRPID: RP_ID,
      requireUserVerification: false,
    });
    if (!verification.verified) {
      throw new Error('registration not verified');
    }
    return { authenticator, options, response, info: verification.registrationInfo };
  }

  it('should encode CBOR as RFC 8949 does', () => {
    const hex = (value: unknown) => encodeCbor(value).toString('hex');
    expect(hex(0)).toBe('00');
    expect(hex(23)).toBe('17');
    expect(hex(24)).toBe('1818');
    expect(hex(1000000)).toBe('1a000f4240');
    expect(hex(-1)).toBe('20');
    expect(hex(-7)).toBe('26');
    expect(hex(-1000)).toBe('3903e7');
    expect(hex('IETF')).toBe('6449455446');
    expect(hex(Buffer.from([1, 2, 3, 4]))).toBe('4401020304');
    expect(hex([1, [2, 3]])).toBe('8201820203');
    expect(
      hex(
        new Map([
          [1, 2],
          [3, 4],
        ]),
      ),
    ).toBe('a201020304');
    expect(hex({ a: 1 })).toBe('a1616101');
  });

  it('should make a passkey the library verifies: attestation none, ES256, the options user handle', async () => {
    const { authenticator, options, response, info } = await registered();
    expect(info).toMatchObject({
      fmt: 'none',
      aaguid: ZERO_AAGUID,
      userVerified: true,
      credentialDeviceType: 'singleDevice',
      credentialBackedUp: false,
      origin: ORIGIN,
      rpID: RP_ID,
    });
    expect(info.credential.id).toBe(response.id);
    expect(response.response.publicKeyAlgorithm).toBe(-7);
    expect(authenticator.last).toMatchObject({ rpId: RP_ID, userHandle: options.user.id });
  });

  it('should make a synced passkey (BE and BS flags) when asked', async () => {
    const { info } = await registered({ backedUp: true });
    expect(info).toMatchObject({ credentialDeviceType: 'multiDevice', credentialBackedUp: true });
  });

  it('should refuse to make a second passkey for an excluded credential, as a browser does', async () => {
    const { authenticator, response } = await registered();
    const again = await generateRegistrationOptions({
      rpName: 'auth-service',
      rpID: RP_ID,
      userName: 'someone@example.com',
      excludeCredentials: [{ id: response.id }],
    });
    expect(() => authenticator.create(again)).toThrow(InvalidStateError);
  });

  it('should be refused by the library for another origin or RP ID', async () => {
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const options = await generateRegistrationOptions({
      rpName: 'auth-service',
      rpID: RP_ID,
      userName: 'someone@example.com',
    });
    const check = (response: ReturnType<SoftAuthenticator['create']>) =>
      verdict(
        verifyRegistrationResponse({
          response,
          expectedChallenge: options.challenge,
          expectedOrigin: ORIGIN,
          expectedRPID: RP_ID,
          requireUserVerification: false,
        }),
      );
    expect(await check(authenticator.create(options, { origin: 'http://evil.example' }))).toBe(
      false,
    );
    expect(await check(authenticator.create(options, { rpId: 'evil.example' }))).toBe(false);
    expect(await check(authenticator.create(options, { challenge: 'AAAA' }))).toBe(false);
    expect(await check(authenticator.create(options))).toBe(true);
  });

  it('should sign assertions the library verifies, count up, and be refused when tampered with', async () => {
    const { authenticator, options: creation, info } = await registered();
    const credential = { ...info.credential };
    const verify = async (
      response: ReturnType<SoftAuthenticator['get']>,
      challenge: string,
      requireUserVerification = false,
    ) =>
      verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: ORIGIN,
        expectedRPID: RP_ID,
        credential,
        requireUserVerification,
      });

    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const response = authenticator.get(options);
    expect(response.response.userHandle).toBe(creation.user.id);
    const first = await verify(response, options.challenge, true);
    expect(first).toMatchObject({
      verified: true,
      authenticationInfo: { newCounter: 1, userVerified: true },
    });
    credential.counter = first.authenticationInfo.newCounter;

    const withoutUv = authenticator.get(options, { userVerification: false });
    expect((await verify(withoutUv, options.challenge)).authenticationInfo).toMatchObject({
      newCounter: 2,
      userVerified: false,
    });
    expect(
      await verdict(
        verify(authenticator.get(options, { userVerification: false }), options.challenge, true),
      ),
    ).toBe(false);
    credential.counter = 3;

    const broken = authenticator.get(options);
    broken.response.signature = flipByte(broken.response.signature, 10);
    expect(await verdict(verify(broken, options.challenge))).toBe(false);
    expect(
      await verdict(
        verify(authenticator.get(options, { origin: 'http://evil.example' }), options.challenge),
      ),
    ).toBe(false);
    expect(
      await verdict(
        verify(authenticator.get(options, { rpId: 'evil.example' }), options.challenge),
      ),
    ).toBe(false);
    expect(
      await verdict(
        verify(authenticator.get(options, { type: 'webauthn.create' }), options.challenge),
      ),
    ).toBe(false);
    expect(await verdict(verify(authenticator.get(options), 'another-challenge'))).toBe(false);
    // Backwards: the counter is 3, the authenticator reports 2.
    expect(
      await verdict(verify(authenticator.get(options, { counter: 2 }), options.challenge)),
    ).toBe(false);
    expect(
      await verdict(verify(authenticator.get(options, { counter: 9 }), options.challenge)),
    ).toBe(true);
  });

  it('should pick a passkey from allowCredentials, or the only discoverable one', async () => {
    const { authenticator, response } = await registered();
    const second = await generateRegistrationOptions({
      rpName: 'auth-service',
      rpID: RP_ID,
      userName: 'other@example.com',
    });
    const other = authenticator.create(second);
    const options = await generateAuthenticationOptions({
      rpID: RP_ID,
      allowCredentials: [{ id: response.id }],
    });
    expect(authenticator.get(options).id).toBe(response.id);
    expect(
      authenticator.get({ ...options, allowCredentials: [] }, { credential: other.id }).id,
    ).toBe(other.id);
    expect(() => authenticator.get({ ...options, allowCredentials: [] })).toThrow(/name one/);
  });
});

// ---------------------------------------------------------------------------
// The service's passkey routes, end to end.
// ---------------------------------------------------------------------------

const API = '/api/v1';
const PASSKEYS = `${API}/users/me/passkeys`;
const LOGIN_OPTIONS = `${API}/auth/passkey/options`;
const LOGIN = `${API}/auth/passkey/login`;
const MFA_OPTIONS = `${API}/auth/mfa/passkey-options`;
const VERIFY = `${API}/auth/mfa/verify`;
const WRONG_PASSWORD = 'not the password 1';
const EVIL_ORIGIN = 'http://evil.example';
/** A well-known model's AAGUID, with the name the service gives its passkeys. */
const GOOGLE_PASSWORD_MANAGER = 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client address of a test's own, so that failures in one test never count in another's limits. */
let addresses = 0;
function nextAddress(): string {
  addresses += 1;
  return `198.51.${100 + Math.floor(addresses / 250)}.${(addresses % 250) + 1}`;
}

/** The claims of an access token. */
function claims(accessToken: string): Record<string, any> {
  return JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString());
}

function newAuthenticator(settings: Partial<AuthenticatorSettings> = {}): SoftAuthenticator {
  return new SoftAuthenticator({ origin: ORIGIN, rpId: RP_ID, ...settings });
}

/** A random base64url string of `bytes` bytes: a challenge the service never issued. */
function randomChallenge(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

type Token = Pick<SignedIn, 'accessToken'>;

async function creationOptions(
  t: TestApp,
  user: Token,
  from?: string,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const reply = await t.http.request('POST', `${PASSKEYS}/options`, {
    token: user.accessToken,
    from,
  });
  expect(reply.status).toBe(200);
  return reply.body;
}

function register(t: TestApp, user: Token, body: unknown, from?: string): Promise<Reply> {
  return t.http.request('POST', PASSKEYS, { token: user.accessToken, body, from });
}

interface Passkey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  backedUp: boolean;
}

/** Adds a passkey made by `authenticator` to the account: the service's answer (201). */
async function addPasskey(
  t: TestApp,
  user: Token,
  authenticator: SoftAuthenticator,
  extra: { name?: string; knobs?: CreateKnobs } = {},
): Promise<Passkey> {
  const response = authenticator.create(await creationOptions(t, user), extra.knobs);
  const reply = await register(t, user, {
    ...(extra.name === undefined ? {} : { name: extra.name }),
    response,
  });
  expect(reply.status).toBe(201);
  return reply.body;
}

function list(t: TestApp, user: Token): Promise<Reply> {
  return t.http.get(PASSKEYS, user.accessToken);
}

function remove(t: TestApp, user: Token, id: string, body: unknown, from?: string): Promise<Reply> {
  return t.http.request('DELETE', `${PASSKEYS}/${id}`, { token: user.accessToken, body, from });
}

function rename(t: TestApp, user: Token, id: string, body: unknown): Promise<Reply> {
  return t.http.request('PATCH', `${PASSKEYS}/${id}`, { token: user.accessToken, body });
}

async function loginOptions(
  t: TestApp,
  from?: string,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const reply = await t.http.request('POST', LOGIN_OPTIONS, { from });
  expect(reply.status).toBe(200);
  return reply.body;
}

function login(t: TestApp, response: unknown, from?: string): Promise<Reply> {
  return t.http.request('POST', LOGIN, { body: { response }, from });
}

/** A passwordless sign-in with a passkey `authenticator` holds: the service's answer. */
async function passkeySignIn(
  t: TestApp,
  authenticator: SoftAuthenticator,
  knobs: GetKnobs = {},
  from?: string,
): Promise<Reply> {
  return login(t, authenticator.get(await loginOptions(t, from), knobs), from);
}

/** A token pair of a passkey sign-in of `userId`. */
function expectPasskeyTokens(reply: Reply, userId: string, amr: string[] = ['hwk', 'user']): void {
  expect(reply.status).toBe(200);
  expect(reply.headers['cache-control']).toBe('no-store');
  expect(reply.body).toMatchObject({
    accessToken: expect.any(String),
    refreshToken: expect.any(String),
    tokenType: 'Bearer',
    expiresIn: expect.any(Number),
    user: { id: userId },
  });
  const payload = claims(reply.body.accessToken);
  expect(payload).toMatchObject({ sub: userId, aal: 'aal2' });
  expect([...payload.amr].sort()).toEqual([...amr].sort());
  expect(Math.abs(payload.auth_time - payload.iat)).toBeLessThanOrEqual(1);
}

/** A secret-key account (no password, no email), signed in. */
async function secretKeyUser(t: TestApp) {
  const created = await t.http.post(`${API}/auth/secret/register`, {
    username: newUser().username,
  });
  expect(created.status).toBe(201);
  const signedIn = await t.http.post(`${API}/auth/secret/login`, {
    userSecret: created.body.userSecret,
  });
  expect(signedIn.status).toBe(200);
  return {
    ...signedIn.body,
    userSecret: created.body.userSecret as string,
  } as SignedIn & { userSecret: string };
}

/** The first step of a password sign-in of an account with a second factor: its mfaToken. */
async function firstStep(
  t: TestApp,
  user: { email: string; password: string },
  from?: string,
): Promise<{ mfaToken: string; methods: string[] }> {
  const reply = await t.http.request('POST', `${API}/auth/login`, {
    body: { email: user.email, password: user.password },
    from,
  });
  expectProblem(reply, 403, 'mfa_required');
  expect(reply.body).not.toHaveProperty('accessToken');
  expect(reply.body.mfaToken).toEqual(expect.any(String));
  return { mfaToken: reply.body.mfaToken, methods: reply.body.methods };
}

async function secondStepOptions(
  t: TestApp,
  mfaToken: string,
  from?: string,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const reply = await t.http.request('POST', MFA_OPTIONS, { body: { mfaToken }, from });
  expect(reply.status).toBe(200);
  return reply.body;
}

function verifyWithPasskey(
  t: TestApp,
  mfaToken: string,
  passkey: unknown,
  from?: string,
): Promise<Reply> {
  return t.http.request('POST', VERIFY, { body: { mfaToken, passkey }, from });
}

/**
 * The users row's password and secret hashes cleared: an account with
 * passkeys alone, as one made by another provider (OIDC) would be. No route
 * makes one yet (the schema allows it since the passkeys migration).
 */
async function passkeysOnly(t: TestApp, userId: string): Promise<void> {
  const db = t.app.get(DataSource);
  await db.query(`UPDATE users SET password_hash = NULL, secret_hash = NULL WHERE id = $1`, [
    userId,
  ]);
}

describe('Passkeys (e2e)', () => {
  const smtp = useSmtpSink();
  const t = useTestApp(() => ({
    MAIL_URL: smtp.sink.url,
    PUBLIC_URL: ORIGIN,
    RATE_LIMIT_PER_ADDRESS: '100000',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
  }));
  let admin: SignedIn;

  beforeAll(async () => {
    admin = await signIn(t, ADMIN.email, ADMIN.password);
  });

  /** The account's audit events of one type, newest first. */
  async function auditOf(userId: string, type: string): Promise<any[]> {
    const reply = await t.http.get(
      `${API}/audit?userId=${userId}&type=${type}&size=100`,
      admin.accessToken,
    );
    expect(reply.status).toBe(200);
    return reply.body.items;
  }

  const passkeyMails = (email: string, kind: RegExp) =>
    smtp.sink.to(email).filter((mail) => /passkey/i.test(mail.subject) && kind.test(mail.subject));
  const ADDED = /add|new/i;
  const REMOVED = /remov|delet/i;

  it('should document every passkey route with its answers in the OpenAPI document', async () => {
    const doc = (await t.http.get('/docs-json')).body;
    const routes: Array<[string, string, string[]]> = [
      [`${PASSKEYS}/options`, 'post', ['200', '401']],
      [PASSKEYS, 'post', ['201', '400', '401']],
      [PASSKEYS, 'get', ['200', '401']],
      [`${PASSKEYS}/{id}`, 'patch', ['200', '400', '401', '404']],
      [`${PASSKEYS}/{id}`, 'delete', ['204', '400', '401', '403', '404', '409']],
      [LOGIN_OPTIONS, 'post', ['200', '429']],
      [LOGIN, 'post', ['200', '400', '401', '403', '429']],
      [MFA_OPTIONS, 'post', ['200', '400', '401']],
    ];
    for (const [path, method, statuses] of routes) {
      const operation = doc.paths[path]?.[method];
      expect({ path, method, documented: Boolean(operation) }).toEqual({
        path,
        method,
        documented: true,
      });
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(statuses));
    }
  });

  describe('Adding a passkey: POST /users/me/passkeys/options and /users/me/passkeys', () => {
    it('should offer creation options for the account: a discoverable ES256 credential of this RP, user verification preferred, a fresh challenge, no cookie', async () => {
      const user = await signedInUser(t.http);
      const reply = await t.http.post(`${PASSKEYS}/options`, undefined, user.accessToken);
      expect(reply.status).toBe(200);
      expect(reply.headers['set-cookie']).toBeUndefined();
      const options = reply.body as PublicKeyCredentialCreationOptionsJSON;
      expect(options.rp).toMatchObject({ id: RP_ID, name: 'auth-service' });
      expect(options.authenticatorSelection).toMatchObject({
        residentKey: 'required',
        userVerification: 'preferred',
      });
      expect(options.pubKeyCredParams).toEqual(
        expect.arrayContaining([{ type: 'public-key', alg: -7 }]),
      );
      expect(options.excludeCredentials ?? []).toEqual([]);
      expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      expect(Buffer.from(options.challenge, 'base64url').length).toBeGreaterThanOrEqual(16);
      expect([user.email, user.username]).toContain(options.user.name);
      expect(options.user.id).toMatch(/^[A-Za-z0-9_-]+$/);
      if (options.timeout !== undefined) {
        expect(options.timeout).toBeLessThanOrEqual(300000);
      }
      // Each call a new challenge; the same user handle, so an authenticator keeps one passkey per account.
      const again = await creationOptions(t, user);
      expect(again.challenge).not.toBe(options.challenge);
      expect(again.user.id).toBe(options.user.id);
      expect((await creationOptions(t, await signedInUser(t.http))).user.id).not.toBe(
        options.user.id,
      );
    });

    it('should add a passkey: 201 { id, name "Passkey", createdAt, lastUsedAt null, backedUp }, listed, mailed and audited', async () => {
      const user = await signedInUser(t.http);
      expect((await list(t, user)).body).toEqual([]);
      const before = Date.now();
      const authenticator = newAuthenticator();
      const response = authenticator.create(await creationOptions(t, user));
      const reply = await register(t, user, { response });
      expect(reply.status).toBe(201);
      const passkey = reply.body as Passkey;
      expect(Object.keys(passkey).sort()).toEqual([
        'backedUp',
        'createdAt',
        'id',
        'lastUsedAt',
        'name',
      ]);
      expect(passkey).toEqual({
        id: expect.stringMatching(UUID),
        name: 'Passkey',
        createdAt: expect.stringMatching(ISO),
        lastUsedAt: null,
        backedUp: false,
      });
      expect(Date.parse(passkey.createdAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(passkey.id).not.toBe(response.id);

      const listed = await list(t, user);
      expect(listed.status).toBe(200);
      expect(listed.body).toEqual([passkey]);

      const mail = await smtp.sink.waitFor(
        (m) => m.to.includes(user.email) && /passkey/i.test(m.subject) && ADDED.test(m.subject),
      );
      expect(mail.text).toContain('Passkey');
      const added = await auditOf(user.user.id, 'passkey.added');
      expect(added).toHaveLength(1);
      expect(added[0]).toMatchObject({ outcome: 'success', userId: user.user.id });
      // Nothing of the credential itself in a mail or the audit trail.
      const publicKey = response.response.publicKey as string;
      expect(JSON.stringify(added)).not.toContain(publicKey);
      expect(`${mail.text}${mail.html}`).not.toContain(publicKey);
    });

    it('should name a passkey as asked, else after its authenticator model, and report a synced passkey as backedUp', async () => {
      const user = await signedInUser(t.http);
      const named = await addPasskey(t, user, newAuthenticator(), { name: 'Work laptop' });
      expect(named).toMatchObject({ name: 'Work laptop', backedUp: false });
      const synced = await addPasskey(
        t,
        user,
        newAuthenticator({ aaguid: GOOGLE_PASSWORD_MANAGER, backedUp: true }),
      );
      expect(synced).toMatchObject({ name: 'Google Password Manager', backedUp: true });
      const listed = (await list(t, user)).body as Passkey[];
      expect(listed.map((p) => p.id).sort()).toEqual([named.id, synced.id].sort());
    });

    it('should exclude the account’s passkeys from new creation options (the authenticator then refuses), and no other account’s', async () => {
      const user = await signedInUser(t.http);
      const phone = newAuthenticator();
      const laptop = newAuthenticator();
      await addPasskey(t, user, phone);
      await addPasskey(t, user, laptop);
      const options = await creationOptions(t, user);
      expect(options.excludeCredentials?.map((c) => c.id).sort()).toEqual(
        [phone.last.id, laptop.last.id].sort(),
      );
      expect(options.excludeCredentials?.every((c) => c.type === 'public-key')).toBe(true);
      expect(() => phone.create(options)).toThrow(InvalidStateError);
      // Another account sees none of them.
      const other = await signedInUser(t.http);
      expect((await creationOptions(t, other)).excludeCredentials ?? []).toEqual([]);
      // The same phone may hold a passkey for the other account.
      await addPasskey(t, other, phone);
    });

    it('should refuse a registration with 400 invalid_passkey: replayed, another origin, another RP ID, a challenge never issued, a sign-in challenge, garbage', async () => {
      const user = await signedInUser(t.http);
      const authenticator = newAuthenticator();
      const expectRefused = async (body: unknown) =>
        expectProblem(await register(t, user, body), 400, 'invalid_passkey');

      // Replayed: the challenge was spent by the first use.
      const response = authenticator.create(await creationOptions(t, user));
      expect((await register(t, user, { response })).status).toBe(201);
      await expectRefused({ response });
      await expectRefused({ name: 'again', response });

      const options = async () => creationOptions(t, user);
      const fresh = (knobs: CreateKnobs) =>
        options().then((o) => newAuthenticator().create(o, knobs));
      await expectRefused({ response: await fresh({ origin: EVIL_ORIGIN }) });
      await expectRefused({ response: await fresh({ origin: 'http://localhost:3001' }) });
      await expectRefused({ response: await fresh({ origin: 'https://localhost:3000' }) });
      await expectRefused({ response: await fresh({ rpId: 'evil.example' }) });
      await expectRefused({ response: await fresh({ challenge: randomChallenge() }) });
      await expectRefused({ response: await fresh({ type: 'webauthn.get' }) });
      // A challenge of a passwordless sign-in is not one for adding a passkey.
      const signInChallenge = (await loginOptions(t)).challenge;
      await expectRefused({ response: await fresh({ challenge: signInChallenge }) });
      // Structurally a registration response, but nothing in it holds.
      await expectRefused({
        response: {
          id: 'AAAA',
          rawId: 'AAAA',
          type: 'public-key',
          clientExtensionResults: {},
          response: { clientDataJSON: 'e30', attestationObject: 'oA' },
        },
      });
      const broken = await fresh({});
      broken.response.attestationObject = flipByte(broken.response.attestationObject, 40);
      expectProblem(await register(t, user, { response: broken }), 400);
      // Not a response at all: 400 (validation_failed or invalid_passkey).
      for (const body of [{}, { response: 'garbage' }, { response: null }, { response: [] }]) {
        expectProblem(await register(t, user, body), 400);
      }
      expectProblem(
        await register(t, user, { response: await fresh({}), unexpected: true }),
        400,
        'validation_failed',
      );
      expect((await list(t, user)).body).toHaveLength(1);
    });

    it('should spend a creation challenge by its first use, even a failed one, and forget it after 300 s', async () => {
      const user = await signedInUser(t.http);
      const options = await creationOptions(t, user);
      expectProblem(
        await register(t, user, {
          response: newAuthenticator().create(options, { origin: EVIL_ORIGIN }),
        }),
        400,
        'invalid_passkey',
      );
      expectProblem(
        await register(t, user, { response: newAuthenticator().create(options) }),
        400,
        'invalid_passkey',
      );

      const stale = await creationOptions(t, user);
      await t.app
        .get(DataSource)
        .query(
          `UPDATE webauthn_challenges SET expires_at = now() - interval '1 second' WHERE challenge = $1`,
          [stale.challenge],
        );
      expectProblem(
        await register(t, user, { response: newAuthenticator().create(stale) }),
        400,
        'invalid_passkey',
      );
      expect((await list(t, user)).body).toEqual([]);
    });

    it('should store a passkey once when the same registration races with itself', async () => {
      const user = await signedInUser(t.http);
      const response = newAuthenticator().create(await creationOptions(t, user));
      const replies = await Promise.all([
        register(t, user, { response }),
        register(t, user, { response }),
      ]);
      expect(replies.map((r) => r.status).sort()).toEqual([201, 400]);
      expect((await list(t, user)).body).toHaveLength(1);
    });

    it('should bind a creation challenge to the session that asked for it: another session of the account, or another account, gets 400 invalid_passkey', async () => {
      const user = await signedInUser(t.http);
      const otherSession = await signIn(t, user.email, user.password);
      const fromA = newAuthenticator().create(await creationOptions(t, user));
      expectProblem(await register(t, otherSession, { response: fromA }), 400, 'invalid_passkey');

      const stranger = await signedInUser(t.http);
      const forUser = newAuthenticator().create(await creationOptions(t, user));
      expectProblem(await register(t, stranger, { response: forUser }), 400, 'invalid_passkey');
      expect((await list(t, otherSession)).body).toEqual([]);
      expect((await list(t, stranger)).body).toEqual([]);
    });

    it('should answer 401 on every passkey route of the profile without a valid access token', async () => {
      const id = randomUUID();
      for (const [method, url] of [
        ['POST', `${PASSKEYS}/options`],
        ['POST', PASSKEYS],
        ['GET', PASSKEYS],
        ['PATCH', `${PASSKEYS}/${id}`],
        ['DELETE', `${PASSKEYS}/${id}`],
      ] as const) {
        expectProblem(await t.http.request(method, url, { body: {} }), 401);
        expectProblem(await t.http.request(method, url, { body: {}, token: 'not.a.token' }), 401);
      }
    });
  });

  describe('Managing passkeys: GET, PATCH and DELETE /users/me/passkeys', () => {
    it('should rename a passkey: 200 with the new name; 404 for an unknown id or another account’s; 400 for an empty or too long name', async () => {
      const user = await signedInUser(t.http);
      const passkey = await addPasskey(t, user, newAuthenticator());
      const renamed = await rename(t, user, passkey.id, { name: 'YubiKey on my keyring' });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toEqual({ ...passkey, name: 'YubiKey on my keyring' });
      expect((await list(t, user)).body).toEqual([renamed.body]);

      const longest = 'x'.repeat(64);
      expect((await rename(t, user, passkey.id, { name: longest })).body.name).toBe(longest);
      for (const name of ['', '   ', 'x'.repeat(65), 42, null]) {
        expectProblem(await rename(t, user, passkey.id, { name }), 400, 'validation_failed');
      }
      expectProblem(await rename(t, user, passkey.id, {}), 400, 'validation_failed');
      expectProblem(
        await rename(t, user, passkey.id, { name: 'ok', backedUp: true }),
        400,
        'validation_failed',
      );
      // Adding takes the same names.
      for (const name of ['', 'x'.repeat(65)]) {
        const response = newAuthenticator().create(await creationOptions(t, user));
        expectProblem(await register(t, user, { name, response }), 400, 'validation_failed');
      }

      expectProblem(await rename(t, user, randomUUID(), { name: 'mine' }), 404);
      expect([400, 404]).toContain((await rename(t, user, 'not-a-uuid', { name: 'mine' })).status);
      const stranger = await signedInUser(t.http);
      expectProblem(await rename(t, stranger, passkey.id, { name: 'mine now' }), 404);
      expect((await list(t, user)).body).toEqual([{ ...passkey, name: longest }]);
    });

    it('should remove a passkey of a password account with its password: 400 without, 401 when wrong, 404 unknown or another account’s, then 204, mailed and audited', async () => {
      const user = await signedInUser(t.http);
      const authenticator = newAuthenticator();
      const passkey = await addPasskey(t, user, authenticator);
      const from = nextAddress();

      expectProblem(await remove(t, user, passkey.id, {}, from), 400, 'validation_failed');
      expectProblem(
        await remove(t, user, passkey.id, { password: WRONG_PASSWORD }, from),
        401,
        'invalid_credentials',
      );
      expectProblem(await remove(t, user, randomUUID(), { password: user.password }, from), 404);
      const stranger = await signedInUser(t.http);
      expectProblem(
        await remove(t, stranger, passkey.id, { password: stranger.password }, from),
        404,
      );
      expect((await list(t, user)).body).toHaveLength(1);

      const removed = await remove(t, user, passkey.id, { password: user.password }, from);
      expect(removed.status).toBe(204);
      expect(removed.text).toBe('');
      expect((await list(t, user)).body).toEqual([]);
      expectProblem(await remove(t, user, passkey.id, { password: user.password }, from), 404);

      await smtp.sink.waitFor(
        (m) => m.to.includes(user.email) && /passkey/i.test(m.subject) && REMOVED.test(m.subject),
      );
      expect(passkeyMails(user.email, REMOVED)).toHaveLength(1);
      const audited = await auditOf(user.user.id, 'passkey.removed');
      expect(audited).toHaveLength(1);
      expect(audited[0]).toMatchObject({ outcome: 'success', userId: user.user.id });
    });

    it('should let an account without a password remove one of two passkeys by a recent sign-in, and refuse the last with 409 last_sign_in_method', async () => {
      const account = await secretKeyUser(t);
      const phone = newAuthenticator();
      const laptop = newAuthenticator();
      const first = await addPasskey(t, account, phone);
      const second = await addPasskey(t, account, laptop);
      // Neither password nor secret: the passkeys are the only ways in.
      await passkeysOnly(t, account.user.id);

      expect((await remove(t, account, first.id, {})).status).toBe(204);
      // An id that is not one of its passkeys is 404, last one or not.
      expectProblem(await remove(t, account, randomUUID(), {}), 404);
      expectProblem(await remove(t, account, first.id, {}), 404);
      expectProblem(await remove(t, account, second.id, {}), 409, 'last_sign_in_method');
      expect((await list(t, account)).body.map((p: Passkey) => p.id)).toEqual([second.id]);
      // The last passkey still signs in.
      expectPasskeyTokens(await passkeySignIn(t, laptop), account.user.id);
      expectProblem(await passkeySignIn(t, phone), 401, 'invalid_credentials');
      expect(await auditOf(account.user.id, 'passkey.removed')).toHaveLength(1);
    });

    it('should let a secret-key account remove its only passkey: the secret is still a way in', async () => {
      const account = await secretKeyUser(t);
      const passkey = await addPasskey(t, account, newAuthenticator());
      expect((await remove(t, account, passkey.id, {})).status).toBe(204);
      const again = await t.http.post(`${API}/auth/secret/login`, {
        userSecret: account.userSecret,
      });
      expect(again.status).toBe(200);
      expect(claims(again.body.accessToken)).toMatchObject({ amr: ['pwd'], aal: 'aal1' });
    });
  });

  describe('Signing in with a passkey alone: POST /auth/passkey/options and /auth/passkey/login', () => {
    it('should offer request options to anyone: no allowCredentials, this RP ID, user verification preferred, a fresh challenge, no cookie', async () => {
      const reply = await t.http.post(LOGIN_OPTIONS);
      expect(reply.status).toBe(200);
      expect(reply.headers['set-cookie']).toBeUndefined();
      const options = reply.body as PublicKeyCredentialRequestOptionsJSON;
      expect(options.allowCredentials ?? []).toEqual([]);
      expect(options.rpId).toBe(RP_ID);
      expect(options.userVerification ?? 'preferred').toBe('preferred');
      expect(Buffer.from(options.challenge, 'base64url').length).toBeGreaterThanOrEqual(16);
      expect((await loginOptions(t)).challenge).not.toBe(options.challenge);
    });

    it('should sign in with a passkey alone: a token pair with aal2 and amr hwk+user, lastUsedAt set, login.succeeded audited with method passkey', async () => {
      const user = await signedInUser(t.http);
      const authenticator = newAuthenticator();
      const passkey = await addPasskey(t, user, authenticator);
      const before = Date.now();
      const reply = await passkeySignIn(t, authenticator);
      expectPasskeyTokens(reply, user.user.id);
      expect(reply.body.user).toMatchObject({ email: user.email, mfaEnabled: true });
      expect((await t.http.get(`${API}/users/me`, reply.body.accessToken)).body.id).toBe(
        user.user.id,
      );
      const refreshed = await t.http.post(`${API}/auth/refresh`, {
        refreshToken: reply.body.refreshToken,
      });
      expect(refreshed.status).toBe(200);
      expect(claims(refreshed.body.accessToken)).toMatchObject({ aal: 'aal2' });

      const [listed] = (await list(t, user)).body as Passkey[];
      expect(listed.lastUsedAt).toEqual(expect.stringMatching(ISO));
      expect(Date.parse(listed.lastUsedAt as string)).toBeGreaterThanOrEqual(before - 1000);
      expect(listed).toMatchObject({ id: passkey.id, createdAt: passkey.createdAt });

      const succeeded = await auditOf(user.user.id, 'login.succeeded');
      expect(succeeded.map((e) => e.detail?.method)).toContain('passkey');
    });

    it('should say amr ["hwk"], still aal2, when the authenticator did not verify the person', async () => {
      const user = await signedInUser(t.http);
      const authenticator = newAuthenticator({ userVerification: false });
      await addPasskey(t, user, authenticator);
      expectPasskeyTokens(await passkeySignIn(t, authenticator), user.user.id, ['hwk']);
      // The same passkey, verified this time.
      expectPasskeyTokens(
        await passkeySignIn(t, authenticator, { userVerification: true }),
        user.user.id,
      );
    });

    it('should sign in a passkey that keeps no counter (always 0), as synced passkeys do, every time', async () => {
      const user = await signedInUser(t.http);
      const authenticator = newAuthenticator({ counter: 'zero', backedUp: true });
      await addPasskey(t, user, authenticator);
      for (let i = 0; i < 3; i += 1) {
        expectPasskeyTokens(await passkeySignIn(t, authenticator), user.user.id);
      }
    });

    it('should sign each account in with its own passkey when one authenticator holds several', async () => {
      const phone = newAuthenticator();
      const alice = await signedInUser(t.http);
      const bob = await secretKeyUser(t);
      await addPasskey(t, alice, phone);
      const aliceKey = phone.last;
      await addPasskey(t, bob, phone);
      const bobKey = phone.last;
      expectPasskeyTokens(await passkeySignIn(t, phone, { credential: bobKey }), bob.user.id);
      expectPasskeyTokens(await passkeySignIn(t, phone, { credential: aliceKey }), alice.user.id);
    });

    it('should not ask an account with an authenticator app for a second factor after a passkey: it is two factors in itself', async () => {
      const user = await signedInUser(t.http);
      await enrolTotp(t.http, user);
      const authenticator = newAuthenticator();
      await addPasskey(t, user, authenticator);
      expectPasskeyTokens(await passkeySignIn(t, authenticator), user.user.id);
    });

    it('should refuse with 401 invalid_credentials: an unknown passkey, a bad signature, another origin or RP ID, a challenge never issued, a creation challenge, a creation response', async () => {
      const user = await signedInUser(t.http);
      const authenticator = newAuthenticator();
      await addPasskey(t, user, authenticator);
      const from = nextAddress();
      const refused = async (response: unknown) =>
        expectProblem(await login(t, response, from), 401, 'invalid_credentials');
      const options = () => loginOptions(t, from);

      // A passkey the service never registered.
      const stranger = newAuthenticator();
      stranger.create({
        rp: { id: RP_ID, name: 'auth-service' },
        user: { id: randomChallenge(16), name: 'nobody', displayName: 'nobody' },
        challenge: randomChallenge(),
        pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      });
      await refused(stranger.get(await options()));

      const broken = authenticator.get(await options());
      broken.response.signature = flipByte(broken.response.signature, 12);
      await refused(broken);
      const badData = authenticator.get(await options());
      badData.response.authenticatorData = flipByte(badData.response.authenticatorData, 33);
      await refused(badData);
      await refused(authenticator.get(await options(), { origin: EVIL_ORIGIN }));
      await refused(authenticator.get(await options(), { rpId: 'evil.example' }));
      await refused(authenticator.get(await options(), { type: 'webauthn.create' }));
      await refused(authenticator.get(await options(), { challenge: randomChallenge() }));
      const creation = await creationOptions(t, user);
      await refused(authenticator.get(await options(), { challenge: creation.challenge }));
      // A userHandle that is not the passkey owner's (WebAuthn §7.2 step 6).
      const other = await creationOptions(t, await signedInUser(t.http));
      await refused(authenticator.get(await options(), { userHandle: other.user.id }));
      // A registration response where an assertion belongs.
      await refused(newAuthenticator().create(await creationOptions(t, user)));

      // Not an assertion at all: 400 or 401, never anything else.
      for (const body of [{}, { response: 'garbage' }, { response: { id: 'AAAA' } }]) {
        const reply = await t.http.request('POST', LOGIN, { body, from });
        expect([400, 401]).toContain(reply.status);
        expectProblem(reply, reply.status);
      }
      expectProblem(
        await t.http.request('POST', LOGIN, {
          body: { response: authenticator.get(await options()), unexpected: 1 },
          from,
        }),
        400,
        'validation_failed',
      );
      // After all that, the owner signs in (with a new address: the failures above count).
      expectPasskeyTokens(await passkeySignIn(t, authenticator, {}, nextAddress()), user.user.id);
      const failed = await auditOf(user.user.id, 'login.failed');
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.every((e) => e.outcome === 'failure')).toBe(true);
    });

    it('should spend a sign-in challenge by its first use: a replayed assertion, another one on the same challenge, or one after a failure gets 401', async () => {
      const user = await signedInUser(t.http);
      const authenticator = newAuthenticator();
      await addPasskey(t, user, authenticator);
      const from = nextAddress();
      const options = await loginOptions(t, from);
      const assertion = authenticator.get(options);
      expectPasskeyTokens(await login(t, assertion, from), user.user.id);
      expectProblem(await login(t, assertion, from), 401, 'invalid_credentials');
      expectProblem(await login(t, authenticator.get(options), from), 401, 'invalid_credentials');

      const once = await loginOptions(t, from);
      const broken = authenticator.get(once);
      broken.response.signature = flipByte(broken.response.signature, 8);
      expectProblem(await login(t, broken, from), 401, 'invalid_credentials');
      expectProblem(await login(t, authenticator.get(once), from), 401, 'invalid_credentials');

      // Two sign-ins racing with one challenge: one wins.
      const raced = await loginOptions(t, from);
      const replies = await Promise.all([
        login(t, authenticator.get(raced), from),
        login(t, authenticator.get(raced), from),
      ]);
      expect(replies.map((r) => r.status).sort()).toEqual([200, 401]);
    });

    it('should forget a sign-in challenge after 300 s', async () => {
      const user = await signedInUser(t.http);
      const authenticator = newAuthenticator();
      await addPasskey(t, user, authenticator);
      const options = await loginOptions(t);
      const [row] = await t.app
        .get(DataSource)
        .query(
          `SELECT extract(epoch FROM expires_at - now())::int AS left FROM webauthn_challenges WHERE challenge = $1`,
          [options.challenge],
        );
      expect(row.left).toBeGreaterThan(280);
      expect(row.left).toBeLessThanOrEqual(300);
      await t.app
        .get(DataSource)
        .query(
          `UPDATE webauthn_challenges SET expires_at = now() - interval '1 second' WHERE challenge = $1`,
          [options.challenge],
        );
      expectProblem(await login(t, authenticator.get(options)), 401, 'invalid_credentials');
    });

    it('should refuse a removed passkey with 401 invalid_credentials', async () => {
      const user = await signedInUser(t.http);
      const authenticator = newAuthenticator();
      const passkey = await addPasskey(t, user, authenticator);
      expectPasskeyTokens(await passkeySignIn(t, authenticator), user.user.id);
      expect((await remove(t, user, passkey.id, { password: user.password })).status).toBe(204);
      expectProblem(await passkeySignIn(t, authenticator), 401, 'invalid_credentials');
    });

    it('should refuse a signature counter that went backwards or stood still with 401, and audit it as login.failed with reason counter_regressed', async () => {
      const user = await signedInUser(t.http);
      const authenticator = newAuthenticator();
      await addPasskey(t, user, authenticator);
      const from = nextAddress();
      expectPasskeyTokens(
        await passkeySignIn(t, authenticator, { counter: 5 }, from),
        user.user.id,
      );
      expectProblem(
        await passkeySignIn(t, authenticator, { counter: 3 }, from),
        401,
        'invalid_credentials',
      );
      expectProblem(
        await passkeySignIn(t, authenticator, { counter: 5 }, from),
        401,
        'invalid_credentials',
      );
      expectProblem(
        await passkeySignIn(t, authenticator, { counter: 0 }, from),
        401,
        'invalid_credentials',
      );
      const failed = await auditOf(user.user.id, 'login.failed');
      expect(failed).toHaveLength(3);
      for (const event of failed) {
        expect(event).toMatchObject({ outcome: 'failure', userId: user.user.id, ip: from });
        expect(event.detail).toMatchObject({ method: 'passkey', reason: 'counter_regressed' });
      }
    });

    it('should answer 403 account_disabled for a disabled account’s passkey, and 401 once the account is deleted', async () => {
      const user = await signedInUser(t.http);
      const authenticator = newAuthenticator();
      await addPasskey(t, user, authenticator);
      const patch = (disabled: boolean) =>
        t.http.request('PATCH', `${API}/users/${user.user.id}`, {
          token: admin.accessToken,
          body: { disabled },
        });
      expect((await patch(true)).status).toBe(200);
      expectProblem(await passkeySignIn(t, authenticator), 403, 'account_disabled');
      expect((await patch(false)).status).toBe(200);
      expectPasskeyTokens(await passkeySignIn(t, authenticator), user.user.id);

      const deleted = await t.http.request('DELETE', `${API}/users/${user.user.id}`, {
        token: admin.accessToken,
      });
      expect(deleted.status).toBe(204);
      expectProblem(await passkeySignIn(t, authenticator), 401, 'invalid_credentials');
    });
  });

  describe('A passkey as the second step of a sign-in', () => {
    it('should turn two-step sign-in on: mfaEnabled, one passkey counted, password and OAuth2 sign-ins stop at mfa_required with "passkey"', async () => {
      const user = await signedInUser(t.http);
      expect((await t.http.get(`${API}/users/me`, user.accessToken)).body.mfaEnabled).toBe(false);
      await addPasskey(t, user, newAuthenticator());
      expect((await t.http.get(`${API}/users/me`, user.accessToken)).body.mfaEnabled).toBe(true);
      expect((await t.http.get(`${API}/users/me/mfa`, user.accessToken)).body).toEqual({
        totp: { enabled: false, createdAt: null, lastUsedAt: null },
        recoveryCodesLeft: 0,
        passkeys: 1,
      });
      const { methods } = await firstStep(t, user);
      expect(methods).toEqual(['passkey']);
      const grant = await t.http.post(`${API}/auth/token`, {
        grant_type: 'password',
        username: user.email,
        password: user.password,
      });
      expect(grant.status).toBe(403);
      expect(grant.body).toMatchObject({ error: 'mfa_required', mfa_token: expect.any(String) });
      expect(grant.body).not.toHaveProperty('access_token');
    });

    it('should finish a password sign-in with a passkey: options listing the account’s passkeys, then an aal2 token pair with amr pwd and hwk', async () => {
      const user = await signedInUser(t.http);
      const phone = newAuthenticator();
      const key = newAuthenticator({ userVerification: false });
      await addPasskey(t, user, phone);
      await addPasskey(t, user, key);
      const { mfaToken } = await firstStep(t, user);
      const reply = await t.http.post(MFA_OPTIONS, { mfaToken });
      expect(reply.status).toBe(200);
      expect(reply.headers['set-cookie']).toBeUndefined();
      const options = reply.body as PublicKeyCredentialRequestOptionsJSON;
      expect(options.rpId).toBe(RP_ID);
      expect(options.allowCredentials?.map((c) => c.id).sort()).toEqual(
        [phone.last.id, key.last.id].sort(),
      );
      expect(options.allowCredentials?.every((c) => c.type === 'public-key')).toBe(true);

      const done = await verifyWithPasskey(t, mfaToken, phone.get(options));
      expect(done.status).toBe(200);
      expect(done.headers['cache-control']).toBe('no-store');
      expect(done.body.user.id).toBe(user.user.id);
      const payload = claims(done.body.accessToken);
      expect(payload.aal).toBe('aal2');
      expect(payload.amr).toEqual(expect.arrayContaining(['pwd', 'hwk']));
      expect(payload.amr).not.toContain('otp');
      // The mfaToken is spent.
      expectProblem(
        await verifyWithPasskey(t, mfaToken, phone.get(options)),
        401,
        'invalid_mfa_token',
      );
      expectProblem(await t.http.post(MFA_OPTIONS, { mfaToken }), 401, 'invalid_mfa_token');

      // The other passkey, without user verification, finishes a sign-in too.
      const next = await firstStep(t, user);
      const finished = await verifyWithPasskey(
        t,
        next.mfaToken,
        key.get(await secondStepOptions(t, next.mfaToken)),
      );
      expect(finished.status).toBe(200);
      expect(claims(finished.body.accessToken)).toMatchObject({ aal: 'aal2' });
      expect(claims(finished.body.accessToken).amr).toEqual(expect.arrayContaining(['pwd', 'hwk']));

      const used = ((await list(t, user)).body as Passkey[]).filter((p) => p.lastUsedAt);
      expect(used).toHaveLength(2);
      const succeeded = await auditOf(user.user.id, 'login.succeeded');
      expect(succeeded.map((e) => e.detail?.method)).toContain('passkey');
    });

    it('should refuse a wrong passkey at the second step with 400 invalid_code, and void the mfaToken at the fifth: 429 too_many_attempts', async () => {
      const user = await signedInUser(t.http);
      const authenticator = newAuthenticator();
      await addPasskey(t, user, authenticator);
      const from = nextAddress();
      const { mfaToken } = await firstStep(t, user, from);
      const wrong = async () => {
        const assertion = authenticator.get(await secondStepOptions(t, mfaToken, from));
        assertion.response.signature = flipByte(assertion.response.signature, 9);
        return verifyWithPasskey(t, mfaToken, assertion, from);
      };
      for (let i = 0; i < 4; i += 1) {
        expectProblem(await wrong(), 400, 'invalid_code');
      }
      const fifth = await wrong();
      expectProblem(fifth, 429, 'too_many_attempts');
      expect(Number(fifth.headers['retry-after'])).toBeGreaterThan(0);
      // Void: the right passkey does not finish it either.
      const options = await t.http.request('POST', MFA_OPTIONS, { body: { mfaToken }, from });
      expect([401, 429]).toContain(options.status);
      const failed = await auditOf(user.user.id, 'login.failed');
      expect(failed.filter((e) => e.detail?.method === 'passkey').length).toBeGreaterThanOrEqual(4);

      // The account is not locked: a new sign-in (elsewhere) finishes with the passkey.
      const elsewhere = nextAddress();
      const next = await firstStep(t, user, elsewhere);
      const done = await verifyWithPasskey(
        t,
        next.mfaToken,
        authenticator.get(await secondStepOptions(t, next.mfaToken, elsewhere)),
        elsewhere,
      );
      expect(done.status).toBe(200);
    });

    it('should refuse at the second step another account’s passkey, a sign-in challenge of another kind, another origin, or a replayed assertion: 400 invalid_code', async () => {
      const user = await signedInUser(t.http);
      const mine = newAuthenticator();
      await addPasskey(t, user, mine);
      const stranger = await signedInUser(t.http);
      const theirs = newAuthenticator();
      await addPasskey(t, stranger, theirs);
      const from = nextAddress();
      const { mfaToken } = await firstStep(t, user, from);
      const options = () => secondStepOptions(t, mfaToken, from);

      // Another account's passkey, on this sign-in's own challenge.
      expectProblem(
        await verifyWithPasskey(
          t,
          mfaToken,
          theirs.get(await options(), { credential: theirs.last }),
          from,
        ),
        400,
        'invalid_code',
      );
      // The challenge of a passwordless sign-in, or of another sign-in's second step.
      expectProblem(
        await verifyWithPasskey(t, mfaToken, mine.get(await loginOptions(t, from)), from),
        400,
        'invalid_code',
      );
      expectProblem(
        await verifyWithPasskey(
          t,
          mfaToken,
          mine.get(await options(), { origin: EVIL_ORIGIN }),
          from,
        ),
        400,
        'invalid_code',
      );
      // The failures so far: 3 of 5. A replayed good assertion of another sign-in is refused too.
      const other = await firstStep(t, user, from);
      const good = mine.get(await secondStepOptions(t, other.mfaToken, from));
      expect((await verifyWithPasskey(t, other.mfaToken, good, from)).status).toBe(200);
      expectProblem(await verifyWithPasskey(t, mfaToken, good, from), 400, 'invalid_code');

      // The owner still finishes this sign-in with the right passkey.
      const done = await verifyWithPasskey(t, mfaToken, mine.get(await options()), from);
      expect(done.status).toBe(200);
      expect(done.body.user.id).toBe(user.user.id);
    });

    it('should answer 401 invalid_mfa_token to passkey-options and verify with an unknown mfaToken, and 400 to a body with a code and a passkey', async () => {
      const user = await signedInUser(t.http);
      const authenticator = newAuthenticator();
      await addPasskey(t, user, authenticator);
      for (const mfaToken of ['not-a-token', randomChallenge()]) {
        expectProblem(await t.http.post(MFA_OPTIONS, { mfaToken }), 401, 'invalid_mfa_token');
      }
      expectProblem(await t.http.post(MFA_OPTIONS, {}), 400, 'validation_failed');
      const { mfaToken } = await firstStep(t, user);
      const options = await secondStepOptions(t, mfaToken);
      expectProblem(
        await verifyWithPasskey(t, randomChallenge(), authenticator.get(options)),
        401,
        'invalid_mfa_token',
      );
      expectProblem(
        await t.http.post(VERIFY, {
          mfaToken,
          code: '123456',
          passkey: authenticator.get(options),
        }),
        400,
      );
      expectProblem(await t.http.post(VERIFY, { mfaToken }), 400);
      // None of that spent the mfaToken.
      expect(
        (
          await verifyWithPasskey(
            t,
            mfaToken,
            authenticator.get(await secondStepOptions(t, mfaToken)),
          )
        ).status,
      ).toBe(200);
    });

    it('should refuse at the second step a passkey whose counter went backwards, audited as a counter regression too', async () => {
      const user = await signedInUser(t.http);
      const authenticator = newAuthenticator();
      await addPasskey(t, user, authenticator);
      const from = nextAddress();
      expectPasskeyTokens(
        await passkeySignIn(t, authenticator, { counter: 7 }, from),
        user.user.id,
      );
      const { mfaToken } = await firstStep(t, user, from);
      const cloned = authenticator.get(await secondStepOptions(t, mfaToken, from), { counter: 2 });
      expectProblem(await verifyWithPasskey(t, mfaToken, cloned, from), 400, 'invalid_code');
      const failed = await auditOf(user.user.id, 'login.failed');
      expect(failed).toHaveLength(1);
      expect(failed[0].detail).toMatchObject({ method: 'passkey', reason: 'counter_regressed' });
    });

    it('should remove the passkeys with the other second factors when an administrator resets them (a lost device)', async () => {
      const user = await signedInUser(t.http);
      const authenticator = newAuthenticator();
      await addPasskey(t, user, authenticator);
      const reset = await t.http.request('DELETE', `${API}/users/${user.user.id}/mfa`, {
        token: admin.accessToken,
      });
      expect(reset.status).toBe(204);
      const again = await signIn(t, user.email, user.password);
      expect((await list(t, again)).body).toEqual([]);
      expect((await t.http.get(`${API}/users/me`, again.accessToken)).body.mfaEnabled).toBe(false);
      expect((await t.http.get(`${API}/users/me/mfa`, again.accessToken)).body.passkeys).toBe(0);
      expectProblem(await passkeySignIn(t, authenticator), 401, 'invalid_credentials');
    });

    it('should end two-step sign-in with the last passkey: mfaEnabled false, and a password sign-in gets tokens at once', async () => {
      const user = await signedInUser(t.http);
      const passkey = await addPasskey(t, user, newAuthenticator());
      await firstStep(t, user);
      expect((await remove(t, user, passkey.id, { password: user.password })).status).toBe(204);
      expect((await t.http.get(`${API}/users/me`, user.accessToken)).body.mfaEnabled).toBe(false);
      expect((await t.http.get(`${API}/users/me/mfa`, user.accessToken)).body.passkeys).toBe(0);
      const reply = await t.http.post(`${API}/auth/login`, {
        email: user.email,
        password: user.password,
      });
      expect(reply.status).toBe(200);
      expect(claims(reply.body.accessToken)).toMatchObject({ amr: ['pwd'], aal: 'aal1' });
    });

    it('should keep two-step sign-in on after removing the passkey of an account with an authenticator app, no longer offering "passkey"', async () => {
      const user = await signedInUser(t.http);
      const passkey = await addPasskey(t, user, newAuthenticator());
      const { authenticator } = await enrolTotp(t.http, user);
      expect((await firstStep(t, user)).methods.sort()).toEqual(
        ['passkey', 'recovery_code', 'totp'].sort(),
      );
      expect((await remove(t, user, passkey.id, { password: user.password })).status).toBe(204);
      expect((await t.http.get(`${API}/users/me`, user.accessToken)).body.mfaEnabled).toBe(true);
      const { mfaToken, methods } = await firstStep(t, user);
      expect(methods.sort()).toEqual(['recovery_code', 'totp']);
      const done = await t.http.post(VERIFY, { mfaToken, code: await authenticator.next() });
      expect(done.status).toBe(200);
    });

    it('should stop a secret-key sign-in of an account with a passkey at mfa_required, and finish it with the passkey', async () => {
      const account = await secretKeyUser(t);
      const authenticator = newAuthenticator();
      await addPasskey(t, account, authenticator);
      const first = await t.http.post(`${API}/auth/secret/login`, {
        userSecret: account.userSecret,
      });
      expectProblem(first, 403, 'mfa_required');
      expect(first.body.methods).toEqual(['passkey']);
      const { mfaToken } = first.body;
      const done = await verifyWithPasskey(
        t,
        mfaToken,
        authenticator.get(await secondStepOptions(t, mfaToken)),
      );
      expect(done.status).toBe(200);
      expect(done.body.user.id).toBe(account.user.id);
      expect(claims(done.body.accessToken)).toMatchObject({ aal: 'aal2' });
      expect(claims(done.body.accessToken).amr).toEqual(expect.arrayContaining(['pwd', 'hwk']));
    });
  });
});

describe('Passkeys with WEBAUTHN_ORIGINS and WEBAUTHN_RP_NAME (e2e)', () => {
  const SECOND_ORIGIN = 'http://accounts.localhost:8443';
  const t = useTestApp({
    PUBLIC_URL: ORIGIN,
    WEBAUTHN_RP_NAME: 'Example Accounts',
    WEBAUTHN_ORIGINS: `${ORIGIN},${SECOND_ORIGIN}`,
    RATE_LIMIT_PER_ADDRESS: '100000',
  });

  it('should name the relying party as configured and accept ceremonies from every listed origin, and no other', async () => {
    const user = await signedInUser(t.http);
    const options = await creationOptions(t, user);
    expect(options.rp).toEqual({ id: RP_ID, name: 'Example Accounts' });
    const authenticator = newAuthenticator({ origin: SECOND_ORIGIN });
    expect((await register(t, user, { response: authenticator.create(options) })).status).toBe(201);
    expectPasskeyTokens(await passkeySignIn(t, authenticator), user.user.id);
    expectPasskeyTokens(await passkeySignIn(t, authenticator, { origin: ORIGIN }), user.user.id);
    expectProblem(
      await passkeySignIn(t, authenticator, { origin: 'http://other.localhost:8443' }),
      401,
      'invalid_credentials',
    );
    const elsewhere = newAuthenticator({ origin: 'http://localhost:8443' });
    expectProblem(
      await register(t, user, { response: elsewhere.create(await creationOptions(t, user)) }),
      400,
      'invalid_passkey',
    );
  });
});

describe('Passkeys with a short REAUTH_MAX_AGE (e2e)', () => {
  const t = useTestApp({
    PUBLIC_URL: ORIGIN,
    REAUTH_MAX_AGE: '1',
    RATE_LIMIT_PER_ADDRESS: '100000',
  });

  it('should ask an account without a password for a sign-in newer than REAUTH_MAX_AGE before removing a passkey: 403 reauthentication_required', async () => {
    const account = await secretKeyUser(t);
    const phone = newAuthenticator();
    const first = await addPasskey(t, account, phone);
    await addPasskey(t, account, newAuthenticator());
    await sleep(1100);
    expectProblem(await remove(t, account, first.id, {}), 403, 'reauthentication_required');
    expect((await list(t, account)).body).toHaveLength(2);
    // A new sign-in (with the passkey) is recent enough.
    const fresh = await passkeySignIn(t, phone);
    expectPasskeyTokens(fresh, account.user.id);
    expect((await remove(t, fresh.body, first.id, {})).status).toBe(204);
  });

  it('should take the password of a password account however old its sign-in', async () => {
    const user = await signedInUser(t.http);
    const passkey = await addPasskey(t, user, newAuthenticator());
    await sleep(1100);
    expect((await remove(t, user, passkey.id, { password: user.password })).status).toBe(204);
  });
});

describe('Passkeys and the abuse limits (e2e)', () => {
  const t = useTestApp({
    PUBLIC_URL: ORIGIN,
    RATE_LIMIT_PER_ADDRESS: '40',
    RATE_LIMIT_FAILURES_PER_ADDRESS: '3',
  });

  it('should count failed passkey sign-ins per address and account: after 3, even the right passkey gets 429 there, not elsewhere', async () => {
    const user = await signedInUser(t.http, {}, {});
    const authenticator = newAuthenticator();
    await addPasskey(t, user, authenticator);
    const from = '203.0.113.21';
    for (let i = 0; i < 3; i += 1) {
      const broken = authenticator.get(await loginOptions(t, from));
      broken.response.signature = flipByte(broken.response.signature, 7);
      expectProblem(await login(t, broken, from), 401, 'invalid_credentials');
    }
    const limited = await passkeySignIn(t, authenticator, {}, from);
    expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // The same account's password is refused there too; another address is not affected.
    expectProblem(
      await t.http.request('POST', `${API}/auth/login`, {
        body: { email: user.email, password: user.password },
        from,
      }),
      429,
      'rate_limited',
    );
    expectPasskeyTokens(await passkeySignIn(t, authenticator, {}, '203.0.113.22'), user.user.id);
  });

  it('should count unknown passkeys against the address: after 3 failures from one address, 429', async () => {
    const from = '203.0.113.31';
    const stranger = newAuthenticator();
    stranger.create({
      rp: { id: RP_ID, name: 'auth-service' },
      user: { id: randomChallenge(16), name: 'nobody', displayName: 'nobody' },
      challenge: randomChallenge(),
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      statuses.push((await passkeySignIn(t, stranger, {}, from)).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });

  it('should count wrong passkeys at the second step toward the limit of the address and account', async () => {
    const user = await signedInUser(t.http);
    const authenticator = newAuthenticator();
    await addPasskey(t, user, authenticator);
    const from = '203.0.113.41';
    const { mfaToken } = await firstStep(t, user, from);
    for (let i = 0; i < 3; i += 1) {
      const broken = authenticator.get(await secondStepOptions(t, mfaToken, from));
      broken.response.signature = flipByte(broken.response.signature, 7);
      expectProblem(await verifyWithPasskey(t, mfaToken, broken, from), 400, 'invalid_code');
    }
    const options = await t.http.request('POST', MFA_OPTIONS, { body: { mfaToken }, from });
    const right =
      options.status === 200
        ? await verifyWithPasskey(t, mfaToken, authenticator.get(options.body), from)
        : options;
    expectProblem(right, 429, 'rate_limited');
  });

  it('should limit POST /auth/passkey/options per address with the other public auth routes: 429 with Retry-After', async () => {
    const from = '203.0.113.51';
    const statuses: number[] = [];
    for (let i = 0; i < 41; i += 1) {
      statuses.push((await t.http.request('POST', LOGIN_OPTIONS, { from })).status);
    }
    expect(statuses.slice(0, 40)).toEqual(Array(40).fill(200));
    const limited = await t.http.request('POST', LOGIN_OPTIONS, { from });
    expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

/** Two instances need a database server: the embedded store is one process's. */
const describeOnServer = process.env.TEST_DATABASE_URL ? describe : describe.skip;

describeOnServer('Passkeys on two instances sharing one PostgreSQL database (e2e)', () => {
  let store: TestStore;
  const instances: TestApp[] = [];
  const env = { PUBLIC_URL: ORIGIN, RATE_LIMIT_PER_ADDRESS: '100000' };

  beforeAll(async () => {
    store = await createStore();
    // Each has its own connection pool, as separate processes would.
    instances.push(await startApp(store, env), await startApp(store, env));
  });
  afterAll(async () => {
    for (const instance of instances) {
      await instance.close();
    }
    await store?.drop();
  });

  it('should add a passkey with options from A at B, and sign in with options from B at A, each challenge once', async () => {
    const [a, b] = instances;
    const user = await signedInUser(a.http);
    const authenticator = newAuthenticator();
    const created = authenticator.create(await creationOptions(a, user));
    expect((await register(b, user, { response: created })).status).toBe(201);
    expectProblem(await register(a, user, { response: created }), 400, 'invalid_passkey');

    const assertion = authenticator.get(await loginOptions(b));
    expectPasskeyTokens(await login(a, assertion), user.user.id);
    expectProblem(await login(b, assertion), 401, 'invalid_credentials');
    expectProblem(await login(a, assertion), 401, 'invalid_credentials');
  });

  it('should finish a two-step sign-in started at A with passkey options from B at A', async () => {
    const [a, b] = instances;
    const user = await signedInUser(b.http);
    const authenticator = newAuthenticator();
    await addPasskey(b, user, authenticator);
    const { mfaToken } = await firstStep(a, user);
    const passkey = authenticator.get(await secondStepOptions(b, mfaToken));
    const done = await verifyWithPasskey(a, mfaToken, passkey);
    expect(done.status).toBe(200);
    expect(claims(done.body.accessToken).amr).toEqual(expect.arrayContaining(['pwd', 'hwk']));
  });
});

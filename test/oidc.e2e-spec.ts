import { createHash, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ADMIN, ADMIN_ENV, signIn } from './support/admin';
import { expectProblem, type SignedIn, signedInUser } from './support/factories';
import {
  authorizePath,
  Browser,
  type FlowResult,
  fragmentOf,
  parseSetCookie,
  signInThroughProvider,
  walkFlow,
} from './support/oidc-browser';
import {
  OidcTestProvider,
  type ProviderClaims,
  callbackUrl,
  serviceClient,
} from './support/oidc-provider';
import { resetLinkIn, useSmtpSink } from './support/smtp-sink';
import { type Reply, useTestApp } from './support/test-app';
import { enrolTotp } from './support/totp';

const API = '/api/v1';
const PUBLIC_URL = 'http://localhost:3000';
/** OIDC_REDIRECT_URLS: the first is the default redirectTo (and where invalid_state lands). */
const HOME = `${PUBLIC_URL}/`;
const LANDING = `${PUBLIC_URL}/app/landing`;
const PROVIDERS = `${API}/auth/oidc/providers`;
const EXCHANGE = `${API}/auth/oidc/exchange`;
const IDENTITIES = `${API}/users/me/identities`;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const NEW_PASSWORD = 'saffron kettle meadow 77';

/** The claims of an access token. */
function claims(accessToken: string): Record<string, any> {
  return JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString());
}

let logins = 0;
/** A login (account id) at the provider no other test uses, and a matching unique email. */
function providerLogin(): { login: string; email: string } {
  logins += 1;
  const tag = `${Date.now().toString(36)}${logins}${randomBytes(2).toString('hex')}`;
  return { login: `person-${tag}`, email: `person.${tag}@idp.example` };
}

/**
 * The OpenID Connect sign-in end to end: the service (in-process, driven by
 * inject) against a real OpenID provider (oidc-provider 9, a process of its
 * own on a loopback port), a browser being a cookie jar that follows the
 * redirects by hand through the provider's devInteractions login and consent
 * pages. `idp` is up from the start; `later` is configured with a port
 * where nothing listens until its tests start it.
 */
describe('Sign-in with other providers: OpenID Connect (e2e)', () => {
  const smtp = useSmtpSink();
  let idp: OidcTestProvider;
  let later: OidcTestProvider;

  beforeAll(async () => {
    idp = await OidcTestProvider.start({ clients: [serviceClient(PUBLIC_URL, ['idp'])] });
    later = await OidcTestProvider.reserve({ clients: [serviceClient(PUBLIC_URL, ['later'])] });
  });
  afterAll(async () => {
    await idp?.stop();
    await later?.stop();
  });

  const t = useTestApp(() => ({
    ...ADMIN_ENV,
    MAIL_URL: smtp.sink.url,
    PUBLIC_URL,
    OIDC_PROVIDERS: 'idp,later',
    ...idp.envFor('idp', 'Test IdP'),
    ...later.envFor('later'),
    OIDC_REDIRECT_URLS: `${HOME},${LANDING}`,
  }));
  let admin: SignedIn;

  beforeAll(async () => {
    admin = await signIn(t, ADMIN.email, ADMIN.password);
  });

  const browser = () => new Browser(t.http, PUBLIC_URL);

  /** A provider account `idp` knows, with a verified unique email (or the claims given). */
  async function providerAccount(
    claimsOf: Partial<ProviderClaims> = {},
    provider: OidcTestProvider = idp,
  ): Promise<{ login: string; email: string; claims: ProviderClaims }> {
    const { login, email } = providerLogin();
    const account: ProviderClaims = {
      email,
      email_verified: true,
      name: 'Pat Provider',
      ...claimsOf,
    };
    await provider.setAccount(login, account);
    return { login, email: account.email ?? email, claims: account };
  }

  /** Signs in through `provider` in a fresh browser and expects a one-time code: the fragment's code. */
  async function codeFor(login: string, provider = 'idp', redirectTo?: string): Promise<string> {
    const result = await signInThroughProvider(browser(), { provider, account: login, redirectTo });
    expect(result.fragment).toEqual({ code: expect.any(String) });
    return result.fragment.code;
  }

  function exchange(code: unknown): Promise<Reply> {
    return t.http.post(EXCHANGE, { code });
  }

  /** A full sign-in through the provider: the token pair of the exchange (200). */
  async function providerSignIn(login: string, provider = 'idp'): Promise<Reply> {
    const reply = await exchange(await codeFor(login, provider));
    expect(reply.status).toBe(200);
    return reply;
  }

  async function auditOf(userId: string, type: string): Promise<any[]> {
    const reply = await t.http.get(
      `${API}/audit?userId=${userId}&type=${type}&size=100`,
      admin.accessToken,
    );
    expect(reply.status).toBe(200);
    return reply.body.items;
  }

  /** The accounts whose email or username contains `text` (admin search). */
  async function accountsMatching(text: string): Promise<any[]> {
    const reply = await t.http.get(
      `${API}/users?q=${encodeURIComponent(text)}&size=100`,
      admin.accessToken,
    );
    expect(reply.status).toBe(200);
    return reply.body.items;
  }

  /** The link flow of a signed-in account: POST /users/me/identities/:provider's authorizeUrl. */
  async function startLink(
    user: { accessToken: string },
    provider = 'idp',
    body: Record<string, unknown> = {},
  ): Promise<string> {
    const reply = await t.http.post(`${IDENTITIES}/${provider}`, body, user.accessToken);
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body)).toEqual(['authorizeUrl']);
    return reply.body.authorizeUrl;
  }

  /** Links `login` at the provider to the signed-in account, in a fresh browser: the flow's end. */
  async function link(
    user: { accessToken: string },
    login: string,
    provider = 'idp',
    redirectTo?: string,
  ): Promise<FlowResult> {
    const authorizeUrl = await startLink(
      user,
      provider,
      redirectTo === undefined ? {} : { redirectTo },
    );
    return walkFlow(browser(), authorizeUrl, { account: login });
  }

  const identities = async (user: { accessToken: string }) => {
    const reply = await t.http.get(IDENTITIES, user.accessToken);
    expect(reply.status).toBe(200);
    return reply.body as Array<Record<string, any>>;
  };

  const LINKED = /(?<!un)linked/i;
  const UNLINKED = /unlinked/i;
  const identityMails = (email: string, kind: RegExp) =>
    smtp.sink.to(email).filter((mail) => kind.test(mail.subject));

  it('should document the routes in the OpenAPI document', async () => {
    const doc = (await t.http.get('/docs-json')).body;
    const routes: Array<[string, string, string[]]> = [
      [PROVIDERS, 'get', ['200']],
      [`${API}/auth/oidc/{provider}/authorize`, 'get', ['302', '400', '404']],
      [`${API}/auth/oidc/{provider}/callback`, 'get', ['302']],
      [EXCHANGE, 'post', ['200', '400', '403']],
      [`${IDENTITIES}/{provider}`, 'post', ['200', '400', '401', '404', '409']],
      [IDENTITIES, 'get', ['200', '401']],
      [`${IDENTITIES}/{provider}`, 'delete', ['204', '401', '404', '409']],
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

  describe('GET /auth/oidc/providers and /auth/oidc/:provider/authorize', () => {
    it('should list the configured providers, in order, with their labels (default: the name with a capital), publicly', async () => {
      const reply = await t.http.get(PROVIDERS);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual([
        { name: 'idp', label: 'Test IdP' },
        { name: 'later', label: 'Later' },
      ]);
    });

    it('should redirect to the provider: code flow, the registered redirect URI, openid email profile, state, nonce, PKCE S256; and set the HttpOnly SameSite=Lax flow cookie', async () => {
      const reply = await t.http.get(authorizePath('idp', LANDING));
      expect(reply.status).toBe(302);
      const location = new URL(String(reply.headers.location));
      const discovery = await (
        await fetch(`${idp.issuer}/.well-known/openid-configuration`)
      ).json();
      expect(`${location.origin}${location.pathname}`).toBe(discovery.authorization_endpoint);
      const query = Object.fromEntries(location.searchParams);
      expect(query).toMatchObject({
        response_type: 'code',
        client_id: idp.client.client_id,
        redirect_uri: callbackUrl(PUBLIC_URL, 'idp'),
        code_challenge_method: 'S256',
      });
      expect(query.scope.split(' ').sort()).toEqual(['email', 'openid', 'profile']);
      // A SHA-256 challenge (43 base64url characters), an unguessable state and nonce.
      expect(query.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(query.state).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      expect(query.nonce).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      expect(query).not.toHaveProperty('code_verifier');
      expect(query).not.toHaveProperty('client_secret');

      const set = reply.headers['set-cookie'];
      const cookies = (Array.isArray(set) ? set : [String(set)]).map((raw) =>
        parseSetCookie(raw, new URL(`${PUBLIC_URL}${authorizePath('idp')}`)),
      );
      const flow = cookies.find((c) => c.name === 'oidc_flow');
      expect(flow).toBeDefined();
      expect(flow).toMatchObject({
        path: '/api/v1/auth/oidc',
        httpOnly: true,
        secure: false,
      });
      expect(flow?.sameSite?.toLowerCase()).toBe('lax');
      expect(flow?.raw).toMatch(/Max-Age=600(;|$)/i);
      expect(flow?.value).toMatch(/^[A-Za-z0-9_%-]{22,}$/);
      // The cookie is a random key of the flow kept server-side, not its secrets.
      for (const secret of [query.state, query.nonce, query.code_challenge]) {
        expect(flow?.value).not.toContain(secret);
      }

      // Every flow its own state, nonce and verifier.
      const again = new URL(String((await t.http.get(authorizePath('idp'))).headers.location));
      for (const name of ['state', 'nonce', 'code_challenge']) {
        expect(again.searchParams.get(name)).not.toBe(location.searchParams.get(name));
      }
    });

    it('should answer 404 not_found for a provider that is not configured', async () => {
      expectProblem(await t.http.get(authorizePath('nope')), 404, 'not_found');
      expectProblem(await t.http.get(authorizePath('nope', HOME)), 404, 'not_found');
      expectProblem(await t.http.get(authorizePath('IDP')), 404, 'not_found');
    });

    it('should refuse an open redirect with 400 invalid_redirect: another site, and lookalikes of an allowed URL (prefix, suffix, path, query, credentials)', async () => {
      const refused = [
        'http://evil.example/',
        'https://evil.example/app/landing',
        `${LANDING}.evil.example`,
        `${LANDING}x`,
        `${LANDING}/`,
        `${LANDING}/../../evil`,
        `${LANDING}?next=http://evil.example/`,
        `${HOME}app`,
        `${HOME}?x=1`,
        'http://localhost:3000.evil.example/',
        'http://localhost:3000@evil.example/',
        'http://evil.example/?http://localhost:3000/',
        `http://evil.example/${HOME}`,
        'https://localhost:3000/',
        'http://localhost:3001/',
        '//evil.example/',
        '/app/landing',
        'javascript:alert(1)',
      ];
      for (const redirectTo of refused) {
        const reply = await t.http.get(authorizePath('idp', redirectTo));
        expect({ redirectTo, status: reply.status, code: reply.body?.code }).toEqual({
          redirectTo,
          status: 400,
          code: 'invalid_redirect',
        });
        expectProblem(reply, 400, 'invalid_redirect');
        expect(reply.headers.location).toBeUndefined();
      }
      // The allowed ones, exactly as configured.
      for (const redirectTo of [HOME, LANDING]) {
        expect((await t.http.get(authorizePath('idp', redirectTo))).status).toBe(302);
      }
    });
  });

  describe('GET /auth/oidc/:provider/callback: state bound to the browser', () => {
    it('should refuse a tampered state: #error=invalid_state, no code', async () => {
      const { login } = await providerAccount();
      const person = browser();
      const held = await signInThroughProvider(person, {
        provider: 'idp',
        account: login,
        holdCallback: true,
      });
      const tampered = new URL(held.callbackUrl as string);
      const state = tampered.searchParams.get('state') as string;
      tampered.searchParams.set(
        'state',
        `${state.slice(0, -2)}${state.endsWith('AA') ? 'BB' : 'AA'}`,
      );
      const hop = await person.get(tampered.toString());
      expect(hop.status).toBe(302);
      expect(fragmentOf(hop.location as string)).toEqual({ error: 'invalid_state' });
      expect([HOME, LANDING]).toContain((hop.location as string).split('#')[0]);

      // No state at all, or no code and no error.
      const bare = new URL(held.callbackUrl as string);
      bare.searchParams.delete('state');
      const fresh = browser();
      await fresh.get(`${PUBLIC_URL}${authorizePath('idp')}`);
      const noState = await fresh.get(bare.toString());
      expect(noState.status).toBe(302);
      expect(fragmentOf(noState.location as string)).toEqual({ error: 'invalid_state' });
    });

    it('should refuse a callback in another browser (no flow cookie, or its own): #error=invalid_state at the first redirect URL, and no account', async () => {
      const { login, email } = await providerAccount();
      /** The victim's flow, held at the provider's redirect back (its callback URL carries the code). */
      const victimFlow = async () =>
        (
          await signInThroughProvider(browser(), {
            provider: 'idp',
            account: login,
            redirectTo: LANDING,
            holdCallback: true,
          })
        ).callbackUrl as string;

      // A browser that never started a flow.
      const attacker = browser();
      const first = await attacker.get(await victimFlow());
      expect(first.status).toBe(302);
      expect(first.location).toBe(`${HOME}#error=invalid_state`);

      // A browser with a flow of its own (its own cookie).
      const other = browser();
      expect((await other.get(`${PUBLIC_URL}${authorizePath('idp', LANDING)}`)).status).toBe(302);
      expect(other.serviceCookie('oidc_flow')).toBeDefined();
      const second = await other.get(await victimFlow());
      expect(second.status).toBe(302);
      expect(second.location).toBe(`${HOME}#error=invalid_state`);
      expect(await accountsMatching(email)).toEqual([]);
    });

    it('should spend the flow at its callback: the same callback again is invalid_state (also with the old cookie put back), and clears the cookie', async () => {
      const { login } = await providerAccount();
      const person = browser();
      const held = await signInThroughProvider(person, {
        provider: 'idp',
        account: login,
        redirectTo: LANDING,
        holdCallback: true,
      });
      const cookie = person.serviceCookie('oidc_flow');
      expect(cookie).toBeDefined();
      const done = await person.get(held.callbackUrl as string);
      expect(done.status).toBe(302);
      expect((done.location as string).split('#')[0]).toBe(LANDING);
      const { code } = fragmentOf(done.location as string);
      expect(code).toEqual(expect.any(String));
      // The cookie is cleared.
      expect(person.serviceCookie('oidc_flow')).toBeUndefined();

      const replay = await person.get(held.callbackUrl as string);
      expect(replay.status).toBe(302);
      expect(fragmentOf(replay.location as string)).toEqual({ error: 'invalid_state' });
      person.setCookie(cookie as NonNullable<typeof cookie>);
      const withCookie = await person.get(held.callbackUrl as string);
      expect(withCookie.status).toBe(302);
      expect(fragmentOf(withCookie.location as string)).toEqual({ error: 'invalid_state' });
      // The one code of that flow still works.
      expect((await exchange(code)).status).toBe(200);
    });

    it('should answer #error=access_denied when the person cancels at the provider (login or consent), or the provider sends any other error', async () => {
      const { login, email } = await providerAccount();
      for (const cancelAt of ['login', 'consent'] as const) {
        const result = await signInThroughProvider(browser(), {
          provider: 'idp',
          account: login,
          redirectTo: LANDING,
          cancelAt,
        });
        expect(new URL(result.callbackUrl as string).searchParams.get('error')).toBe(
          'access_denied',
        );
        expect(result.target).toBe(LANDING);
        expect(result.fragment).toEqual({ error: 'access_denied' });
      }
      // Another error from the provider, with the flow's state.
      const person = browser();
      const held = await signInThroughProvider(person, {
        provider: 'idp',
        account: login,
        redirectTo: LANDING,
        holdCallback: true,
      });
      const errored = new URL(held.callbackUrl as string);
      errored.searchParams.delete('code');
      errored.searchParams.set('error', 'temporarily_unavailable');
      const hop = await person.get(errored.toString());
      expect(hop.location).toBe(`${LANDING}#error=access_denied`);
      // Nothing was created.
      expect(await accountsMatching(email)).toEqual([]);
    });

    it('should answer #error=provider_error when the code is not the provider’s (the token exchange fails), or the callback names another issuer', async () => {
      const { login, email } = await providerAccount();
      const person = browser();
      const held = await signInThroughProvider(person, {
        provider: 'idp',
        account: login,
        redirectTo: LANDING,
        holdCallback: true,
      });
      const forged = new URL(held.callbackUrl as string);
      forged.searchParams.set('code', randomBytes(32).toString('base64url'));
      const hop = await person.get(forged.toString());
      expect(hop.location).toBe(`${LANDING}#error=provider_error`);

      const mixUp = browser();
      const second = await signInThroughProvider(mixUp, {
        provider: 'idp',
        account: login,
        redirectTo: LANDING,
        holdCallback: true,
      });
      const otherIssuer = new URL(second.callbackUrl as string);
      expect(otherIssuer.searchParams.get('iss')).toBe(idp.issuer);
      otherIssuer.searchParams.set('iss', 'http://127.0.0.1:1');
      const refused = await mixUp.get(otherIssuer.toString());
      expect(refused.status).toBe(302);
      expect(fragmentOf(refused.location as string)).toEqual({ error: 'provider_error' });
      expect(await accountsMatching(email)).toEqual([]);
    });
  });

  describe('Accounts made by a provider, and POST /auth/oidc/exchange', () => {
    it('should create an account for a new verified identity: email lower-cased and verified, no password, name as fullName; then #code, exchanged once for amr ["fed"], aal1', async () => {
      const { login, email } = await providerAccount({ name: 'Quinn Provider' });
      await idp.setAccount(login, { ...idp.account(login), email: email.toUpperCase() });
      const person = browser();
      const result = await signInThroughProvider(person, {
        provider: 'idp',
        account: login,
        redirectTo: LANDING,
      });
      expect(result.target).toBe(LANDING);
      expect(Object.keys(result.fragment)).toEqual(['code']);
      expect(result.fragment.code).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      expect(person.serviceCookie('oidc_flow')).toBeUndefined();
      // The provider saw PKCE and the client's secret in the body (client_secret_post).
      const grants = (await idp.events()).filter((e) => e.event === 'grant.success');
      expect(grants.at(-1)).toMatchObject({
        grantType: 'authorization_code',
        codeVerifier: true,
        clientAuthMethod: 'client_secret_post',
      });

      const reply = await exchange(result.fragment.code);
      expect(reply.status).toBe(200);
      expect(reply.headers['cache-control']).toBe('no-store');
      expect(reply.body).toMatchObject({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: expect.any(Number),
        user: { email, emailVerified: true, fullName: 'Quinn Provider' },
      });
      const payload = claims(reply.body.accessToken);
      expect(payload).toMatchObject({ sub: reply.body.user.id, amr: ['fed'], aal: 'aal1' });

      const me = await t.http.get(`${API}/users/me`, reply.body.accessToken);
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({
        id: reply.body.user.id,
        email,
        emailVerified: true,
        fullName: 'Quinn Provider',
        mfaEnabled: false,
        roles: ['user'],
      });
      // No password: no password sign-in works.
      for (const password of ['any password at all', '', 'violet tractor harbour 42']) {
        const attempt = await t.http.post(`${API}/auth/login`, { email, password });
        expect(attempt.status).not.toBe(200);
      }
      expectProblem(
        await t.http.post(`${API}/auth/login`, { email, password: 'any password at all' }),
        401,
        'invalid_credentials',
      );

      const listed = await identities(reply.body);
      expect(listed).toEqual([
        {
          provider: 'idp',
          email,
          linkedAt: expect.stringMatching(ISO),
          lastUsedAt: listed[0]?.lastUsedAt === null ? null : expect.stringMatching(ISO),
        },
      ]);

      const registered = await auditOf(reply.body.user.id, 'user.registered');
      expect(registered).toHaveLength(1);
      expect(registered[0].detail).toMatchObject({ method: 'oidc:idp' });
      const succeeded = await auditOf(reply.body.user.id, 'login.succeeded');
      expect(succeeded.map((e) => e.detail?.method)).toEqual(['oidc:idp']);
      // No code or token in the audit trail.
      expect(JSON.stringify(succeeded)).not.toContain(result.fragment.code);

      // The refresh token works as any other.
      const refreshed = await t.http.post(`${API}/auth/refresh`, {
        refreshToken: reply.body.refreshToken,
      });
      expect(refreshed.status).toBe(200);
      expect(claims(refreshed.body.accessToken)).toMatchObject({ amr: ['fed'], aal: 'aal1' });
    });

    it('should accept email_verified "true" (a string) as verified, and reach the same account the next time', async () => {
      const { login, email } = await providerAccount({ email_verified: 'true' });
      const first = await providerSignIn(login);
      expect(first.body.user).toMatchObject({ email, emailVerified: true });
      const before = Date.now();
      const second = await providerSignIn(login);
      expect(second.body.user.id).toBe(first.body.user.id);
      expect(await accountsMatching(email)).toHaveLength(1);
      const [identity] = await identities(second.body);
      expect(identity.lastUsedAt).toEqual(expect.stringMatching(ISO));
      expect(Date.parse(identity.lastUsedAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(await auditOf(first.body.user.id, 'user.registered')).toHaveLength(1);
      expect(
        (await auditOf(first.body.user.id, 'login.succeeded')).map((e) => e.detail?.method),
      ).toEqual(['oidc:idp', 'oidc:idp']);
    });

    it('should refuse a spent code, an unknown code and an expired one with 400 invalid_code; keep codes only as hashes', async () => {
      const { login } = await providerAccount();
      const code = await codeFor(login);
      const db = t.app.get(DataSource);
      const rows: Array<{ ticket_hash: string; expires_at: Date; user_id: string }> =
        await db.query(
          `SELECT ticket_hash, expires_at, user_id FROM oidc_tickets WHERE kind = 'code'`,
        );
      expect(rows.map((r) => r.ticket_hash)).not.toContain(code);
      const row = rows.find(
        (r) =>
          r.ticket_hash === createHash('sha256').update(code).digest('hex') ||
          r.ticket_hash === createHash('sha256').update(code).digest('base64url'),
      );
      expect(row).toBeDefined();
      // Valid 60 s.
      const left = new Date(row!.expires_at).getTime() - Date.now();
      expect(left).toBeGreaterThan(45000);
      expect(left).toBeLessThanOrEqual(61000);

      expect((await exchange(code)).status).toBe(200);
      expectProblem(await exchange(code), 400, 'invalid_code');
      expectProblem(await exchange(randomBytes(32).toString('base64url')), 400, 'invalid_code');
      expectProblem(await exchange(`${code}x`), 400, 'invalid_code');

      // Expired: the next code of the same account, its 60 s over.
      const next = await codeFor(login);
      await db.query(
        `UPDATE oidc_tickets SET expires_at = now() - interval '1 second' WHERE kind = 'code' AND user_id = $1`,
        [row!.user_id],
      );
      expectProblem(await exchange(next), 400, 'invalid_code');
      // The body is checked: a code is a string.
      expectProblem(await t.http.post(EXCHANGE, {}), 400);
      expectProblem(await t.http.post(EXCHANGE, { code: 42 }), 400);
      expectProblem(await t.http.post(EXCHANGE, { code, extra: 1 }), 400);
    });

    it('should answer #error=account_exists for an email a password account has, and link nothing', async () => {
      const owner = await signedInUser(t.http);
      const { login } = await providerAccount({ email: owner.email.toUpperCase() });
      const result = await signInThroughProvider(browser(), {
        provider: 'idp',
        account: login,
        redirectTo: LANDING,
      });
      expect(result.target).toBe(LANDING);
      expect(result.fragment).toEqual({ error: 'account_exists' });
      expect(await identities(owner)).toEqual([]);
      expect(await accountsMatching(owner.email)).toHaveLength(1);
      expect(await auditOf(owner.user.id, 'identity.linked')).toEqual([]);
      // Again: still nothing linked (never matched on email).
      const again = await signInThroughProvider(browser(), { provider: 'idp', account: login });
      expect(again.fragment).toEqual({ error: 'account_exists' });
      expect(await identities(owner)).toEqual([]);
    });

    it('should answer #error=email_not_verified for an unverified (or unstated) provider email, and create nothing', async () => {
      for (const verified of [false, 'false', undefined]) {
        // undefined: the claim is left out (JSON drops it).
        const { login, email } = await providerAccount({ email_verified: verified });
        const result = await signInThroughProvider(browser(), {
          provider: 'idp',
          account: login,
          redirectTo: LANDING,
        });
        expect({ verified, fragment: result.fragment }).toEqual({
          verified,
          fragment: { error: 'email_not_verified' },
        });
        expect(result.target).toBe(LANDING);
        expect(await accountsMatching(email)).toEqual([]);
      }
    });

    it('should reach the same account when the email changes at the provider (the identity is provider + sub), even to another account’s email; the identity shows the new email', async () => {
      const { login, email } = await providerAccount();
      const first = await providerSignIn(login);
      const userId = first.body.user.id;
      const changed = `changed.${email}`;
      await idp.setAccount(login, { ...idp.account(login), email: changed });
      const second = await providerSignIn(login);
      expect(second.body.user.id).toBe(userId);
      const listed = await identities(second.body);
      expect(listed).toEqual([expect.objectContaining({ provider: 'idp', email: changed })]);

      // Now the email of a password account: still this account, and nothing of the other's.
      const other = await signedInUser(t.http);
      await idp.setAccount(login, { ...idp.account(login), email: other.email });
      const third = await providerSignIn(login);
      expect(third.body.user.id).toBe(userId);
      expect(await identities(other)).toEqual([]);
      // Another provider account (another sub) with the account's own email is not that account.
      const own = (await t.http.get(`${API}/users/me`, third.body.accessToken)).body.email;
      const twin = await providerAccount({ email: own.toUpperCase() });
      const twinResult = await signInThroughProvider(browser(), {
        provider: 'idp',
        account: twin.login,
      });
      expect(twinResult.fragment).toEqual({ error: 'account_exists' });
    });

    it('should answer 403 account_disabled at the exchange for a disabled account', async () => {
      const { login } = await providerAccount();
      const first = await providerSignIn(login);
      const disabled = await t.http.request('PATCH', `${API}/users/${first.body.user.id}`, {
        token: admin.accessToken,
        body: { disabled: true },
      });
      expect(disabled.status).toBe(200);
      const code = await codeFor(login);
      expectProblem(await exchange(code), 403, 'account_disabled');
    });

    it('should stop halfway with 403 mfa_required for an account with TOTP; the second step finishes with amr fed + otp, aal2', async () => {
      const { login } = await providerAccount();
      const first = await providerSignIn(login);
      // A fresh sign-in proves a password-less account for the enrolment.
      const enrolled = await enrolTotp(t.http, { accessToken: first.body.accessToken });

      const code = await codeFor(login);
      const reply = await exchange(code);
      expectProblem(reply, 403, 'mfa_required');
      expect(reply.body).not.toHaveProperty('accessToken');
      expect(reply.body).not.toHaveProperty('refreshToken');
      expect(reply.body.mfaToken).toEqual(expect.any(String));
      expect(reply.body.methods).toEqual(expect.arrayContaining(['totp', 'recovery_code']));
      // The code is spent all the same.
      expectProblem(await exchange(code), 400, 'invalid_code');

      const done = await t.http.post(`${API}/auth/mfa/verify`, {
        mfaToken: reply.body.mfaToken,
        code: await enrolled.authenticator.next(),
      });
      expect(done.status).toBe(200);
      expect(done.body.user.id).toBe(first.body.user.id);
      const payload = claims(done.body.accessToken);
      expect(payload.aal).toBe('aal2');
      expect([...payload.amr].sort()).toEqual(['fed', 'otp']);
      const methods = (await auditOf(first.body.user.id, 'login.succeeded')).map(
        (e) => e.detail?.method,
      );
      expect(methods).toContain('totp');
    });

    it('should let an account made by a provider set a password through forgot + reset, then sign in with it, then unlink the provider', async () => {
      const { login, email } = await providerAccount();
      const first = await providerSignIn(login);
      // The provider is its only way in.
      expectProblem(
        await t.http.request('DELETE', `${IDENTITIES}/idp`, { token: first.body.accessToken }),
        409,
        'last_sign_in_method',
      );
      expect(await identities(first.body)).toHaveLength(1);

      expect((await t.http.post(`${API}/auth/password/forgot`, { email })).status).toBe(202);
      const mail = await smtp.sink.waitFor(
        (m) => m.to.includes(email) && /reset your password/i.test(m.subject),
      );
      const { token } = resetLinkIn(mail);
      const reset = await t.http.post(`${API}/auth/password/reset`, {
        token,
        newPassword: NEW_PASSWORD,
      });
      expect(reset.status).toBe(204);
      const withPassword = await signIn(t, email, NEW_PASSWORD);
      expect(withPassword.user.id).toBe(first.body.user.id);
      expect(claims(withPassword.accessToken).amr).toEqual(['pwd']);

      const unlinked = await t.http.request('DELETE', `${IDENTITIES}/idp`, {
        token: withPassword.accessToken,
      });
      expect(unlinked.status).toBe(204);
      expect(await identities(withPassword)).toEqual([]);
      await smtp.sink.waitFor((m) => m.to.includes(email) && UNLINKED.test(m.subject));
      // The provider account is now a stranger whose email is taken: account_exists.
      const after = await signInThroughProvider(browser(), { provider: 'idp', account: login });
      expect(after.fragment).toEqual({ error: 'account_exists' });
    });
  });

  describe('Linking from the profile: POST, GET and DELETE /users/me/identities', () => {
    it('should link a provider to a password account: authorizeUrl, #linked=idp, listed, mailed, audited; then it signs in either way', async () => {
      const user = await signedInUser(t.http);
      // The provider's email need not be the account's.
      const { login, email } = await providerAccount();
      const authorizeUrl = await startLink(user, 'idp', { redirectTo: LANDING });
      const url = new URL(authorizeUrl);
      expect(`${url.origin}${url.pathname}`).toBe(`${PUBLIC_URL}${authorizePath('idp')}`);
      expect(url.searchParams.get('redirectTo')).toBe(LANDING);
      expect(url.searchParams.get('link')).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      expect(url.searchParams.get('link')).not.toContain(user.accessToken);

      const result = await walkFlow(browser(), authorizeUrl, { account: login });
      expect(result.target).toBe(LANDING);
      expect(result.fragment).toEqual({ linked: 'idp' });

      const listed = await identities(user);
      expect(listed).toHaveLength(1);
      expect(Object.keys(listed[0]).sort()).toEqual([
        'email',
        'lastUsedAt',
        'linkedAt',
        'provider',
      ]);
      expect(listed[0]).toMatchObject({
        provider: 'idp',
        email,
        linkedAt: expect.stringMatching(ISO),
      });
      expect(listed[0].lastUsedAt === null || ISO.test(listed[0].lastUsedAt)).toBe(true);

      await smtp.sink.waitFor((m) => m.to.includes(user.email) && LINKED.test(m.subject));
      const linked = await auditOf(user.user.id, 'identity.linked');
      expect(linked).toHaveLength(1);
      expect(linked[0]).toMatchObject({ outcome: 'success', userId: user.user.id });
      expect(JSON.stringify(linked[0].detail)).toContain('idp');

      // Either way in: the provider, and the password.
      const viaProvider = await providerSignIn(login);
      expect(viaProvider.body.user.id).toBe(user.user.id);
      expect(viaProvider.body.user.email).toBe(user.email);
      expect((await signIn(t, user.email, user.password)).user.id).toBe(user.user.id);
      const [used] = await identities(user);
      expect(used.lastUsedAt).toEqual(expect.stringMatching(ISO));
      // No account was made for the provider's email.
      expect(await accountsMatching(email)).toEqual([]);
    });

    it('should use the first redirect URL by default, and refuse 404 an unknown provider, 400 invalid_redirect a foreign redirectTo, 401 without a token', async () => {
      const user = await signedInUser(t.http);
      const authorizeUrl = await startLink(user);
      expect(new URL(authorizeUrl).searchParams.get('redirectTo') ?? HOME).toBe(HOME);
      expectProblem(await t.http.post(`${IDENTITIES}/nope`, {}, user.accessToken), 404);
      for (const redirectTo of ['http://evil.example/', `${LANDING}.evil.example`, `${HOME}x`]) {
        expectProblem(
          await t.http.post(`${IDENTITIES}/idp`, { redirectTo }, user.accessToken),
          400,
          'invalid_redirect',
        );
      }
      expectProblem(await t.http.post(`${IDENTITIES}/idp`, {}), 401);
      expectProblem(await t.http.get(IDENTITIES), 401);
      expectProblem(await t.http.request('DELETE', `${IDENTITIES}/idp`), 401);
      // Default redirect: the link lands on HOME.
      const { login } = await providerAccount();
      const result = await walkFlow(browser(), authorizeUrl, { account: login });
      expect(result.location).toBe(`${HOME}#linked=idp`);
    });

    it('should answer #error=identity_taken for a provider account linked to another account, and 409 identity_taken when this account already has that provider', async () => {
      const { login } = await providerAccount();
      const owner = await providerSignIn(login);
      const user = await signedInUser(t.http);
      const taken = await link(user, login, 'idp', LANDING);
      expect(taken.target).toBe(LANDING);
      expect(taken.fragment).toEqual({ error: 'identity_taken' });
      expect(await identities(user)).toEqual([]);
      expect(await identities(owner.body)).toHaveLength(1);
      expect((await providerSignIn(login)).body.user.id).toBe(owner.body.user.id);

      // This account links one of its own; a second link of the same provider is refused.
      const mine = await providerAccount();
      expect((await link(user, mine.login)).fragment).toEqual({ linked: 'idp' });
      expectProblem(
        await t.http.post(`${IDENTITIES}/idp`, {}, user.accessToken),
        409,
        'identity_taken',
      );
      expect(await identities(user)).toEqual([
        expect.objectContaining({ provider: 'idp', email: mine.email }),
      ]);
    });

    it('should unlink: 204, mailed, audited, gone from the list; 404 when not linked or unknown', async () => {
      const user = await signedInUser(t.http);
      const { login } = await providerAccount();
      expectProblem(
        await t.http.request('DELETE', `${IDENTITIES}/idp`, { token: user.accessToken }),
        404,
      );
      expect((await link(user, login)).fragment).toEqual({ linked: 'idp' });
      const reply = await t.http.request('DELETE', `${IDENTITIES}/idp`, {
        token: user.accessToken,
      });
      expect(reply.status).toBe(204);
      expect(reply.text).toBe('');
      expect(await identities(user)).toEqual([]);
      await smtp.sink.waitFor((m) => m.to.includes(user.email) && UNLINKED.test(m.subject));
      expect(identityMails(user.email, UNLINKED)).toHaveLength(1);
      const unlinked = await auditOf(user.user.id, 'identity.unlinked');
      expect(unlinked).toHaveLength(1);
      expect(unlinked[0]).toMatchObject({ outcome: 'success', userId: user.user.id });
      expectProblem(
        await t.http.request('DELETE', `${IDENTITIES}/idp`, { token: user.accessToken }),
        404,
      );
      expectProblem(
        await t.http.request('DELETE', `${IDENTITIES}/nope`, { token: user.accessToken }),
        404,
      );
      // Unlinked: that provider account no longer reaches this account (a new one is made).
      const after = await providerSignIn(login);
      expect(after.body.user.id).not.toBe(user.user.id);
    });

    it('should refuse to unlink the last sign-in method of an account made by a provider: 409 last_sign_in_method', async () => {
      const { login } = await providerAccount();
      const made = await providerSignIn(login);
      expectProblem(
        await t.http.request('DELETE', `${IDENTITIES}/idp`, { token: made.body.accessToken }),
        409,
        'last_sign_in_method',
      );
      expect(await identities(made.body)).toHaveLength(1);
      expect(await auditOf(made.body.user.id, 'identity.unlinked')).toEqual([]);
      expect((await providerSignIn(login)).body.user.id).toBe(made.body.user.id);
    });
  });

  describe('A provider that is down', () => {
    afterAll(async () => {
      await later.stop();
    });

    it('should answer authorize with 302 #error=provider_error while the provider is unreachable, and serve everything else', async () => {
      expect(later.running).toBe(false);
      const reply = await t.http.get(authorizePath('later', LANDING));
      expect(reply.status).toBe(302);
      expect(reply.headers.location).toBe(`${LANDING}#error=provider_error`);
      const byDefault = await t.http.get(authorizePath('later'));
      expect(byDefault.headers.location).toBe(`${HOME}#error=provider_error`);
      // Checks that need no provider come first.
      expectProblem(
        await t.http.get(authorizePath('later', 'http://evil.example/')),
        400,
        'invalid_redirect',
      );
      // The rest of the service, and the other provider, work.
      expect((await t.http.get(PROVIDERS)).body).toHaveLength(2);
      expect((await t.http.get('/health/ready')).status).toBe(200);
      const { login } = await providerAccount();
      expect((await providerSignIn(login)).status).toBe(200);
    });

    it('should work once the provider is up (discovery retried), and answer #error=provider_error when it goes down between authorize and callback', async () => {
      await later.start();
      // Discovery is tried again at a later request (the service may wait a few seconds after a failure).
      const deadline = Date.now() + 15000;
      let location = '';
      for (;;) {
        location = String((await t.http.get(authorizePath('later', LANDING))).headers.location);
        if (location.startsWith(later.issuer) || Date.now() > deadline) {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(location.startsWith(`${later.issuer}/`)).toBe(true);
      const { login, email } = await providerAccount({}, later);
      const reply = await providerSignIn(login, 'later');
      expect(reply.body.user.email).toBe(email);
      expect(claims(reply.body.accessToken).amr).toEqual(['fed']);
      expect(
        (await auditOf(reply.body.user.id, 'login.succeeded')).map((e) => e.detail?.method),
      ).toEqual(['oidc:later']);

      // An account with two providers may unlink one of them, not the last.
      const idpAccount = await providerAccount();
      expect((await link(reply.body, idpAccount.login)).fragment).toEqual({ linked: 'idp' });
      expect(((await identities(reply.body)) as any[]).map((i) => i.provider).sort()).toEqual([
        'idp',
        'later',
      ]);
      expect(
        (
          await t.http.request('DELETE', `${IDENTITIES}/later`, {
            token: reply.body.accessToken,
          })
        ).status,
      ).toBe(204);
      expectProblem(
        await t.http.request('DELETE', `${IDENTITIES}/idp`, { token: reply.body.accessToken }),
        409,
        'last_sign_in_method',
      );

      // Down between the provider's redirect and the callback: the token exchange fails.
      const other = await providerAccount({}, later);
      const person = browser();
      const held = await signInThroughProvider(person, {
        provider: 'later',
        account: other.login,
        redirectTo: LANDING,
        holdCallback: true,
      });
      await later.stop();
      const hop = await person.get(held.callbackUrl as string);
      expect(hop.status).toBe(302);
      expect(hop.location).toBe(`${LANDING}#error=provider_error`);
      expect(await accountsMatching(other.email)).toEqual([]);
    });
  });
});

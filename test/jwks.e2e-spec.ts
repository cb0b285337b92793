import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { freePort } from './support/service-process';
import { type Downstream, startDownstream } from './support/remote';
import { expectProblem, signedInUser } from './support/factories';
import { createStore, type Env, startApp, type TestApp, type TestStore } from './support/test-app';

const ALGORITHMS = {
  ES256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  RS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
};
/** Members of a private JWK that must never be published. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

const pem = (key: KeyObject) => key.export({ format: 'pem', type: 'pkcs8' }).toString();
const jwk = (key: KeyObject, kid: string) => ({ ...key.export({ format: 'jwk' }), kid });

/**
 * The service in this process, listening on a real port (the downstream
 * service fetches its keys over HTTP), restartable on the same store and port
 * with other keys.
 */
function useListeningApp() {
  let store: TestStore | undefined;
  let app: TestApp | undefined;
  let port = 0;
  const downstreams: Downstream[] = [];
  beforeAll(async () => {
    store = await createStore();
    port = await freePort();
  });
  afterEach(() => downstreams.splice(0).forEach((downstream) => downstream.stop()));
  afterAll(async () => {
    await app?.close();
    await store?.drop();
  });
  return {
    get base() {
      return `http://127.0.0.1:${port}`;
    },
    /** PUBLIC_URL: a host name, since a passkey's RP ID cannot be an IP address. */
    get publicUrl() {
      return `http://localhost:${port}`;
    },
    get http() {
      return app!.http;
    },
    async start(env: Env) {
      await app?.close();
      app = await startApp(store!, { PUBLIC_URL: this.publicUrl, ...env });
      await app.app.listen(port, '127.0.0.1');
    },
    async downstream(algorithm: string) {
      const started = await startDownstream(`http://127.0.0.1:${port}`, algorithm, {
        JWKS_COOLDOWN_MS: '0',
      });
      downstreams.push(started);
      return started;
    },
  };
}

describe.each(Object.keys(ALGORITHMS) as Array<keyof typeof ALGORITHMS>)(
  'Tokens another service verifies from the JWKS alone: %s (e2e)',
  (algorithm) => {
    const service = useListeningApp();
    const [first, second] = [ALGORITHMS[algorithm](), ALGORITHMS[algorithm]()];

    it('should publish RFC 8414 metadata and the public key, and nothing private', async () => {
      await service.start({ JWT_ALGORITHM: algorithm, JWT_PRIVATE_KEYS: pem(first) });
      const metadata = await service.http.get('/.well-known/oauth-authorization-server');
      expect(metadata.status).toBe(200);
      expect(metadata.body).toEqual({
        issuer: 'auth-service',
        token_endpoint: `${service.publicUrl}/api/v1/auth/token`,
        jwks_uri: `${service.publicUrl}/.well-known/jwks.json`,
        grant_types_supported: ['password', 'refresh_token'],
        response_types_supported: [],
        token_endpoint_auth_methods_supported: ['none'],
        service_documentation: `${service.publicUrl}/docs`,
      });
      const set = await service.http.get('/.well-known/jwks.json');
      expect(set.status).toBe(200);
      expect(set.headers['cache-control']).toBe('public, max-age=300');
      expect(set.body.keys).toHaveLength(1);
      const [key] = set.body.keys;
      expect(key).toMatchObject({ alg: algorithm, use: 'sig', kid: expect.any(String) });
      for (const member of PRIVATE_MEMBERS) {
        expect(key).not.toHaveProperty(member);
      }
    });

    it('should issue tokens that jose verifies from the JWKS URL, and that it refuses once altered', async () => {
      const downstream = await service.downstream(algorithm);
      const user = await signedInUser(service.http);
      const verified = await downstream.verify(user.accessToken);
      expect(verified).toEqual({
        status: 200,
        body: { sub: user.user.id, sid: expect.any(String), kid: expect.any(String) },
      });
      const [header, payload, signature] = user.accessToken.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const altered = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString(
        'base64url',
      );
      expect((await downstream.verify(`${header}.${altered}.${signature}`)).status).toBe(401);
      // The refresh token is no access token anywhere.
      expect((await downstream.verify(user.refreshToken)).status).toBe(401);

      // Local verification cannot see a sign-out before the token expires; our own routes do.
      expect((await service.http.post('/api/v1/auth/logout', {}, user.accessToken)).status).toBe(
        204,
      );
      expectProblem(await service.http.get('/api/v1/users/me', user.accessToken), 401);
      expect((await downstream.verify(user.accessToken)).status).toBe(200);
    });

    it('should rotate keys: a new key signs, the old one verifies until it is removed', async () => {
      await service.start({ JWT_ALGORITHM: algorithm, JWT_PRIVATE_KEYS: pem(first) });
      const downstream = await service.downstream(algorithm);
      const before = await signedInUser(service.http);
      expect((await downstream.verify(before.accessToken)).status).toBe(200);

      // Step 1: the new key first (as a JWK set with kids), the old one kept.
      const oldKid = (await service.http.get('/.well-known/jwks.json')).body.keys[0].kid;
      await service.start({
        JWT_ALGORITHM: algorithm,
        JWT_PRIVATE_KEYS: JSON.stringify({ keys: [jwk(second, 'next'), jwk(first, oldKid)] }),
      });
      const keys = (await service.http.get('/.well-known/jwks.json')).body.keys;
      expect(keys.map((key: { kid: string }) => key.kid)).toEqual(['next', oldKid]);
      const after = await signedInUser(service.http);
      // The running downstream service meets an unknown kid and fetches the set again.
      expect((await downstream.verify(after.accessToken)).body.kid).toBe('next');
      expect((await downstream.verify(before.accessToken)).body.kid).toBe(oldKid);
      expect((await service.http.get('/api/v1/users/me', before.accessToken)).status).toBe(200);
      expect((await service.http.get('/api/v1/users/me', after.accessToken)).status).toBe(200);

      // Step 2: the old key removed (once its tokens have expired).
      await service.start({
        JWT_ALGORITHM: algorithm,
        JWT_PRIVATE_KEYS: JSON.stringify([jwk(second, 'next')]),
      });
      expectProblem(await service.http.get('/api/v1/users/me', before.accessToken), 401);
      expect((await service.http.get('/api/v1/users/me', after.accessToken)).status).toBe(200);
      const fresh = await service.downstream(algorithm);
      expect((await fresh.verify(before.accessToken)).status).toBe(401);
      expect((await fresh.verify(after.accessToken)).status).toBe(200);
    });
  },
);

describe('Discovery with HS256 (e2e)', () => {
  const service = useListeningApp();

  it('should never publish the HS256 secret: the key set is empty', async () => {
    await service.start({});
    const set = await service.http.get('/.well-known/jwks.json');
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ keys: [] });
    const user = await signedInUser(service.http);
    const downstream = await service.downstream('HS256');
    expect((await downstream.verify(user.accessToken)).status).toBe(401);
  });
});

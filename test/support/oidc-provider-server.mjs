// A real OpenID provider (npm `oidc-provider`, ESM only) for the end-to-end
// tests, in a plain Node process of its own: Jest's CommonJS runtime would have
// to transform oidc-provider and its whole Koa stack to load it in-process.
// Started by test/support/oidc-provider.ts; configured by one JSON document in
// the environment variable OIDC_TEST_PROVIDER:
//   { port, clients: [{ client_id, client_secret, redirect_uris }],
//     accounts: { <login>: { sub?, email?, email_verified?, name? } },
//     jwks: { keys: [<private JWK>] }, cookieKeys: [<string>] }
// It listens on 127.0.0.1:<port> (0: a free port), its issuer is
// http://127.0.0.1:<port>, and it prints one line `listening <port>` when ready.
//
// Besides the provider's own routes (discovery, /auth, /token, /me, /jwks,
// and devInteractions' login and consent pages at /interaction/:uid), a small
// control API lets the test change what the provider says about an account:
//   PUT /__test/accounts/:login   (JSON claims)  -> 204
//   DELETE /__test/accounts/:login               -> 204
//   GET /__test/accounts/:login                  -> 200 claims | 404
//   GET /__test/log                              -> 200 [{ event, ... }] (token grants and errors)
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_TEST_PROVIDER ?? '{}');
/** login -> claims; what findAccount reads, so the control API's changes show at the next token. */
const accounts = new Map(Object.entries(config.accounts ?? {}));
const log = [];

function note(entry) {
  log.push({ at: new Date().toISOString(), ...entry });
  if (log.length > 200) {
    log.shift();
  }
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve(text ? JSON.parse(text) : {});
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}

function control(req, res) {
  const send = (status, body) => {
    res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const url = new URL(req.url, 'http://control');
  if (url.pathname === '/__test/log' && req.method === 'GET') {
    return send(200, log);
  }
  const match = /^\/__test\/accounts\/([^/]+)$/.exec(url.pathname);
  if (!match) {
    return send(404, { error: 'not_found' });
  }
  const login = decodeURIComponent(match[1]);
  if (req.method === 'GET') {
    return accounts.has(login) ? send(200, accounts.get(login)) : send(404, { error: 'not_found' });
  }
  if (req.method === 'DELETE') {
    accounts.delete(login);
    return send(204);
  }
  if (req.method === 'PUT') {
    return readJson(req).then(
      (claims) => {
        accounts.set(login, claims);
        send(204);
      },
      () => send(400, { error: 'invalid_json' }),
    );
  }
  return send(405, { error: 'method_not_allowed' });
}

const server = createServer();
server.listen(config.port ?? 0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks: config.jwks,
    cookies: { keys: config.cookieKeys ?? ['oidc-test-provider-cookie-key'] },
    // The claims each scope releases; with conformIdTokenClaims off they are in
    // the ID token too (as Google, Entra ID, GitLab and Keycloak put them),
    // not only at the userinfo endpoint.
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    conformIdTokenClaims: false,
    // PKCE for every client (the default asks it of public clients only); S256 is the only method.
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx, id) {
      if (!accounts.has(id)) {
        return undefined;
      }
      return {
        accountId: id,
        async claims() {
          // Read at each token and userinfo request: a change shows at once.
          const claims = accounts.get(id) ?? {};
          return { ...claims, sub: claims.sub ?? id };
        },
      };
    },
  });
  provider.on('grant.success', (ctx) => {
    note({
      event: 'grant.success',
      grantType: ctx.oidc.params?.grant_type,
      codeVerifier: Boolean(ctx.oidc.params?.code_verifier),
      clientAuthMethod: ctx.oidc.client?.clientAuthMethod,
    });
  });
  for (const event of ['grant.error', 'authorization.error', 'server_error', 'userinfo.error']) {
    provider.on(event, (_ctx, error) => {
      note({ event, error: error?.error ?? error?.name, description: error?.error_description });
    });
  }
  const handle = provider.callback();
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/__test/')) {
      control(req, res);
      return;
    }
    handle(req, res);
  });
  process.stdout.write(`listening ${port}\n`);
});
server.on('error', (error) => {
  process.stderr.write(`oidc test provider: ${error.message}\n`);
  process.exit(1);
});
const stop = () => {
  server.closeAllConnections?.();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

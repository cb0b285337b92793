// A downstream service that trusts the auth service's access tokens without
// calling it: it reads the RFC 8414 metadata once, then verifies each bearer
// token locally against the published JWK set (jose's remote JWKS fetches the
// set, caches it, and fetches it again when a token names a kid it has not
// seen, which is how a new signing key reaches it).
//
//   AUTH_URL=http://127.0.0.1:3000 JWT_ALGORITHM=ES256 node examples/downstream-service.mjs
//
// Local verification cannot see a revocation: a token stays valid here until
// it expires (JWT_ACCESS_TTL, 15 minutes by default), while the auth
// service's own routes refuse it at once. Keep the access TTL short.
import { createServer } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const authUrl = process.env.AUTH_URL ?? 'http://127.0.0.1:3000';
const audience = process.env.JWT_AUDIENCE ?? 'auth-service';
const algorithm = process.env.JWT_ALGORITHM ?? 'ES256';

const metadata = await (await fetch(`${authUrl}/.well-known/oauth-authorization-server`)).json();
const keys = createRemoteJWKSet(new URL(metadata.jwks_uri), {
  // How soon an unknown kid may trigger another fetch (jose's default is 30 s).
  cooldownDuration: Number(process.env.JWKS_COOLDOWN_MS ?? 30_000),
});

const server = createServer(async (request, response) => {
  const token = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  try {
    if (!token) {
      throw Object.assign(new Error('no bearer token'), { code: 'ERR_NO_TOKEN' });
    }
    const { payload, protectedHeader } = await jwtVerify(token, keys, {
      issuer: metadata.issuer,
      audience,
      algorithms: [algorithm],
      typ: 'at+jwt',
      requiredClaims: ['sub', 'exp'],
    });
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ sub: payload.sub, sid: payload.sid, kid: protectedHeader.kid }));
  } catch (error) {
    response.writeHead(401, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: error.code ?? 'invalid_token' }));
  }
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  // One JSON line, so that whoever started it learns the port.
  console.log(JSON.stringify({ listening: server.address().port }));
});

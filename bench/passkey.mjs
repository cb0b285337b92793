// The latency of a passkey sign-in beside a password sign-in's, on the
// running service (the yardstick has no passkeys): CONNECTIONS clients in a
// loop for `duration` seconds, each its own account and authenticator.
// A passkey sign-in is two requests: options (a challenge), then login with
// the assertion; the login request is timed alone, and the whole ceremony too.
// The authenticator is the tests' (test/support/webauthn.ts), transpiled here.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';

const CONNECTIONS = 10;

async function loadAuthenticator(root) {
  const source = readFileSync(join(root, 'test', 'support', 'webauthn.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const file = join(root, 'bench', 'results', 'webauthn.mjs');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, outputText);
  return import(pathToFileURL(file).href);
}

async function call(base, path, body, token) {
  const reply = await fetch(base + path, {
    method: 'POST',
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await reply.text();
  return { status: reply.status, body: text ? JSON.parse(text) : null };
}

function percentile(sorted, p) {
  return sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
    : NaN;
}

function stats(samples, seconds, errors) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (n) => Math.round(n * 10) / 10;
  return {
    count: sorted.length,
    perSecond: round(sorted.length / seconds),
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    errors,
  };
}

/** Runs `step` in CONNECTIONS loops for `seconds`; each step returns the ms to record, or throws. */
async function loops(seconds, step) {
  const until = performance.now() + seconds * 1000;
  const samples = [];
  let errors = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, i) => {
      while (performance.now() < until) {
        try {
          samples.push(...[await step(i)].flat());
        } catch {
          errors += 1;
        }
      }
    }),
  );
  return { samples, errors };
}

/**
 * `{ password, passkeyLogin, passkeyCeremony }`: p50/p99 in ms and the rate,
 * at CONNECTIONS clients, of a password sign-in, of a passkey sign-in's login
 * request, and of its whole ceremony (options + login).
 */
export async function measureSignInLatency({ root, base, port, tag, password, seconds }) {
  const { SoftAuthenticator } = await loadAuthenticator(root);
  const origin = `http://localhost:${port}`;
  const accounts = [];
  for (let i = 0; i < CONNECTIONS; i += 1) {
    const email = `bench.passkey.${tag}.${i}@example.com`;
    const passwordOnly = `bench.password.${tag}.${i}@example.com`;
    for (const address of [email, passwordOnly]) {
      const created = await call(base, '/api/v1/auth/register', { email: address, password });
      if (created.status !== 201) {
        throw new Error(`passkey bench: register answered ${created.status}`);
      }
    }
    const signedIn = await call(base, '/api/v1/auth/login', { email, password });
    const token = signedIn.body.accessToken;
    const authenticator = new SoftAuthenticator({ origin });
    const options = await call(base, '/api/v1/users/me/passkeys/options', undefined, token);
    const response = authenticator.create(options.body);
    const added = await call(base, '/api/v1/users/me/passkeys', { response }, token);
    if (added.status !== 201) {
      throw new Error(`passkey bench: adding a passkey answered ${added.status}`);
    }
    accounts.push({ authenticator, passwordOnly });
  }

  const passwordRun = await loops(seconds, async (i) => {
    const started = performance.now();
    const reply = await call(base, '/api/v1/auth/login', {
      email: accounts[i].passwordOnly,
      password,
    });
    if (reply.status !== 200) {
      throw new Error(String(reply.status));
    }
    return performance.now() - started;
  });
  const ceremonies = [];
  const passkeyRun = await loops(seconds, async (i) => {
    const started = performance.now();
    const options = await call(base, '/api/v1/auth/passkey/options');
    const response = accounts[i].authenticator.get(options.body);
    const loginStarted = performance.now();
    const reply = await call(base, '/api/v1/auth/passkey/login', { response });
    if (reply.status !== 200) {
      throw new Error(String(reply.status));
    }
    const done = performance.now();
    ceremonies.push(done - started);
    return done - loginStarted;
  });
  return {
    connections: CONNECTIONS,
    seconds,
    password: stats(passwordRun.samples, seconds, passwordRun.errors),
    passkeyLogin: stats(passkeyRun.samples, seconds, passkeyRun.errors),
    passkeyCeremony: stats(ceremonies, seconds, passkeyRun.errors),
  };
}

export function latencyTable(result) {
  const row = (label, s) => `| ${label} | ${s.perSecond} | ${s.p50} / ${s.p99} | ${s.errors} |`;
  return [
    `| sign-in (${result.connections} clients, ${result.seconds} s) | per s | p50 / p99 ms | errors |`,
    '|---|---:|---:|---:|',
    row('password: POST /auth/login', result.password),
    row('passkey: POST /auth/passkey/login', result.passkeyLogin),
    row('passkey: options + login', result.passkeyCeremony),
  ].join('\n');
}

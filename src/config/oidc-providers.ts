import { ConfigError, type Env, present } from './env';
import { isLoopbackHost } from './relying-party';

/** One OpenID Connect provider people may sign in with. */
export interface OidcProviderSettings {
  /** Its name in routes and audit (`oidc:<name>`): lower-case letters, digits and dashes. */
  name: string;
  /** The button's text: "Continue with <label>". */
  label: string;
  /** The issuer, discovered at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** Absent: a public client (PKCE alone). */
  clientSecret: string | null;
  scopes: string;
  /** Whether the issuer is plain http (allowed on a loopback host only: local providers and tests). */
  insecure: boolean;
}

export interface OidcSettings {
  providers: OidcProviderSettings[];
  /** Exact URLs the browser may be sent back to after a provider's callback. */
  redirectUrls: string[];
}

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

function required(env: Env, name: string): string {
  const value = present(env, name);
  if (value === undefined) {
    throw new ConfigError(`${name} is required (a provider named in OIDC_PROVIDERS needs it)`);
  }
  return value;
}

function issuer(env: Env, variable: string): { issuer: string; insecure: boolean } {
  const raw = required(env, variable);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${variable} must be a URL (https://…)`);
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const loopback = isLoopbackHost(host) || host === '::1';
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) {
    throw new ConfigError(
      `${variable} must be an https:// URL (http:// only on a loopback host: 127.0.0.1, [::1], localhost)`,
    );
  }
  if (parsed.search || parsed.hash) {
    throw new ConfigError(`${variable} must be the issuer URL, without a query or fragment`);
  }
  return { issuer: raw, insecure: parsed.protocol === 'http:' };
}

function redirectUrls(env: Env, publicUrl: string): string[] {
  const raw = present(env, 'OIDC_REDIRECT_URLS');
  if (raw === undefined) {
    return [`${publicUrl}/`];
  }
  return raw.split(',').map((entry) => {
    const value = entry.trim();
    let parsed: URL | undefined;
    try {
      parsed = new URL(value);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.hash) {
      throw new ConfigError(
        `OIDC_REDIRECT_URLS must be comma-separated http(s) URLs without a fragment (got "${value}")`,
      );
    }
    return value;
  });
}

/**
 * OIDC_PROVIDERS (comma-separated names) and, per name, OIDC_<NAME>_ISSUER,
 * _CLIENT_ID, _CLIENT_SECRET, _SCOPES and _LABEL; OIDC_REDIRECT_URLS. A bad
 * value stops the start with one line naming the variable.
 */
export function oidcSettings(env: Env, publicUrl: string): OidcSettings {
  const names = (present(env, 'OIDC_PROVIDERS') ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const providers = names.map((name): OidcProviderSettings => {
    if (!NAME.test(name)) {
      throw new ConfigError(
        `OIDC_PROVIDERS must name providers in lower-case letters, digits and dashes, up to 32 characters (got "${name}")`,
      );
    }
    const prefix = `OIDC_${name.toUpperCase().replace(/-/g, '_')}_`;
    const scopes = present(env, `${prefix}SCOPES`) ?? 'openid email profile';
    if (!scopes.split(/\s+/).includes('openid')) {
      throw new ConfigError(`${prefix}SCOPES must include openid (got "${scopes}")`);
    }
    return {
      name,
      label: present(env, `${prefix}LABEL`) ?? name.charAt(0).toUpperCase() + name.slice(1),
      ...issuer(env, `${prefix}ISSUER`),
      clientId: required(env, `${prefix}CLIENT_ID`),
      clientSecret: present(env, `${prefix}CLIENT_SECRET`) ?? null,
      scopes,
    };
  });
  if (new Set(names).size !== names.length) {
    throw new ConfigError('OIDC_PROVIDERS names a provider twice');
  }
  return { providers, redirectUrls: redirectUrls(env, publicUrl) };
}

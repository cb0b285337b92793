import { isIP } from 'node:net';
import { ConfigError, type Env, origins, present } from './env';

/** The WebAuthn relying party: passkeys are bound to its ID and accepted from its origins only. */
export interface RelyingParty {
  /** A domain (never an IP address): `localhost`, `example.com`, `auth.example.com`. */
  id: string;
  /** The service's name as people see it (passkey prompts, authenticator apps). */
  name: string;
  /** Exact origins the browser may run a ceremony from. */
  origins: string[];
}

const LOOPBACK_HOSTS = new Set(['localhost', '::1', '[::1]']);

/** Whether HOST names this machine only (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || (isIP(host) === 4 && host.startsWith('127.'));
}

/**
 * PUBLIC_URL's default: `http://localhost:PORT` when the service listens on
 * a loopback address (a passkey's RP ID cannot be an IP address), else
 * `http://HOST:PORT`.
 */
export function defaultPublicUrl(host: string, port: number): string {
  return `http://${isLoopbackHost(host) ? 'localhost' : host}:${port}`;
}

/**
 * WEBAUTHN_RP_ID (default: PUBLIC_URL's host name), WEBAUTHN_RP_NAME
 * (default `auth-service`) and WEBAUTHN_ORIGINS (comma-separated, default:
 * PUBLIC_URL's origin). An RP ID that is an IP address, or that is not the
 * host (or a parent domain of the host) of every origin, stops the start.
 */
export function relyingParty(env: Env, publicUrl: string): RelyingParty {
  const id = (present(env, 'WEBAUTHN_RP_ID') ?? new URL(publicUrl).hostname).toLowerCase();
  if (isIP(id.replace(/^\[|\]$/g, '')) !== 0) {
    throw new ConfigError(
      `WEBAUTHN_RP_ID must be a domain name, not an IP address (got "${id}"): set PUBLIC_URL to http://localhost:PORT or a domain, or set WEBAUTHN_RP_ID`,
    );
  }
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(id)) {
    throw new ConfigError(`WEBAUTHN_RP_ID must be a domain name (got "${id}")`);
  }
  const accepted = origins(env, 'WEBAUTHN_ORIGINS') ?? [new URL(publicUrl).origin];
  for (const origin of accepted) {
    const host = new URL(origin).hostname;
    if (host !== id && !host.endsWith(`.${id}`)) {
      throw new ConfigError(
        `WEBAUTHN_RP_ID "${id}" must be the host of every origin or a parent domain of it (${origin} is not)`,
      );
    }
  }
  return { id, name: present(env, 'WEBAUTHN_RP_NAME') ?? 'auth-service', origins: accepted };
}

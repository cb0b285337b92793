import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Configuration } from 'openid-client';
import { API_PREFIX } from '../../common/api';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import type { OidcProviderSettings } from '../../config/oidc-providers';

type OpenIdClient = typeof import('openid-client');
let library: OpenIdClient | undefined;

/** openid-client 6 is an ES module: loaded once, at first use (Node 20's require of ESM). */
function openIdClient(): OpenIdClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  library ??= require('openid-client') as OpenIdClient;
  return library;
}

/** Seconds to wait for a provider's discovery, token or userinfo endpoint. */
const PROVIDER_TIMEOUT_SECONDS = 5;
/** After a failed discovery, requests within this time fail at once instead of waiting again. */
const RETRY_AFTER_MS = 5_000;

/** What a provider says of the person, once its ID token checked out. */
export interface ProviderClaims {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/** The one-time values a flow sends to the provider and checks at its callback. */
export interface FlowChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/**
 * Whether a claim says yes: `email_verified` is a boolean by the spec, a
 * string at some providers; Microsoft Entra ID tells a verified email
 * domain by its optional `xms_edov` claim instead.
 */
function isTrue(claim: unknown): boolean {
  return claim === true || claim === 'true';
}

/** A provider that cannot be reached or answered with an error. */
export class ProviderError extends Error {}

interface Discovered {
  configuration?: Configuration;
  pending?: Promise<Configuration>;
  failedAt?: number;
}

/**
 * The configured OpenID providers, through openid-client: discovery (once
 * per provider, cached; a provider that is down is retried at a later
 * request, and never stops the start), the authorization URL with PKCE
 * (S256), state and nonce, and the code exchange with the full ID-token
 * check (signature from the provider's JWKS, iss, aud, exp, nonce).
 */
@Injectable()
export class OidcProvidersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(OidcProvidersService.name);
  private readonly discovered = new Map<string, Discovered>();

  constructor(@InjectAppConfig() private readonly config: AppConfig) {}

  /** Discovery starts at start-up, in the background: the first sign-in need not wait for it. */
  onApplicationBootstrap(): void {
    for (const provider of this.config.oidc.providers) {
      this.configuration(provider).catch(() => undefined);
    }
  }

  list(): OidcProviderSettings[] {
    return this.config.oidc.providers;
  }

  find(name: string): OidcProviderSettings | null {
    return this.config.oidc.providers.find((provider) => provider.name === name) ?? null;
  }

  /** The redirect URI to register at the provider. */
  callbackUrl(provider: OidcProviderSettings): string {
    return `${this.config.publicUrl}/${API_PREFIX}/auth/oidc/${provider.name}/callback`;
  }

  /** Where the browser goes to sign in at the provider. */
  async authorizationUrl(provider: OidcProviderSettings, checks: FlowChecks): Promise<URL> {
    const client = openIdClient();
    const configuration = await this.configuration(provider);
    return client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.callbackUrl(provider),
      scope: provider.scopes,
      state: checks.state,
      nonce: checks.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
    });
  }

  /** New random state, nonce and PKCE verifier for a flow. */
  newChecks(): FlowChecks {
    const client = openIdClient();
    return {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
    };
  }

  /**
   * Exchanges the callback's code (PKCE verifier, state and nonce checked,
   * the ID token verified in full) and returns who signed in. The email
   * comes from the ID token, or from the userinfo endpoint when the ID
   * token has none. ProviderError for anything the provider got wrong.
   */
  async redeem(
    provider: OidcProviderSettings,
    query: string,
    checks: FlowChecks,
  ): Promise<ProviderClaims> {
    const client = openIdClient();
    try {
      const configuration = await this.configuration(provider);
      const tokens = await client.authorizationCodeGrant(
        configuration,
        new URL(`${this.callbackUrl(provider)}?${query}`),
        {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        },
      );
      const claims = tokens.claims();
      if (!claims) {
        throw new ProviderError('no ID token');
      }
      let person: Record<string, unknown> = claims;
      if (typeof claims.email !== 'string') {
        const info = await client.fetchUserInfo(configuration, tokens.access_token, claims.sub);
        person = { ...info, name: claims.name ?? info.name };
      }
      const { email, name } = person;
      return {
        subject: claims.sub,
        email: typeof email === 'string' ? email.toLowerCase() : null,
        emailVerified: isTrue(person.email_verified) || isTrue(person.xms_edov),
        name: typeof name === 'string' ? name : null,
      };
    } catch (error) {
      this.logger.warn(
        `OIDC provider "${provider.name}": the sign-in failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      throw error instanceof ProviderError ? error : new ProviderError(String(error));
    }
  }

  /** The provider's configuration, discovered once; a failure is retried after RETRY_AFTER_MS. */
  private configuration(provider: OidcProviderSettings): Promise<Configuration> {
    const known = this.discovered.get(provider.name) ?? {};
    if (known.configuration) {
      return Promise.resolve(known.configuration);
    }
    if (known.pending) {
      return known.pending;
    }
    if (known.failedAt !== undefined && Date.now() - known.failedAt < RETRY_AFTER_MS) {
      return Promise.reject(new ProviderError(`${provider.name} was unreachable moments ago`));
    }
    const client = openIdClient();
    const pending = client
      .discovery(
        new URL(provider.issuer),
        provider.clientId,
        undefined,
        provider.clientSecret ? client.ClientSecretPost(provider.clientSecret) : client.None(),
        {
          execute: provider.insecure ? [client.allowInsecureRequests] : [],
          timeout: PROVIDER_TIMEOUT_SECONDS,
        },
      )
      .then(
        (configuration) => {
          this.discovered.set(provider.name, { configuration });
          return configuration;
        },
        (error: unknown) => {
          this.discovered.set(provider.name, { failedAt: Date.now() });
          this.logger.warn(
            `OIDC provider "${provider.name}" (${provider.issuer}) cannot be discovered: ${error instanceof Error ? error.message : String(error)}`,
          );
          throw new ProviderError(String(error));
        },
      );
    this.discovered.set(provider.name, { pending });
    return pending;
  }
}

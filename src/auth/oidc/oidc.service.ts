import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import { API_PREFIX } from '../../common/api';
import type { AuthPrincipal } from '../../common/auth-principal';
import type { ClientInfo } from '../../common/decorators/client-info.decorator';
import { ProblemException } from '../../common/problem';
import { type AppConfig, InjectAppConfig } from '../../config/configuration';
import type { OidcProviderSettings } from '../../config/oidc-providers';
import { OutboxService } from '../../mail/outbox.service';
import { MetricsService } from '../../metrics/metrics.service';
import type { UserEntity } from '../../users/user.entity';
import { UsersService } from '../../users/users.service';
import { SignInMethodsService } from '../account/sign-in-methods.service';
import { DevicesService } from '../devices/devices.service';
import { AccountMailService } from '../recovery/account-mail.service';
import { TokenPairDto } from '../sessions/dto/token-pair.dto';
import { SignInService } from '../sign-in/sign-in.service';
import { TokensService } from '../tokens/tokens.service';
import { IdentityDto, OidcProviderDto } from './dto/oidc.dto';
import { OidcRepository } from './oidc.repository';
import { type ProviderClaims, OidcProvidersService } from './oidc-providers.service';

/** How long a trip to the provider may take. */
const FLOW_SECONDS = 600;
/** How long the page has to exchange a callback's code. */
export const CODE_SECONDS = 60;
/** How long a link URL from the profile stays good. */
const LINK_SECONDS = 300;

/** The notices of linked providers (the payload names the provider only). */
export const IDENTITY_MAIL = { linked: 'identity_linked', unlinked: 'identity_unlinked' } as const;

/** What a callback tells the page, in the fragment of its redirect. */
export type CallbackOutcome =
  | { code: string }
  | { linked: string }
  | {
      error:
        | 'access_denied'
        | 'invalid_state'
        | 'account_exists'
        | 'email_not_verified'
        | 'provider_error'
        | 'identity_taken';
    };

/** Where the authorize route sends the browser, and the cookie that binds the flow to it. */
export interface AuthorizeRedirect {
  location: string;
  browserKey: string | null;
}

const unknownProvider = () =>
  new ProblemException('not_found', 'No sign-in provider of this name is configured.');

/**
 * Sign-in with other providers (OpenID Connect): the trip to the provider
 * and back, accounts made or found by (provider, sub) and never by email
 * alone, the one-time code the page exchanges for tokens (through the
 * sign-in gate: a second factor is still asked for), and the identities an
 * account links and unlinks from its profile.
 */
@Injectable()
export class OidcService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly flows: OidcRepository,
    private readonly providers: OidcProvidersService,
    private readonly users: UsersService,
    private readonly signIn: SignInService,
    private readonly signInMethods: SignInMethodsService,
    private readonly tokens: TokensService,
    private readonly outbox: OutboxService,
    private readonly mails: AccountMailService,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    private readonly devices: DevicesService,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.signInMethods.register('identity', (userId, manager) =>
      this.flows.countIdentities(userId, manager),
    );
    this.mails.registerNotice(
      IDENTITY_MAIL.linked,
      'A sign-in provider was linked to your account',
      (payload) =>
        `Your ${String(payload.provider)} account was linked to your account: it now signs you in.`,
    );
    this.mails.registerNotice(
      IDENTITY_MAIL.unlinked,
      'A sign-in provider was unlinked from your account',
      (payload) =>
        `Your ${String(payload.provider)} account was unlinked from your account: it no longer signs you in.`,
    );
  }

  list(): OidcProviderDto[] {
    return this.providers.list().map(({ name, label }) => ({ name, label }));
  }

  /**
   * Starts a trip to the provider: a new state, nonce and PKCE verifier,
   * kept server-side and bound to a new cookie of this browser. With a link
   * ticket (from the profile), the callback links the identity instead of
   * signing in. A provider that cannot be reached sends the browser back
   * with `#error=provider_error`.
   */
  async authorize(
    name: string,
    redirectTo: string | undefined,
    linkTicket: string | undefined,
  ): Promise<AuthorizeRedirect> {
    const provider = this.provider(name);
    const target = this.redirectTarget(redirectTo);
    let linkUserId: string | null = null;
    if (linkTicket !== undefined) {
      const ticket = await this.flows.takeTicket('link', this.tokens.hash(linkTicket));
      if (ticket?.provider !== provider.name) {
        return { location: landing(target, { error: 'invalid_state' }), browserKey: null };
      }
      linkUserId = ticket.userId;
    }
    const checks = this.providers.newChecks();
    let url: URL;
    try {
      url = await this.providers.authorizationUrl(provider, checks);
    } catch {
      return { location: landing(target, { error: 'provider_error' }), browserKey: null };
    }
    const browserKey = this.tokens.newRefreshToken();
    await this.flows.startFlow(
      {
        stateHash: this.tokens.hash(checks.state),
        browserHash: this.tokens.hash(browserKey),
        provider: provider.name,
        nonce: checks.nonce,
        codeVerifier: checks.codeVerifier,
        redirectTo: target,
        linkUserId,
      },
      FLOW_SECONDS,
    );
    return { location: url.href, browserKey };
  }

  /**
   * The provider's answer: the flow of this state is spent, and must belong
   * to this browser; the code is exchanged and the ID token checked; then the
   * account is found, made or linked. Always a redirect to the flow's page
   * (or, when it is not this browser's flow, the first allowed one) with the
   * outcome.
   */
  async callback(
    name: string,
    rawQuery: string,
    browserKey: string | undefined,
    client: ClientInfo,
  ): Promise<string> {
    const query = new URLSearchParams(rawQuery);
    const state = query.get('state');
    const flow = state ? await this.flows.takeFlow(this.tokens.hash(state)) : null;
    const provider = this.providers.find(name);
    if (
      !state ||
      !flow ||
      !provider ||
      flow.provider !== provider.name ||
      !browserKey ||
      this.tokens.hash(browserKey) !== flow.browserHash
    ) {
      // Not this browser's flow: the first allowed page, not the flow's own.
      return landing(this.config.oidc.redirectUrls[0], { error: 'invalid_state' });
    }
    if (query.has('error') || !query.has('code')) {
      return landing(flow.redirectTo, { error: 'access_denied' });
    }
    let claims: ProviderClaims;
    try {
      claims = await this.providers.redeem(provider, rawQuery, {
        state,
        nonce: flow.nonce,
        codeVerifier: flow.codeVerifier,
      });
    } catch {
      return landing(flow.redirectTo, { error: 'provider_error' });
    }
    const outcome = flow.linkUserId
      ? await this.link(flow.linkUserId, provider, claims, client)
      : await this.signInWith(provider, claims, client);
    return landing(flow.redirectTo, outcome);
  }

  /**
   * The page's one-time code for a token pair, through the sign-in gate:
   * an account with a second factor gets 403 `mfa_required` instead.
   */
  async exchange(code: string, client: ClientInfo): Promise<TokenPairDto> {
    const ticket = await this.flows.takeTicket('code', this.tokens.hash(code));
    const user = ticket ? await this.users.findById(ticket.userId) : null;
    if (!ticket || !user) {
      throw new ProblemException(
        'invalid_code',
        'This sign-in code is wrong, expired or already used: sign in with the provider again.',
      );
    }
    const method = `oidc:${ticket.provider}` as const;
    if (user.disabled) {
      this.metrics.signIn(method, 'account_disabled');
      throw new ProblemException('account_disabled', 'This account is disabled.');
    }
    this.metrics.signIn(method, 'succeeded');
    return this.signIn.complete(user, client, { method, amr: ['fed'], aal: 'aal1' });
  }

  /** A URL that links the provider to the caller's account when a browser follows it. */
  async startLink(
    principal: AuthPrincipal,
    name: string,
    redirectTo: string | undefined,
  ): Promise<{ authorizeUrl: string }> {
    const provider = this.provider(name);
    const target = this.redirectTarget(redirectTo);
    if (await this.flows.hasIdentity(principal.user.id, provider.name)) {
      throw new ProblemException(
        'identity_taken',
        `A ${provider.label} account is linked already: unlink it first.`,
      );
    }
    const ticket = this.tokens.newRefreshToken();
    await this.flows.issueTicket(
      {
        hash: this.tokens.hash(ticket),
        kind: 'link',
        userId: principal.user.id,
        provider: provider.name,
      },
      LINK_SECONDS,
    );
    const query = new URLSearchParams({ redirectTo: target, link: ticket });
    return {
      authorizeUrl: `${this.config.publicUrl}/${API_PREFIX}/auth/oidc/${provider.name}/authorize?${query}`,
    };
  }

  async identities(principal: AuthPrincipal): Promise<IdentityDto[]> {
    return (await this.flows.listIdentities(principal.user.id)).map((identity) => ({
      provider: identity.provider,
      email: identity.email,
      linkedAt: identity.linkedAt.toISOString(),
      lastUsedAt: identity.lastUsedAt ? identity.lastUsedAt.toISOString() : null,
    }));
  }

  /** Unlinks the caller's identity at this provider, unless it is the account's last way in. */
  async unlink(principal: AuthPrincipal, name: string, client: ClientInfo): Promise<void> {
    const userId = principal.user.id;
    await this.dataSource.transaction(async (manager) => {
      const identity = await this.flows.lockIdentity(userId, name, manager);
      if (!identity) {
        throw new ProblemException('not_found', 'No account of this provider is linked.');
      }
      await this.signInMethods.assertOneRemains(userId, { kind: 'identity', count: 1 }, manager);
      await this.flows.remove(identity.id, manager);
      const label = this.providers.find(name)?.label ?? name;
      await this.mails.queueNotice(manager, IDENTITY_MAIL.unlinked, userId, client, {
        provider: label,
      });
      await this.audit.record(
        { type: 'identity.unlinked', userId, client, detail: { provider: name } },
        manager,
      );
    });
    this.outbox.deliverSoon();
  }

  /**
   * A sign-in: the account of this identity; or, for a new identity with a
   * verified email no account has, a new account. An email some account has
   * is never linked here (whoever controls the provider's claim would get
   * that account): the owner links it from the profile.
   */
  private async signInWith(
    provider: OidcProviderSettings,
    claims: ProviderClaims,
    client: ClientInfo,
  ): Promise<CallbackOutcome> {
    const identity = await this.flows.findIdentity(provider.name, claims.subject);
    let userId = identity?.userId;
    if (identity) {
      await this.flows.touch(identity.id, claims.email ?? identity.email);
    } else {
      if (!claims.email || !claims.emailVerified) {
        return { error: 'email_not_verified' };
      }
      const created = await this.createAccount(provider, claims, client);
      if (!created) {
        return { error: 'account_exists' };
      }
      userId = created;
    }
    const code = this.tokens.newRefreshToken();
    await this.flows.issueTicket(
      {
        hash: this.tokens.hash(code),
        kind: 'code',
        userId: userId as string,
        provider: provider.name,
      },
      CODE_SECONDS,
    );
    return { code };
  }

  /** A new account for a provider's verified email (no password); null when the email is taken. */
  private async createAccount(
    provider: OidcProviderSettings,
    claims: ProviderClaims,
    client: ClientInfo,
  ): Promise<string | null> {
    if (await this.users.findByEmail(claims.email as string)) {
      return null;
    }
    try {
      return await this.dataSource.transaction(async (manager) => {
        const user = await this.users.create(
          {
            email: claims.email,
            username: null,
            fullName: claims.name?.slice(0, 255) ?? null,
            emailVerified: true,
          },
          manager,
          // The device that signed up: its sign-in that follows sends no new-device alert.
          (params) => [
            this.audit.recordForNewUser(
              { type: 'user.registered', client, detail: { method: `oidc:${provider.name}` } },
              params,
            ),
            ...this.devices.rememberForNewUser(client, params),
          ],
        );
        if (!(await this.linkIdentity(user.id, provider, claims, manager, true))) {
          throw new ProblemException('identity_taken', 'This identity is linked already.');
        }
        await this.audit.record(
          { type: 'identity.linked', userId: user.id, client, detail: { provider: provider.name } },
          manager,
        );
        return user.id;
      });
    } catch (error) {
      // A concurrent sign-up took the email (or this identity) first.
      if (error instanceof ProblemException) {
        return null;
      }
      throw error;
    }
  }

  /** Links the identity to the account that asked from its profile; a notice is mailed. */
  private async link(
    userId: string,
    provider: OidcProviderSettings,
    claims: ProviderClaims,
    client: ClientInfo,
  ): Promise<CallbackOutcome> {
    const existing = await this.flows.findIdentity(provider.name, claims.subject);
    if (existing) {
      return existing.userId === userId ? { linked: provider.name } : { error: 'identity_taken' };
    }
    const linked = await this.dataSource.transaction(async (manager) => {
      const user: UserEntity | null = await this.users.findById(userId, manager);
      if (!user || !(await this.linkIdentity(userId, provider, claims, manager, false))) {
        return false;
      }
      await this.mails.queueNotice(manager, IDENTITY_MAIL.linked, user, client, {
        provider: provider.label,
      });
      await this.audit.record(
        { type: 'identity.linked', userId, client, detail: { provider: provider.name } },
        manager,
      );
      return true;
    });
    if (!linked) {
      return { error: 'identity_taken' };
    }
    this.outbox.deliverSoon();
    return { linked: provider.name };
  }

  private linkIdentity(
    userId: string,
    provider: OidcProviderSettings,
    claims: ProviderClaims,
    manager: EntityManager,
    used: boolean,
  ): Promise<boolean> {
    return this.flows.link(
      { userId, provider: provider.name, subject: claims.subject, email: claims.email },
      manager,
      used,
    );
  }

  private provider(name: string): OidcProviderSettings {
    const provider = this.providers.find(name);
    if (!provider) {
      throw unknownProvider();
    }
    return provider;
  }

  /** The page to return to: exactly one of OIDC_REDIRECT_URLS (the first when none is asked). */
  private redirectTarget(redirectTo: string | undefined): string {
    const allowed = this.config.oidc.redirectUrls;
    if (redirectTo === undefined) {
      return allowed[0];
    }
    if (!allowed.includes(redirectTo)) {
      throw new ProblemException(
        'invalid_redirect',
        'redirectTo must be one of the URLs of OIDC_REDIRECT_URLS, exactly.',
      );
    }
    return redirectTo;
  }
}

/** The page's URL with the callback's outcome in its fragment. */
function landing(page: string, outcome: CallbackOutcome): string {
  return `${page}#${new URLSearchParams(outcome)}`;
}

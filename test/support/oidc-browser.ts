import type { HttpClient } from './test-app';

/** One cookie as a browser keeps it. */
export interface StoredCookie {
  name: string;
  value: string;
  /** The host it belongs to (host-only cookies: no Domain attribute is used by either server). */
  host: string;
  path: string;
  expires: number | null;
  httpOnly: boolean;
  secure: boolean;
  sameSite: string | null;
  /** The Set-Cookie header it came from. */
  raw: string;
}

/** One request of the browser and its answer. */
export interface Hop {
  method: 'GET' | 'POST';
  url: string;
  status: number;
  /** The Location header made absolute, if any. */
  location: string | null;
  setCookie: string[];
  body: string;
}

/** Where a walk through the provider ended. */
export interface FlowResult {
  /** The last Location: the service's redirectTo with its fragment (or wherever it stopped). */
  location: string;
  /** The location without its fragment. */
  target: string;
  /** The fragment's parameters (`code`, `linked`, `error`). */
  fragment: Record<string, string>;
  /** The provider's redirect to the service's callback (with code, state, iss or error). */
  callbackUrl: string | null;
  hops: Hop[];
}

function defaultPath(pathname: string): string {
  const slash = pathname.lastIndexOf('/');
  return slash <= 0 ? '/' : pathname.slice(0, slash);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) {
    return true;
  }
  if (!requestPath.startsWith(cookiePath)) {
    return false;
  }
  return cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/';
}

/** Parses one Set-Cookie header as RFC 6265 says (the attributes the two servers use). */
export function parseSetCookie(raw: string, requestUrl: URL): StoredCookie {
  const [pair, ...attributes] = raw.split(';');
  const equals = pair.indexOf('=');
  const cookie: StoredCookie = {
    name: pair.slice(0, equals).trim(),
    value: pair.slice(equals + 1).trim(),
    host: requestUrl.host,
    path: defaultPath(requestUrl.pathname),
    expires: null,
    httpOnly: false,
    secure: false,
    sameSite: null,
    raw,
  };
  let maxAge: number | null = null;
  for (const attribute of attributes) {
    const at = attribute.indexOf('=');
    const key = (at === -1 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
    const value = at === -1 ? '' : attribute.slice(at + 1).trim();
    if (key === 'path' && value.startsWith('/')) {
      cookie.path = value;
    } else if (key === 'max-age') {
      maxAge = Number(value);
    } else if (key === 'expires') {
      const time = Date.parse(value);
      cookie.expires = Number.isNaN(time) ? null : time;
    } else if (key === 'httponly') {
      cookie.httpOnly = true;
    } else if (key === 'secure') {
      cookie.secure = true;
    } else if (key === 'samesite') {
      cookie.sameSite = value;
    }
  }
  if (maxAge !== null && !Number.isNaN(maxAge)) {
    cookie.expires = Date.now() + maxAge * 1000;
  }
  return cookie;
}

/**
 * A browser, as far as redirects and cookies go: each instance has its own
 * cookie jar (one browser, or one person's browser profile). Requests to the
 * service's origin (PUBLIC_URL) go through the in-process app (Fastify's
 * inject), the others (the provider) over the network with fetch; redirects
 * are followed by hand, so every hop can be looked at.
 */
export class Browser {
  private cookies: StoredCookie[] = [];
  readonly serviceOrigin: string;

  constructor(
    private readonly service: HttpClient,
    publicUrl: string,
  ) {
    this.serviceOrigin = new URL(publicUrl).origin;
  }

  /** The cookies it would send to `url`. */
  cookiesFor(url: string): StoredCookie[] {
    const target = new URL(url);
    const now = Date.now();
    this.cookies = this.cookies.filter((c) => c.expires === null || c.expires > now);
    return this.cookies.filter(
      (c) =>
        c.host === target.host &&
        pathMatches(target.pathname, c.path) &&
        (!c.secure || target.protocol === 'https:'),
    );
  }

  /** A stored cookie of the service by name (any path), or undefined. */
  serviceCookie(name: string): StoredCookie | undefined {
    const host = new URL(this.serviceOrigin).host;
    const now = Date.now();
    return this.cookies.find(
      (c) => c.host === host && c.name === name && (c.expires === null || c.expires > now),
    );
  }

  /** Puts a cookie in the jar (e.g. one copied from another browser, or kept from before). */
  setCookie(cookie: StoredCookie): void {
    this.cookies = this.cookies.filter(
      (c) => !(c.host === cookie.host && c.name === cookie.name && c.path === cookie.path),
    );
    if (cookie.expires === null || cookie.expires > Date.now()) {
      this.cookies.push({ ...cookie });
    }
  }

  /** Forgets every cookie. */
  clear(): void {
    this.cookies = [];
  }

  private store(setCookie: string[], url: URL): void {
    for (const raw of setCookie) {
      this.setCookie(parseSetCookie(raw, url));
    }
  }

  private cookieHeader(url: string): string | undefined {
    const cookies = this.cookiesFor(url)
      // Longer paths first, as browsers send them.
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`);
    return cookies.length > 0 ? cookies.join('; ') : undefined;
  }

  /** One request, no redirect followed. */
  async request(method: 'GET' | 'POST', url: string, form?: Record<string, string>): Promise<Hop> {
    const target = new URL(url);
    const cookie = this.cookieHeader(url);
    let status: number;
    let location: string | null;
    let setCookie: string[];
    let body: string;
    if (target.origin === this.serviceOrigin) {
      const headers: Record<string, string> = cookie ? { cookie } : {};
      let raw: string | undefined;
      if (form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        raw = new URLSearchParams(form).toString();
      }
      const reply = await this.service.request(method, `${target.pathname}${target.search}`, {
        headers,
        raw,
      });
      status = reply.status;
      const header = reply.headers.location;
      location = typeof header === 'string' ? header : null;
      const set = reply.headers['set-cookie'];
      setCookie = set === undefined ? [] : Array.isArray(set) ? set : [String(set)];
      body = reply.text;
    } else {
      const response = await fetch(url, {
        method,
        redirect: 'manual',
        headers: {
          ...(cookie ? { cookie } : {}),
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: form ? new URLSearchParams(form).toString() : undefined,
      });
      status = response.status;
      location = response.headers.get('location');
      setCookie = response.headers.getSetCookie();
      body = await response.text();
    }
    this.store(setCookie, target);
    return {
      method,
      url,
      status,
      location: location === null ? null : new URL(location, url).toString(),
      setCookie,
      body,
    };
  }

  get(url: string): Promise<Hop> {
    return this.request('GET', url);
  }

  post(url: string, form: Record<string, string>): Promise<Hop> {
    return this.request('POST', url, form);
  }
}

/** The parameters of a URL's fragment. */
export function fragmentOf(location: string): Record<string, string> {
  const hash = new URL(location).hash.replace(/^#/, '');
  return Object.fromEntries(new URLSearchParams(hash));
}

/** What a person does on the provider's pages. */
export interface ProviderWalk {
  /** The provider's login (the account id, a key of the provider's accounts). */
  account: string;
  /** Where the person stops: "cancel" at the login page or at the consent page (devInteractions' abort link). */
  cancelAt?: 'login' | 'consent';
  /** Stop before the provider's redirect reaches the service: `callbackUrl` is set, the service is not called back. */
  holdCallback?: boolean;
}

const CALLBACK = /^\/api\/v1\/auth\/oidc\/[^/]+\/callback$/;

/**
 * Follows redirects from `startUrl` (the service's authorize URL, or a link
 * flow's authorizeUrl) through the provider's login and consent pages
 * (oidc-provider's devInteractions: POST /interaction/:uid with prompt=login,
 * login, password; then prompt=consent), back to the service's callback,
 * until a Location with a fragment (the service's answer) or a page that is
 * not a redirect.
 */
export async function walkFlow(
  browser: Browser,
  startUrl: string,
  walk: ProviderWalk,
): Promise<FlowResult> {
  const hops: Hop[] = [];
  let callbackUrl: string | null = null;
  let hop = await browser.get(new URL(startUrl, browser.serviceOrigin).toString());
  hops.push(hop);
  for (let steps = 0; steps < 30; steps += 1) {
    const here = new URL(hop.url);
    if (hop.status >= 300 && hop.status < 400 && hop.location) {
      const next = new URL(hop.location);
      if (next.hash || (here.origin === browser.serviceOrigin && CALLBACK.test(here.pathname))) {
        // The service's final answer: redirectTo with a fragment.
        return {
          location: hop.location,
          target: `${next.origin}${next.pathname}${next.search}`,
          fragment: fragmentOf(hop.location),
          callbackUrl,
          hops,
        };
      }
      if (next.origin === browser.serviceOrigin && CALLBACK.test(next.pathname)) {
        callbackUrl = hop.location;
        if (walk.holdCallback) {
          return { location: hop.location, target: hop.location, fragment: {}, callbackUrl, hops };
        }
      }
      hop = await browser.get(hop.location);
      hops.push(hop);
      continue;
    }
    const interaction = /^\/interaction\/([^/]+)$/.exec(here.pathname);
    if (hop.status === 200 && interaction) {
      const prompt = /name="prompt" value="([a-z]+)"/.exec(hop.body)?.[1];
      const action = /<form[^>]*action="([^"]+)"/.exec(hop.body)?.[1] ?? here.pathname;
      const submit = new URL(action.replace(/&amp;/g, '&'), hop.url).toString();
      if (prompt !== 'login' && prompt !== 'consent') {
        throw new Error(`unexpected provider page at ${hop.url}:\n${hop.body.slice(0, 2000)}`);
      }
      if (walk.cancelAt === prompt) {
        // The page's "[ Cancel ]" link (devInteractions: /interaction/:uid/abort).
        const cancel = /<a href="([^"]+)">\[ Cancel \]<\/a>/.exec(hop.body)?.[1];
        if (!cancel) {
          throw new Error(`no Cancel link on the provider's page at ${hop.url}`);
        }
        hop = await browser.get(new URL(cancel.replace(/&amp;/g, '&'), hop.url).toString());
      } else if (prompt === 'login') {
        hop = await browser.post(submit, {
          prompt: 'login',
          login: walk.account,
          password: 'any password',
        });
      } else {
        hop = await browser.post(submit, { prompt: 'consent' });
      }
      hops.push(hop);
      continue;
    }
    throw new Error(
      `the flow stopped at ${hop.method} ${hop.url}: ${hop.status}\n${hop.body.slice(0, 2000)}`,
    );
  }
  throw new Error(`the flow did not end within 30 hops: ${hops.map((h) => h.url).join('\n')}`);
}

/** The service's authorize URL for a provider, with a redirectTo or none. */
export function authorizePath(provider: string, redirectTo?: string): string {
  const query = redirectTo === undefined ? '' : `?redirectTo=${encodeURIComponent(redirectTo)}`;
  return `/api/v1/auth/oidc/${provider}/authorize${query}`;
}

/**
 * A person pressing "Continue with <provider>" in `browser`, signing in at the
 * provider as `account` and consenting: where the service sends them back
 * (redirectTo with `#code=…`, or `#error=…`).
 */
export function signInThroughProvider(
  browser: Browser,
  options: { provider: string; redirectTo?: string } & ProviderWalk,
): Promise<FlowResult> {
  return walkFlow(browser, authorizePath(options.provider, options.redirectTo), options);
}

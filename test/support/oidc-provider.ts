import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freePort } from './service-process';

export { freePort } from './service-process';

/** What the provider says about one of its accounts (the claims the service reads). */
export interface ProviderClaims {
  /** Defaults to the login (the account's id at the provider). */
  sub?: string;
  email?: string;
  /** A boolean, or the string "true"/"false" as some providers send it. */
  email_verified?: boolean | string;
  name?: string;
}

export interface RegisteredClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

export interface ProviderOptions {
  /** The port to listen on (0 or absent: a free one). */
  port?: number;
  /** The confidential clients it knows (client_secret_post, code flow, PKCE S256). */
  clients: RegisteredClient[];
  /** login -> claims at start. */
  accounts?: Record<string, ProviderClaims>;
}

/** The redirect URI the service registers at a provider for `name`, as the contract spells it. */
export function callbackUrl(publicUrl: string, name: string): string {
  return `${publicUrl}/api/v1/auth/oidc/${name}/callback`;
}

/** A confidential client of the service for the providers `names` (one redirect URI each). */
export function serviceClient(
  publicUrl: string,
  names: string[],
  clientId = 'auth-service',
): RegisteredClient {
  return {
    client_id: clientId,
    client_secret: randomBytes(24).toString('base64url'),
    redirect_uris: names.map((name) => callbackUrl(publicUrl, name)),
  };
}

const SERVER = join(__dirname, 'oidc-provider-server.mjs');

/**
 * A real OpenID provider (npm `oidc-provider` 9) on 127.0.0.1, in a Node
 * process of its own (test/support/oidc-provider-server.mjs): the package and
 * its Koa stack are ESM only, which Jest's CommonJS runtime would have to
 * transform, and a process of its own is what a provider is to the service
 * anyway (the service reaches it over HTTP: discovery, JWKS, token endpoint).
 *
 * Its login and consent pages are oidc-provider's devInteractions: any login
 * is accepted (the login names an account of `accounts`). The claims of an
 * account can be changed between steps with `setAccount`: the provider reads
 * them at each token request. `stop()` makes it unreachable (the port is
 * closed); `start()` brings it back on the same port with the same keys,
 * clients and accounts.
 */
export class OidcTestProvider {
  private child: ChildProcess | undefined;
  private output = '';
  private readonly accounts = new Map<string, ProviderClaims>();
  private readonly jwks: { keys: object[] };
  private readonly cookieKeys = [randomBytes(24).toString('base64url')];
  private readonly clients: RegisteredClient[];

  private constructor(
    public port: number,
    options: ProviderOptions,
  ) {
    this.clients = options.clients;
    for (const [login, claims] of Object.entries(options.accounts ?? {})) {
      this.accounts.set(login, claims);
    }
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.jwks = {
      keys: [
        { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', alg: 'RS256', use: 'sig' },
      ],
    };
  }

  /** Starts a provider and waits until it answers. */
  static async start(options: ProviderOptions): Promise<OidcTestProvider> {
    const provider = new OidcTestProvider(options.port ?? 0, options);
    await provider.start();
    return provider;
  }

  /**
   * A provider that is not running yet, with its port chosen (free a moment
   * ago): its issuer can be configured in the service before it starts.
   */
  static async reserve(options: ProviderOptions): Promise<OidcTestProvider> {
    return new OidcTestProvider(options.port ?? (await freePort()), options);
  }

  /** `http://127.0.0.1:<port>`: OIDC_<NAME>_ISSUER. */
  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  /** What the provider process printed (stdout and stderr), for failure messages. */
  get log(): string {
    return this.output;
  }

  /** The first registered client: OIDC_<NAME>_CLIENT_ID and _CLIENT_SECRET. */
  get client(): RegisteredClient {
    return this.clients[0];
  }

  /** The service's environment for a provider `name` backed by this one. */
  envFor(name: string, label?: string, client: RegisteredClient = this.client) {
    const prefix = `OIDC_${name.toUpperCase().replace(/-/g, '_')}_`;
    return {
      [`${prefix}ISSUER`]: this.issuer,
      [`${prefix}CLIENT_ID`]: client.client_id,
      [`${prefix}CLIENT_SECRET`]: client.client_secret,
      ...(label === undefined ? {} : { [`${prefix}LABEL`]: label }),
    };
  }

  async start(): Promise<void> {
    if (this.running) {
      return;
    }
    const config = {
      port: this.port,
      clients: this.clients.map((client) => ({
        ...client,
        token_endpoint_auth_method: 'client_secret_post',
        response_types: ['code'],
        grant_types: ['authorization_code'],
      })),
      accounts: Object.fromEntries(this.accounts),
      jwks: this.jwks,
      cookieKeys: this.cookieKeys,
    };
    const child = spawn(process.execPath, [SERVER], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        OIDC_TEST_PROVIDER: JSON.stringify(config),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => {
        reject(new Error(`the OpenID provider did not start within 20 s:\n${this.output}`));
      }, 20000);
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        this.output += chunk.toString();
        const match = /^listening (\d+)$/m.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the OpenID provider exited (${code}) while starting:\n${this.output}`));
      });
    });
    this.port = port;
    // Discovery answers: the provider is ready.
    const discovery = await fetch(`${this.issuer}/.well-known/openid-configuration`);
    if (!discovery.ok) {
      throw new Error(`discovery answered ${discovery.status}:\n${this.output}`);
    }
  }

  /** Stops the process: its port is closed (connections refused) until `start()`. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) {
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  /** Sets (replaces) what the provider says about the account `login`; takes effect at the next token request. */
  async setAccount(login: string, claims: ProviderClaims): Promise<void> {
    this.accounts.set(login, claims);
    if (this.running) {
      const reply = await fetch(`${this.issuer}/__test/accounts/${encodeURIComponent(login)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(claims),
      });
      if (reply.status !== 204) {
        throw new Error(`the provider refused the account change: ${reply.status}`);
      }
    }
  }

  /** The account's claims as the test last set them. */
  account(login: string): ProviderClaims | undefined {
    return this.accounts.get(login);
  }

  /** The provider's recent token grants and errors (for assertions and failure messages). */
  async events(): Promise<Array<Record<string, any>>> {
    const reply = await fetch(`${this.issuer}/__test/log`);
    return (await reply.json()) as Array<Record<string, any>>;
  }
}

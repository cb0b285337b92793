import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { HttpClient, Reply } from './test-app';

/** The same client as Http, over a real socket to a service in another process. */
export class RemoteHttp implements HttpClient {
  constructor(readonly base: string) {}

  async request(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token) {
      headers.authorization = `Bearer ${options.token}`;
    }
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.base}${url}`, { method, headers, body });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers.entries()),
      text,
      body: type.includes('json') && text ? JSON.parse(text) : text,
    };
  }

  get(url: string, token?: string) {
    return this.request('GET', url, { token });
  }

  post(url: string, body?: unknown, token?: string) {
    return this.request('POST', url, { body, token });
  }
}

export interface Downstream {
  /** What the downstream service says of a bearer token: 200 with the claims, or 401. */
  verify: (token: string) => Promise<{ status: number; body: any }>;
  stop: () => void;
}

/**
 * examples/downstream-service.mjs in a process of its own: a service that
 * verifies our access tokens with `jose` and the JWKS URL from the metadata.
 */
export async function startDownstream(
  authUrl: string,
  algorithm: string,
  env: Record<string, string> = {},
): Promise<Downstream> {
  const child = spawn(process.execPath, ['examples/downstream-service.mjs'], {
    env: { PATH: process.env.PATH, AUTH_URL: authUrl, JWT_ALGORITHM: algorithm, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the downstream service exited (${code})`)));
    lines.once('line', (line) => resolve((JSON.parse(line) as { listening: number }).listening));
  });
  return {
    async verify(token) {
      const response = await fetch(`http://127.0.0.1:${port}/`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: response.status, body: await response.json() };
    },
    stop: () => child.kill('SIGKILL'),
  };
}

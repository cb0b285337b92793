import { randomBytes } from 'node:crypto';
import type { HttpClient } from './test-app';

export const PASSWORD = 'violet tractor harbour 42';

let counter = 0;
/** A unique, valid registration body. */
export function newUser(overrides: Record<string, unknown> = {}) {
  counter += 1;
  const tag = `${Date.now().toString(36)}${counter}${randomBytes(2).toString('hex')}`;
  return {
    email: `user.${tag}@example.com`,
    password: PASSWORD,
    username: `user_${tag}`,
    fullName: 'Test Person',
    ...overrides,
  };
}

export interface SignedIn {
  user: { id: string; email: string; username: string };
  accessToken: string;
  refreshToken: string;
  email: string;
  username: string;
  password: string;
}

/** Registers an account and signs it in. */
export async function signedInUser(
  http: HttpClient,
  overrides: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<SignedIn> {
  const body = newUser(overrides);
  const registered = await http.post('/api/v1/auth/register', body);
  expect(registered.status).toBe(201);
  const login = await http.request('POST', '/api/v1/auth/login', {
    body: { email: body.email, password: body.password },
    headers,
  });
  expect(login.status).toBe(200);
  return {
    ...login.body,
    email: body.email,
    username: body.username,
    password: body.password,
  };
}

/** The problem-document shape every error response must have. */
export function expectProblem(
  reply: { status: number; headers: Record<string, unknown>; body: any },
  status: number,
  code?: string,
): void {
  expect({ status: reply.status, code: reply.body?.code }).toEqual({
    status,
    code: code ?? expect.any(String),
  });
  expect(String(reply.headers['content-type'])).toContain('application/problem+json');
  expect(reply.body).toEqual(
    expect.objectContaining({
      type: expect.any(String),
      title: expect.any(String),
      status,
      detail: expect.any(String),
      code: expect.any(String),
    }),
  );
}

/** Both tokens of a session are refused: the session has ended. */
export async function expectSessionEnded(
  http: HttpClient,
  session: { accessToken: string; refreshToken: string },
): Promise<void> {
  expectProblem(await http.get('/api/v1/users/me', session.accessToken), 401);
  expectProblem(
    await http.post('/api/v1/auth/refresh', { refreshToken: session.refreshToken }),
    401,
  );
}

/** Password sign-in with these credentials is refused with this status and code. */
export async function expectSignInRefused(
  http: HttpClient,
  credentials: { email: string; password: string },
  status: number,
  code: string,
): Promise<void> {
  expectProblem(
    await http.post('/api/v1/auth/login', {
      email: credentials.email,
      password: credentials.password,
    }),
    status,
    code,
  );
}

import type { SignedIn } from './factories';
import type { TestApp } from './test-app';

/** The administrator an app bootstraps from ADMIN_EMAIL and ADMIN_PASSWORD (ADMIN_ENV). */
export const ADMIN = { email: 'root.admin@example.com', password: 'granite orchard whistle 81' };
export const ADMIN_ENV = {
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  RATE_LIMIT: 'off',
};

/** Signs an existing account in with its password. */
export async function signIn(
  t: Pick<TestApp, 'http'>,
  email: string,
  password: string,
): Promise<SignedIn> {
  const reply = await t.http.post('/api/v1/auth/login', { email, password });
  expect(reply.status).toBe(200);
  return { ...reply.body, email, username: reply.body.user.username, password };
}

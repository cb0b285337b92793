import { runCli } from '../src/app.cli';
import { ADMIN } from './support/admin';
import { newUser } from './support/factories';
import { createStore, startApp, TestStore } from './support/test-app';

describe('Admin command line (e2e)', () => {
  // Each command opens the store on its own (the embedded store: about eight
  // opens), which under load on two cores comes near the default 60 s.
  jest.setTimeout(120_000);

  it('should create, promote and demote admins from the command line', async () => {
    const store: TestStore = await createStore();
    const lines: string[] = [];
    const io = {
      out: (line: string) => lines.push(line),
      err: (line: string) => lines.push(`ERR ${line}`),
    };
    // The app migrates the store, then the CLI works on it alone (as with a stopped service).
    let t = await startApp(store, { RATE_LIMIT: 'off' });
    const member = newUser();
    await t.http.post('/api/v1/auth/register', member);
    await t.close();
    try {
      expect(
        await runCli(
          ['create-admin', '--email', 'cli.admin@example.com', '--password', ADMIN.password],
          io,
        ),
      ).toBe(0);
      expect(await runCli(['promote', '--email', member.email], io)).toBe(0);
      expect(await runCli(['demote', '--email', member.email], io)).toBe(0);
      expect(await runCli(['demote', '--email', 'cli.admin@example.com'], io)).toBe(1);
      expect(await runCli(['promote', '--email', 'nobody@example.com'], io)).toBe(1);
      expect(
        await runCli(
          ['create-admin', '--email', 'weak@example.com', '--password', 'password123'],
          io,
        ),
      ).toBe(1);
      expect(await runCli(['frobnicate', '--email', 'x@example.com'], io)).toBe(2);
      expect(await runCli(['create-admin', '--email', 'x@example.com'], io)).toBe(2);
      expect(lines[0]).toMatch(/^cli\.admin@example\.com \(.+\): roles user, admin$/);
      expect(lines[1]).toContain('roles user, admin');
      expect(lines[2]).toContain('roles user');
      expect(lines[3]).toMatch(/^ERR last_admin/);
      expect(lines[4]).toMatch(/^ERR not_found/);
      expect(lines[5]).toMatch(/^ERR weak_password/);

      t = await startApp(store, { RATE_LIMIT: 'off' });
      const login = await t.http.post('/api/v1/auth/login', {
        email: 'cli.admin@example.com',
        password: ADMIN.password,
      });
      expect(login.body.user.roles).toEqual(['user', 'admin']);
      expect((await t.http.get('/api/v1/users', login.body.accessToken)).status).toBe(200);
      await t.close();
    } finally {
      await store.drop();
    }
  });
});

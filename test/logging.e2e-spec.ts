import { newUser } from './support/factories';
import { useRealService } from './support/service-process';

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  context?: string;
  req?: { method: string; url: string };
  res?: { statusCode: number };
}

describe('Structured logs (e2e, the real entry point)', () => {
  const real = useRealService();

  it('should write JSON lines with the request id of X-Request-Id, and never a password, token or Authorization header', async () => {
    const service = await real.start({
      LOG_LEVEL: 'info',
      JWT_SECRET: 'logging-test-secret-logging-test-secret-012345',
      // MAIL_URL unset: mails go to the log, the one place a code or link may appear.
    });
    const { base, child } = service;

    const ids = new Map<string, string>();
    const call = async (method: string, path: string, body?: unknown, token?: string) => {
      const reply = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          // Not believed without TRUST_PROXY: a client cannot choose the id of its log lines.
          'x-request-id': 'forged-id',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const id = reply.headers.get('x-request-id') ?? '';
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      ids.set(`${method} ${path}`, id);
      const text = await reply.text();
      const json = (reply.headers.get('content-type') ?? '').includes('json');
      return {
        status: reply.status,
        body: json && text ? (JSON.parse(text) as Record<string, any>) : {},
      };
    };
    const logLines = () =>
      service
        .stdout()
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as LogLine);
    const mailLine = async (match: RegExp): Promise<LogLine> => {
      for (let i = 0; i < 100; i += 1) {
        const found = logLines().find((l) => l.context === 'Mail' && match.test(l.msg));
        if (found) {
          return found;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`no mail line matching ${match}`);
    };

    const user = newUser();
    expect((await call('POST', '/api/v1/auth/register', user)).status).toBe(201);
    const codeMail = await mailLine(new RegExp(user.email));
    const code = /^\s+(\d{6})\s*$/m.exec(codeMail.msg)?.[1] ?? '';
    // A line written while serving a request carries that request's id.
    expect(codeMail.reqId).toBe(ids.get('POST /api/v1/auth/register'));
    expect(
      (await call('POST', '/api/v1/auth/verify-email', { email: user.email, code })).status,
    ).toBe(200);
    const signIn = await call('POST', '/api/v1/auth/login', {
      email: user.email,
      password: user.password,
    });
    expect(signIn.status).toBe(200);
    const { accessToken, refreshToken } = signIn.body as Record<string, string>;
    expect((await call('GET', '/api/v1/users/me', undefined, accessToken)).status).toBe(200);
    const refreshed = await call('POST', '/api/v1/auth/refresh', { refreshToken });
    expect(refreshed.status).toBe(200);
    expect((await call('POST', '/api/v1/auth/password/forgot', { email: user.email })).status).toBe(
      202,
    );
    const resetMail = await mailLine(/reset\?token=/);
    const resetToken = /reset\?token=([A-Za-z0-9_-]+)/.exec(resetMail.msg)?.[1] ?? '';
    const newPassword = 'amber lantern quietly 77';
    expect(
      (await call('POST', '/api/v1/auth/password/reset', { token: resetToken, newPassword }))
        .status,
    ).toBe(204);
    // The web page's reset link, with its token in the query: logged without it.
    await call('GET', `/reset?token=${resetToken}`);
    expect(
      (
        await call('POST', '/api/v1/auth/login', {
          email: user.email,
          password: 'wrong password 9',
        })
      ).status,
    ).toBe(401);

    child.kill('SIGTERM');
    expect((await service.exited).code).toBe(0);

    const lines = logLines(); // every stdout line parses as JSON
    const requestLines = lines.filter((l) => l.msg === 'request completed');
    for (const [call, id] of ids) {
      const [method] = call.split(' ');
      const mine = requestLines.filter((l) => l.reqId === id);
      expect({ call, count: mine.length }).toEqual({ call, count: 1 });
      expect(mine[0].req?.method).toBe(method);
    }
    expect(requestLines.find((l) => l.req?.url.startsWith('/reset?'))?.req?.url).toBe(
      '/reset?token=[redacted]',
    );
    const text = service.stdout();
    for (const secret of [
      user.password,
      newPassword,
      'wrong password 9',
      accessToken,
      refreshed.body.refreshToken,
      refreshToken,
      'forged-id',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text.toLowerCase()).not.toContain('bearer ');
    // Codes and reset tokens appear in the log transport's mail lines only (development).
    const outsideMail = lines
      .filter((l) => l.context !== 'Mail')
      .map((l) => JSON.stringify(l))
      .join('\n');
    expect(outsideMail).not.toContain(code);
    expect(outsideMail).not.toContain(resetToken);
  });
});

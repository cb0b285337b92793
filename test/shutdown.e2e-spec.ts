import { newUser, PASSWORD } from './support/factories';
import { useRealService } from './support/service-process';

describe('Graceful shutdown (e2e)', () => {
  const real = useRealService();

  it('should finish in-flight sign-ins on SIGTERM, refuse new connections, and exit 0', async () => {
    // The real entry point, as `npm start` runs it (transpiled on the fly).
    const { base, child, output, exited } = await real.start({
      LOG_LEVEL: 'info',
      JWT_SECRET: 'shutdown-test-secret-shutdown-test-secret-0123',
      RATE_LIMIT: 'off',
      // Slow sign-ins (about 0.1-0.2 s of hashing each), so they are still running at SIGTERM.
      ARGON2_TIME_COST: '12',
      SHUTDOWN_TIMEOUT_SECONDS: '20',
    });

    const body = newUser();
    const post = (path: string, payload: unknown) =>
      fetch(`${base}/api/v1${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      });
    expect((await post('/auth/register', body)).status).toBe(201);

    const signIns = Array.from({ length: 8 }, () =>
      post('/auth/login', { email: body.email, password: PASSWORD }).then((r) => r.status),
    );
    // Signal once they are surely in flight: when the first has answered, all
    // eight have arrived (sent together), and with two hashes at a time most
    // are still waiting or hashing. A fixed delay raced their arrival: a
    // request arriving after SIGTERM rightly gets 503.
    await Promise.race(signIns);
    const signalled = Date.now();
    child.kill('SIGTERM');

    expect(await Promise.all(signIns)).toEqual(Array(8).fill(200));
    const exit = await exited;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.at - signalled).toBeLessThan(10000);
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
    expect(output()).toContain('SIGTERM: finishing in-flight requests');
  });
});

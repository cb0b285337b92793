import { PasswordsService } from '../src/auth/passwords/passwords.service';
import { newUser, PASSWORD } from './support/factories';
import { useTestApp } from './support/test-app';

describe('Sign-in flood (e2e)', () => {
  // The contract's argon2 cost (19 MiB a hash), two at a time, fifty waiting.
  const t = useTestApp({
    RATE_LIMIT: 'off',
    ARGON2_MEMORY_KIB: '19456',
    ARGON2_TIME_COST: '2',
    HASH_CONCURRENCY: '2',
    HASH_QUEUE_LIMIT: '50',
  });

  it('should keep hashing and memory bounded under hundreds of concurrent sign-ins, answering 503 past the queue', async () => {
    const body = newUser();
    expect((await t.http.post('/api/v1/auth/register', body)).status).toBe(201);

    const baseline = process.memoryUsage().rss;
    let peakRss = baseline;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 10);
    const replies = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        t.http.post('/api/v1/auth/login', {
          email: body.email,
          password: i % 2 === 0 ? PASSWORD : 'wrong password here 1',
        }),
      ),
    );
    clearInterval(sampler);

    const count = (status: number) => replies.filter((r) => r.status === status).length;
    expect(count(200) + count(401) + count(503)).toBe(400);
    expect(count(503)).toBeGreaterThan(0);
    expect(count(200) + count(401)).toBeGreaterThanOrEqual(52);
    const refused = replies.find((r) => r.status === 503);
    expect(refused?.body.code).toBe('service_unavailable');
    expect(refused?.headers['retry-after']).toBe('1');

    expect(t.app.get(PasswordsService).hashingStats()).toEqual({ active: 0, waiting: 0, peak: 2 });
    // Two 19 MiB hashes at a time, plus request overhead: far from one per request (400 × 19 MiB).
    expect((peakRss - baseline) / 1024 / 1024).toBeLessThan(200);

    expect(
      (await t.http.post('/api/v1/auth/login', { email: body.email, password: PASSWORD })).status,
    ).toBe(200);
  });
});

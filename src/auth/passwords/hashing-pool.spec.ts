import { ProblemException } from '../../common/problem';
import { HashingPool } from './hashing-pool';

describe(HashingPool.name, () => {
  const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it.each([
    { ahead: 0, most: 2 },
    { ahead: 1, most: 3 },
  ])(
    'should never hand the work more than its concurrency and $ahead ahead at once, and run everything queued in order',
    async ({ ahead, most }) => {
      const sut = new HashingPool(2, 100, ahead);
      let handed = 0;
      let seen = 0;
      const order: number[] = [];
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          sut.run(async () => {
            handed += 1;
            seen = Math.max(seen, handed);
            await tick(5);
            order.push(i);
            handed -= 1;
          }),
        ),
      );
      expect(seen).toBe(most);
      expect(sut.stats()).toEqual({ active: 0, waiting: 0, peak: most });
      expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    },
  );

  it('should count the queue limit beyond what it handed over', async () => {
    const sut = new HashingPool(1, 2, 1);
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => sut.run(() => tick(10))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
  });

  it('should refuse with 503 past the queue limit, and recover afterwards', async () => {
    const sut = new HashingPool(1, 2);
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => sut.run(() => tick(10))),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(refused).toHaveLength(2);
    const error = refused[0].reason as ProblemException;
    expect(error).toBeInstanceOf(ProblemException);
    expect(error.getStatus()).toBe(503);
    expect(error.headers).toEqual({ 'Retry-After': '1' });
    await expect(sut.run(() => Promise.resolve('again'))).resolves.toBe('again');
  });

  it('should free the slot when the work fails', async () => {
    const sut = new HashingPool(1, 1);
    await expect(sut.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(sut.stats().active).toBe(0);
    await expect(sut.run(() => Promise.resolve(1))).resolves.toBe(1);
  });
});

import { ProblemException } from '../../common/problem';
import { loadConfig } from '../../config/configuration';
import { passwordLength, PasswordsService } from './passwords.service';

describe(PasswordsService.name, () => {
  const config = (memory: string, time: string) =>
    loadConfig({ JWT_SECRET: 'x'.repeat(32), ARGON2_MEMORY_KIB: memory, ARGON2_TIME_COST: time });
  const sut = new PasswordsService(config('4096', '1'));
  // The shared checker indexes its dictionaries one turn after its first use: let that run here.
  afterAll(() => new Promise((resolve) => setImmediate(resolve)));

  it('should hash with argon2id and the configured parameters', async () => {
    const hash = await sut.hash('violet tractor harbour 42');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=4096,t=1,p=1\$/);
    await expect(sut.verify(hash, 'violet tractor harbour 42')).resolves.toEqual({
      valid: true,
      needsRehash: false,
    });
    await expect(sut.verify(hash, 'violet tractor harbour 43')).resolves.toEqual({
      valid: false,
      needsRehash: false,
    });
  });

  it('should salt each hash with its own 16 random bytes', async () => {
    const salts = await Promise.all(
      [1, 2, 3].map(async () => {
        const hash = await sut.hash('violet tractor harbour 42');
        return Buffer.from(hash.split('$')[4], 'base64');
      }),
    );
    expect(salts.map((salt) => salt.length)).toEqual([16, 16, 16]);
    expect(new Set(salts.map((salt) => salt.toString('hex'))).size).toBe(3);
  });

  it('should queue a next hash for each thread only when the pool has no more threads than hashes at once', async () => {
    // The pool's size as the configuration reads it from UV_THREADPOOL_SIZE, which main.ts
    // sets before the configuration Nest injects is loaded (unset: libuv's 4).
    const handed = async (threadpoolSize?: string) => {
      const service = new PasswordsService(
        loadConfig({
          JWT_SECRET: 'x'.repeat(32),
          ARGON2_MEMORY_KIB: '1024',
          ARGON2_TIME_COST: '1',
          HASH_CONCURRENCY: '2',
          HASH_QUEUE_LIMIT: '10',
          ...(threadpoolSize === undefined ? {} : { UV_THREADPOOL_SIZE: threadpoolSize }),
        }),
      );
      // The constructor's dummy hash, then four more.
      const hashes = [1, 2, 3, 4].map(() => service.hash('violet tractor harbour 42'));
      const stats = service.hashingStats();
      await Promise.all(hashes);
      return { active: stats.active, waiting: stats.waiting };
    };
    await expect(handed('2')).resolves.toEqual({ active: 4, waiting: 1 });
    await expect(handed('1')).resolves.toEqual({ active: 3, waiting: 2 });
    await expect(handed('4')).resolves.toEqual({ active: 2, waiting: 3 });
    await expect(handed(undefined)).resolves.toEqual({ active: 2, waiting: 3 });
  });

  it('should use the contract defaults (m=19456, t=2, p=1) when nothing is configured', async () => {
    const defaults = new PasswordsService(loadConfig({ JWT_SECRET: 'x'.repeat(32) }));
    await expect(defaults.hash('violet tractor harbour 42')).resolves.toMatch(
      /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/,
    );
  });

  it('should NFKC-normalise, so equivalent spellings of a password match', async () => {
    // U+FB01 (the "ﬁ" ligature) and full-width letters normalise to plain ASCII.
    const hash = await sut.hash('ﬁsh ｔａｃｏ lagoon 9');
    await expect(sut.verify(hash, 'fish taco lagoon 9')).resolves.toMatchObject({ valid: true });
    expect(passwordLength('ｐａｓｓ')).toBe(4);
    expect(passwordLength('🦊🦊')).toBe(2);
  });

  it('should report a needed rehash when the cost parameters changed', async () => {
    const old = await new PasswordsService(config('2048', '1')).hash('violet tractor harbour 42');
    await expect(sut.verify(old, 'violet tractor harbour 42')).resolves.toEqual({
      valid: true,
      needsRehash: true,
    });
  });

  it('should do the hashing work and fail when there is no hash', async () => {
    await expect(sut.verify(null, 'anything at all')).resolves.toEqual({
      valid: false,
      needsRehash: false,
    });
    await expect(sut.verify('not-a-hash', 'anything at all')).resolves.toMatchObject({
      valid: false,
    });
  });

  it.each([
    'password',
    'password123',
    'P@ssw0rd!',
    'qwertyuiop',
    'iloveyou2',
    '12345678',
    'aaaaaaaaaaaa',
  ])('should refuse the common or guessable password %s', (password) => {
    expect(() => sut.assertStrong(password, {})).toThrow(ProblemException);
  });

  it('should refuse a password equal or close to the email or username', () => {
    const account = { email: 'marguerite.yourcenar@example.com', username: 'myourcenar' };
    for (const password of [
      'marguerite.yourcenar@example.com',
      'marguerite.yourcenar',
      'myourcenar1',
    ]) {
      expect(() => sut.assertStrong(password, account)).toThrow(ProblemException);
    }
  });

  it.each([
    'violet tractor harbour 42',
    'correct horse battery staple',
    'k9#mQ2xz!Lw',
    '🦊🌲🚲🎻 pond',
  ])('should accept the strong password %s without composition rules', (password) => {
    expect(() =>
      sut.assertStrong(password, { email: 'a@example.com', username: 'abc' }),
    ).not.toThrow();
  });

  it('should answer weak_password with a 400 naming the field', () => {
    try {
      sut.assertStrong('password123', {});
      throw new Error('accepted a weak password');
    } catch (error) {
      expect(error).toBeInstanceOf(ProblemException);
      const problem = error as ProblemException;
      expect(problem.getStatus()).toBe(400);
      expect(problem.document).toMatchObject({
        code: 'weak_password',
        errors: [{ field: 'password' }],
      });
    }
  });
});

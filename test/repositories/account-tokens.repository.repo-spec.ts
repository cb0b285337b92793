import type { EntityManager } from 'typeorm';
import { AccountTokensRepository } from '../../src/auth/recovery/account-tokens.repository';
import { insertUser, tokenHash, useTestDatabase } from '../support/test-database';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(AccountTokensRepository.name, () => {
  const db = useTestDatabase();
  let sut: AccountTokensRepository;

  beforeAll(() => {
    sut = new AccountTokensRepository(db.dataSource.manager);
  });

  const inTransaction = <T>(work: (manager: EntityManager) => Promise<T>): Promise<T> =>
    db.dataSource.transaction(work);

  /**
   * Two uses of one token at once, each locking it, waiting a little (so the
   * other arrives meanwhile), then spending it: what each one found.
   */
  async function twoUsesAtOnce<T>(
    lock: (manager: EntityManager) => Promise<T | null>,
    spend: (found: T, manager: EntityManager) => Promise<void>,
  ): Promise<Array<T | null>> {
    const use = () =>
      inTransaction(async (manager) => {
        const found = await lock(manager);
        await sleep(100);
        if (found) {
          await spend(found, manager);
        }
        return found;
      });
    return Promise.all([use(), use()]);
  }

  describe('verification codes', () => {
    it('should store a code with its expiry and no failed attempts', async () => {
      const user = await insertUser(db.dataSource);
      const code = tokenHash();

      await sut.replaceVerificationCode(user.id, code, 600);

      const found = await inTransaction((manager) => sut.lockVerification(user.id, manager));
      expect(found).toEqual(
        expect.objectContaining({ userId: user.id, codeHash: code, attempts: 0 }),
      );
      expect(found!.expiresAt.getTime() - found!.createdAt.getTime()).toBe(600_000);
    });

    it('should count failed attempts, and start again with a new code that supersedes the old', async () => {
      const user = await insertUser(db.dataSource);
      const bystander = await insertUser(db.dataSource);
      const old = tokenHash();
      await sut.replaceVerificationCode(user.id, old, 600);
      await sut.replaceVerificationCode(bystander.id, old, 600);
      await inTransaction(async (manager) => {
        await sut.recordFailedVerification(user.id, manager);
        await sut.recordFailedVerification(user.id, manager);
      });
      const failed = await inTransaction((manager) => sut.lockVerification(user.id, manager));
      expect(failed?.attempts).toBe(2);

      const code = tokenHash();
      await sut.replaceVerificationCode(user.id, code, 600);

      const found = await inTransaction((manager) => sut.lockVerification(user.id, manager));
      expect(found).toEqual(
        expect.objectContaining({ userId: user.id, codeHash: code, attempts: 0 }),
      );
      const untouched = await inTransaction((manager) =>
        sut.lockVerification(bystander.id, manager),
      );
      expect(untouched).toEqual(expect.objectContaining({ codeHash: old, attempts: 0 }));
    });

    it('should store a code in one statement only for an account still at that address, unverified, and answer its name', async () => {
      const user = await insertUser(db.dataSource, { fullName: 'Ada Lovelace' });
      const code = tokenHash();

      expect(
        await sut.replaceVerificationCodeIfUnverified(user.id, user.email!, code, 600),
      ).toEqual({ fullName: 'Ada Lovelace' });
      const found = await inTransaction((manager) => sut.lockVerification(user.id, manager));
      expect(found).toEqual(expect.objectContaining({ codeHash: code, attempts: 0 }));
      expect(found!.expiresAt.getTime() - found!.createdAt.getTime()).toBe(600_000);

      // Another address (changed since the mail was queued), then a verified account: nothing written.
      expect(
        await sut.replaceVerificationCodeIfUnverified(
          user.id,
          'other@example.com',
          tokenHash(),
          600,
        ),
      ).toBeNull();
      await db.dataSource.query('UPDATE users SET email_verified = true WHERE id = $1', [user.id]);
      expect(
        await sut.replaceVerificationCodeIfUnverified(user.id, user.email!, tokenHash(), 600),
      ).toBeNull();
      const kept = await inTransaction((manager) => sut.lockVerification(user.id, manager));
      expect(kept?.codeHash).toBe(code);
    });

    it('should supersede the code in one statement too, and write nothing for an unknown account', async () => {
      const user = await insertUser(db.dataSource, { fullName: null });
      await sut.replaceVerificationCode(user.id, tokenHash(), 600);
      await inTransaction((manager) => sut.recordFailedVerification(user.id, manager));
      const code = tokenHash();

      expect(
        await sut.replaceVerificationCodeIfUnverified(user.id, user.email!, code, 600),
      ).toEqual({ fullName: null });
      expect(await inTransaction((manager) => sut.lockVerification(user.id, manager))).toEqual(
        expect.objectContaining({ codeHash: code, attempts: 0 }),
      );
      const unknown = '00000000-0000-4000-8000-000000000000';
      expect(
        await sut.replaceVerificationCodeIfUnverified(unknown, user.email!, tokenHash(), 600),
      ).toBeNull();
      expect(await inTransaction((manager) => sut.lockVerification(unknown, manager))).toBeNull();
    });

    it('should still find an expired code, with its expiry in the past', async () => {
      const user = await insertUser(db.dataSource);
      await sut.replaceVerificationCode(user.id, tokenHash(), 1);
      await sleep(1100);

      const found = await inTransaction((manager) => sut.lockVerification(user.id, manager));

      expect(found!.expiresAt.getTime()).toBeLessThan(Date.now());
    });

    it('should delete the code', async () => {
      const user = await insertUser(db.dataSource);
      await sut.replaceVerificationCode(user.id, tokenHash(), 600);

      await inTransaction((manager) => sut.deleteVerification(user.id, manager));

      expect(await inTransaction((manager) => sut.lockVerification(user.id, manager))).toBeNull();
    });

    it('should let one of two uses of a code at once find it (the other waits, then finds nothing)', async () => {
      const user = await insertUser(db.dataSource);
      await sut.replaceVerificationCode(user.id, tokenHash(), 600);

      const found = await twoUsesAtOnce(
        (manager) => sut.lockVerification(user.id, manager),
        (code, manager) => sut.deleteVerification(code.userId, manager),
      );

      expect(found.filter((code) => code !== null)).toHaveLength(1);
    });
  });

  describe('password reset tokens', () => {
    it('should store a reset token, found by its hash, with its expiry', async () => {
      const user = await insertUser(db.dataSource);
      const hash = tokenHash();

      await sut.replaceResetToken(user.id, hash, 3600);

      const found = await sut.findResetByTokenHash(hash);
      expect(found).toEqual(expect.objectContaining({ userId: user.id, tokenHash: hash }));
      expect(found!.expiresAt.getTime() - found!.createdAt.getTime()).toBe(3600_000);
      expect(await inTransaction((manager) => sut.lockResetByTokenHash(hash, manager))).toEqual(
        found,
      );
    });

    it('should void the older link when a newer one is requested', async () => {
      const user = await insertUser(db.dataSource);
      const older = tokenHash();
      const newer = tokenHash();
      await sut.replaceResetToken(user.id, older, 3600);

      await sut.replaceResetToken(user.id, newer, 3600);

      expect(await sut.findResetByTokenHash(older)).toBeNull();
      expect(await inTransaction((manager) => sut.lockResetByTokenHash(older, manager))).toBeNull();
      expect(await sut.findResetByTokenHash(newer)).toEqual(
        expect.objectContaining({ userId: user.id }),
      );
    });

    it('should still find an expired reset token, with its expiry in the past', async () => {
      const user = await insertUser(db.dataSource);
      const hash = tokenHash();
      await sut.replaceResetToken(user.id, hash, 1);
      await sleep(1100);

      const found = await sut.findResetByTokenHash(hash);

      expect(found!.expiresAt.getTime()).toBeLessThan(Date.now());
    });

    it('should delete the reset token', async () => {
      const user = await insertUser(db.dataSource);
      const hash = tokenHash();
      await sut.replaceResetToken(user.id, hash, 3600);

      await inTransaction((manager) => sut.deleteReset(user.id, manager));

      expect(await sut.findResetByTokenHash(hash)).toBeNull();
    });

    it('should let one of two uses of a link at once find it (the other waits, then finds nothing)', async () => {
      const user = await insertUser(db.dataSource);
      const hash = tokenHash();
      await sut.replaceResetToken(user.id, hash, 3600);

      const found = await twoUsesAtOnce(
        (manager) => sut.lockResetByTokenHash(hash, manager),
        (reset, manager) => sut.deleteReset(reset.userId, manager),
      );

      expect(found.filter((reset) => reset !== null)).toHaveLength(1);
    });
  });

  it('should remove both tokens with their user', async () => {
    const user = await insertUser(db.dataSource);
    const hash = tokenHash();
    await sut.replaceVerificationCode(user.id, tokenHash(), 600);
    await sut.replaceResetToken(user.id, hash, 3600);

    await db.dataSource.query('DELETE FROM users WHERE id = $1', [user.id]);

    expect(await inTransaction((manager) => sut.lockVerification(user.id, manager))).toBeNull();
    expect(await sut.findResetByTokenHash(hash)).toBeNull();
  });
});

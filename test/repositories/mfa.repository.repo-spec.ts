import { MfaRepository } from '../../src/auth/mfa/mfa.repository';
import { insertUser, tokenHash, useTestDatabase } from '../support/test-database';

describe(MfaRepository.name, () => {
  const db = useTestDatabase();
  let sut: MfaRepository;

  beforeAll(() => {
    sut = new MfaRepository(db.dataSource.manager);
  });

  /** A user with an active authenticator whose last used step is `lastStep`. */
  async function withActiveTotp(lastStep: number) {
    const user = await insertUser(db.dataSource);
    expect(await sut.savePendingTotp(user.id, 'v1.sealed')).toBe(true);
    expect(await db.dataSource.transaction((tx) => sut.confirmTotp(user.id, lastStep, tx))).toBe(
      true,
    );
    return user;
  }

  describe('TOTP authenticators', () => {
    it('should replace a pending authenticator, and refuse a new one while one is active', async () => {
      const user = await insertUser(db.dataSource);
      expect(await sut.savePendingTotp(user.id, 'v1.first')).toBe(true);
      expect(await sut.savePendingTotp(user.id, 'v1.second')).toBe(true);
      expect((await sut.findTotp(user.id))?.secretSealed).toBe('v1.second');

      await db.dataSource.transaction((tx) => sut.confirmTotp(user.id, 100, tx));
      expect(await sut.savePendingTotp(user.id, 'v1.third')).toBe(false);
      expect(await sut.findTotp(user.id)).toMatchObject({
        secretSealed: 'v1.second',
        confirmedAt: expect.any(Date),
        lastUsedStep: '100',
      });
    });

    it('should not confirm a pending authenticator older than ten minutes', async () => {
      const user = await insertUser(db.dataSource);
      await sut.savePendingTotp(user.id, 'v1.sealed');
      await db.dataSource.query(
        `UPDATE totp_authenticators SET created_at = now() - interval '601 seconds' WHERE user_id = $1`,
        [user.id],
      );
      expect(await db.dataSource.transaction((tx) => sut.confirmTotp(user.id, 1, tx))).toBe(false);
    });

    it('should use a step once, and never one older than the last used', async () => {
      const user = await withActiveTotp(100);
      expect(await sut.useTotpStep(user.id, 100)).toBe(false);
      expect(await sut.useTotpStep(user.id, 99)).toBe(false);
      expect(await sut.useTotpStep(user.id, 101)).toBe(true);
      expect(await sut.useTotpStep(user.id, 101)).toBe(false);
    });

    it('should let exactly one of concurrent uses of one step succeed', async () => {
      const user = await withActiveTotp(100);
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          db.dataSource.transaction((tx) => sut.useTotpStep(user.id, 101, tx)),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('should not use a step of a pending authenticator', async () => {
      const user = await insertUser(db.dataSource);
      await sut.savePendingTotp(user.id, 'v1.sealed');
      expect(await sut.useTotpStep(user.id, 5)).toBe(false);
    });

    it('should delete the authenticator with the recovery codes, saying whether it was active', async () => {
      const user = await withActiveTotp(1);
      await db.dataSource.transaction((tx) =>
        sut.replaceRecoveryCodes(user.id, [tokenHash(), tokenHash()], tx),
      );
      expect(await db.dataSource.transaction((tx) => sut.deleteTotp(user.id, tx))).toBe(true);
      expect(await sut.findTotp(user.id)).toBeNull();
      expect(await sut.countRecoveryCodesLeft(user.id)).toBe(0);

      const pendingOnly = await insertUser(db.dataSource);
      await sut.savePendingTotp(pendingOnly.id, 'v1.sealed');
      expect(await db.dataSource.transaction((tx) => sut.deleteTotp(pendingOnly.id, tx))).toBe(
        false,
      );
    });
  });

  describe('recovery codes', () => {
    it('should spend a code once, and void the older codes when replaced', async () => {
      const user = await insertUser(db.dataSource);
      const [first, second] = [tokenHash(), tokenHash()];
      await db.dataSource.transaction((tx) =>
        sut.replaceRecoveryCodes(user.id, [first, second], tx),
      );
      expect(await sut.countRecoveryCodesLeft(user.id)).toBe(2);

      expect(await sut.useRecoveryCode(user.id, first)).toBe(true);
      expect(await sut.useRecoveryCode(user.id, first)).toBe(false);
      expect(await sut.countRecoveryCodesLeft(user.id)).toBe(1);

      await db.dataSource.transaction((tx) => sut.replaceRecoveryCodes(user.id, [tokenHash()], tx));
      expect(await sut.useRecoveryCode(user.id, second)).toBe(false);
      expect(await sut.countRecoveryCodesLeft(user.id)).toBe(1);
    });

    it("should not spend another user's code", async () => {
      const [owner, other] = [await insertUser(db.dataSource), await insertUser(db.dataSource)];
      const code = tokenHash();
      await db.dataSource.transaction((tx) => sut.replaceRecoveryCodes(owner.id, [code], tx));
      expect(await sut.useRecoveryCode(other.id, code)).toBe(false);
      expect(await sut.useRecoveryCode(owner.id, code)).toBe(true);
    });

    it('should let exactly one of concurrent uses of one code succeed', async () => {
      const user = await insertUser(db.dataSource);
      const code = tokenHash();
      await db.dataSource.transaction((tx) => sut.replaceRecoveryCodes(user.id, [code], tx));
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          db.dataSource.transaction((tx) => sut.useRecoveryCode(user.id, code, tx)),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });

  describe('challenges', () => {
    it('should open a challenge that expires, and clear the finished ones of the user on the next', async () => {
      const user = await insertUser(db.dataSource);
      const first = tokenHash();
      await sut.openChallenge(
        { userId: user.id, tokenHash: first, method: 'password', amr: ['pwd'] },
        300,
      );
      const found = await sut.findChallenge(first);
      expect(found).toMatchObject({
        userId: user.id,
        method: 'password',
        amr: ['pwd'],
        failures: 0,
        spentAt: null,
      });
      const ttl = (found!.expiresAt.getTime() - found!.createdAt.getTime()) / 1000;
      expect(Math.round(ttl)).toBe(300);

      await db.dataSource.transaction(async (tx) => {
        await sut.recordChallengeFailure(found!.id, tx);
        await sut.spendChallenge(found!.id, tx);
      });
      expect(await sut.findChallenge(first)).toMatchObject({
        failures: 1,
        spentAt: expect.any(Date),
      });

      const second = tokenHash();
      await sut.openChallenge(
        { userId: user.id, tokenHash: second, method: 'secret', amr: ['pwd'] },
        300,
      );
      expect(await sut.findChallenge(first)).toBeNull();
      expect(await sut.findChallenge(second)).not.toBeNull();
    });
  });
});

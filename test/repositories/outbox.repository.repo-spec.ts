import { OutboxRepository } from '../../src/mail/outbox.repository';
import { describeOnServer, useTestDatabase } from '../support/test-database';

interface OutboxRow {
  id: string;
  status: string;
  attempts: number;
  payload: Record<string, unknown> | null;
  leased: boolean;
  finished: boolean;
  last_error: string | null;
}

describe(OutboxRepository.name, () => {
  const db = useTestDatabase();
  let sut: OutboxRepository;
  let counter = 0;

  beforeAll(() => {
    sut = new OutboxRepository(db.dataSource.manager);
  });

  beforeEach(async () => {
    await db.dataSource.query('DELETE FROM outbox');
  });

  /**
   * A pending mail, added as the services add them, then changed by `set`
   * (SQL assignments, such as a time in the past or a status): its id.
   */
  async function mail(set?: string): Promise<string> {
    counter += 1;
    const recipient = `outbox.${counter}@example.com`;
    await sut.add(db.dataSource.manager, {
      kind: 'verify-email',
      recipient,
      payload: { counter },
    });
    const [{ id }] = await db.dataSource.query<Array<{ id: string }>>(
      'SELECT id FROM outbox WHERE recipient = $1',
      [recipient],
    );
    if (set) {
      await db.dataSource.query(`UPDATE outbox SET ${set} WHERE id = $1`, [id]);
    }
    return id;
  }

  const rowOf = async (id: string): Promise<OutboxRow> => {
    const [row] = await db.dataSource.query<OutboxRow[]>(
      `SELECT id, status, attempts, payload, locked_until IS NOT NULL AS leased,
              finished_at IS NOT NULL AS finished, last_error
         FROM outbox WHERE id = $1`,
      [id],
    );
    return row;
  };

  const ids = (mails: Array<{ id: string }>) => mails.map((claimed) => claimed.id).sort();

  describe('claimDue', () => {
    it('should claim due pending mails only, with their payload, counting the attempt', async () => {
      const due = await mail();
      await mail(`next_attempt_at = now() + interval '1 hour'`);
      await mail(`locked_until = now() + interval '1 minute'`);
      await mail(`status = 'sent', payload = NULL, finished_at = now()`);

      const claimed = await sut.claimDue(10, 60);

      expect(claimed).toEqual([
        expect.objectContaining({
          id: due,
          kind: 'verify-email',
          recipient: expect.stringMatching(/@example\.com$/),
          userId: null,
          payload: { counter: expect.any(Number) },
          attempts: 1,
        }),
      ]);
      expect(await rowOf(due)).toEqual(expect.objectContaining({ attempts: 1, leased: true }));
    });

    it('should claim at most `limit`, the longest waiting first', async () => {
      const oldest = await mail(`next_attempt_at = now() - interval '3 minutes'`);
      const older = await mail(`next_attempt_at = now() - interval '2 minutes'`);
      await mail(`next_attempt_at = now() - interval '1 minute'`);

      const claimed = await sut.claimDue(2, 60);

      expect(ids(claimed)).toEqual([oldest, older].sort());
    });

    it('should hold a claimed mail for the lease, and give it out again once the lease has run out', async () => {
      const id = await mail();
      await sut.claimDue(10, 60);
      const [lease] = await db.dataSource.query<Array<{ seconds: number }>>(
        `SELECT extract(epoch FROM locked_until - now())::float AS seconds FROM outbox WHERE id = $1`,
        [id],
      );
      expect(lease.seconds).toBeGreaterThan(55);
      expect(lease.seconds).toBeLessThanOrEqual(60);
      expect(await sut.claimDue(10, 60)).toEqual([]);

      // The worker that held it is gone: its lease ends.
      await db.dataSource.query(
        `UPDATE outbox SET locked_until = now() - interval '1 second' WHERE id = $1`,
        [id],
      );
      const again = await sut.claimDue(10, 60);

      expect(again).toEqual([expect.objectContaining({ id, attempts: 2 })]);
    });
  });

  describe('finish', () => {
    it('should finish a mail: its status, the payload erased, the lease let go, never claimed again', async () => {
      const id = await mail();
      await sut.claimDue(10, 60);

      await sut.finish(id, 'sent');

      expect(await rowOf(id)).toEqual({
        id,
        status: 'sent',
        attempts: 1,
        payload: null,
        leased: false,
        finished: true,
        last_error: null,
      });
      await db.dataSource.query(`UPDATE outbox SET next_attempt_at = now() - interval '1 hour'`);
      expect(await sut.claimDue(10, 60)).toEqual([]);
    });

    it('should keep the first 200 characters of the error of a mail given up', async () => {
      const id = await mail();
      await sut.claimDue(10, 60);

      await sut.finish(id, 'failed', `${'x'.repeat(200)} and more`);

      expect(await rowOf(id)).toEqual(
        expect.objectContaining({ status: 'failed', payload: null, last_error: 'x'.repeat(200) }),
      );
    });
  });

  it('should keep the last error of a mail sent after failed attempts', async () => {
    const id = await mail();
    await sut.claimDue(10, 60);
    await sut.retryLater(id, 0, 'ECONNREFUSED');
    await db.dataSource.query(`UPDATE outbox SET next_attempt_at = now() - interval '1 second'`);
    await sut.claimDue(10, 60);

    await sut.finish(id, 'sent');

    expect(await rowOf(id)).toEqual(
      expect.objectContaining({ status: 'sent', payload: null, last_error: 'ECONNREFUSED' }),
    );
  });

  describe('retryLater', () => {
    it('should put a claimed mail back for after the delay: lease let go, payload and error kept', async () => {
      const id = await mail();
      await sut.claimDue(10, 60);

      await sut.retryLater(id, 3600, `${'y'.repeat(200)} and more`);

      expect(await rowOf(id)).toEqual(
        expect.objectContaining({
          status: 'pending',
          payload: { counter: expect.any(Number) },
          leased: false,
          finished: false,
          last_error: 'y'.repeat(200),
        }),
      );
      const [next] = await db.dataSource.query<Array<{ seconds: number }>>(
        `SELECT extract(epoch FROM next_attempt_at - now())::float AS seconds FROM outbox WHERE id = $1`,
        [id],
      );
      expect(next.seconds).toBeGreaterThan(3595);
      expect(next.seconds).toBeLessThanOrEqual(3600);
      expect(await sut.claimDue(10, 60)).toEqual([]);

      await db.dataSource.query(
        `UPDATE outbox SET next_attempt_at = now() - interval '1 second' WHERE id = $1`,
        [id],
      );
      expect(await sut.claimDue(10, 60)).toEqual([expect.objectContaining({ id, attempts: 2 })]);
    });
  });

  describe('pruneFinished', () => {
    it('should remove mails finished over a day ago, and keep recent and pending ones', async () => {
      const old = `created_at = now() - interval '3 days'`;
      await mail(`${old}, status = 'sent', finished_at = now() - interval '25 hours'`);
      await mail(`${old}, status = 'failed', finished_at = now() - interval '2 days'`);
      await mail(`${old}, status = 'skipped', finished_at = now() - interval '2 days'`);
      const recent = await mail(`status = 'sent', finished_at = now() - interval '23 hours'`);
      const pending = await mail(old);

      await sut.pruneFinished();

      const left = await db.dataSource.query<Array<{ id: string }>>('SELECT id FROM outbox');
      expect(ids(left)).toEqual([recent, pending].sort());
    });
  });

  // The embedded store is one connection: its claims take turns, they never meet.
  describeOnServer('on a PostgreSQL server (claimers at once)', () => {
    it('should skip the mails another worker holds, without waiting for it', async () => {
      const all = [await mail(), await mail(), await mail(), await mail()];
      const held = all.slice(0, 2);
      const worker = db.dataSource.createQueryRunner();
      await worker.connect();
      try {
        await worker.startTransaction();
        await worker.query('SELECT id FROM outbox WHERE id = ANY($1) FOR UPDATE', [held]);

        // Waiting for the held rows would end in the statement timeout.
        const claimed = await sut.claimDue(10, 60);

        expect(ids(claimed)).toEqual(all.slice(2).sort());
      } finally {
        await worker.rollbackTransaction();
        await worker.release();
      }
    });

    it('should never give one mail to two claimers at once', async () => {
      for (let i = 0; i < 40; i += 1) {
        await mail();
      }

      const claims = await Promise.all(Array.from({ length: 8 }, () => sut.claimDue(10, 60)));

      const claimed = claims.flat().map((one) => one.id);
      expect(claimed.length).toBeGreaterThan(10);
      expect(new Set(claimed).size).toBe(claimed.length);
      const [counts] = await db.dataSource.query<Array<{ once: number; more: number }>>(
        `SELECT count(*) FILTER (WHERE attempts = 1)::int AS once,
                count(*) FILTER (WHERE attempts > 1)::int AS more FROM outbox`,
      );
      expect(counts).toEqual({ once: claimed.length, more: 0 });
    });
  });
});

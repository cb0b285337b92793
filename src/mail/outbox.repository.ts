import { HotStatements } from '../database/hot-statements';
import type { StatementParams } from '../database/statement-params';
import { Injectable, Optional } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { MetricsService } from '../metrics/metrics.service';
import { OutboxMailEntity, OutboxStatus } from './outbox-mail.entity';

export interface NewOutboxMail {
  kind: string;
  recipient: string;
  userId?: string | null;
  payload?: Record<string, unknown> | null;
  requesterIp?: string | null;
}

interface OutboxRow {
  id: string;
  kind: string;
  recipient: string;
  user_id: string | null;
  payload: Record<string, unknown> | null;
  attempts: number;
}

/** The outbox table. */
@Injectable()
export class OutboxRepository {
  /** The delivery's statements, run at every poll and for every mail (see HotStatements). */
  private readonly hot: HotStatements;

  constructor(
    @InjectEntityManager() private readonly manager: EntityManager,
    @Optional() metrics?: MetricsService,
  ) {
    this.hot = new HotStatements(manager);
    metrics?.readFrom({ outboxPending: () => this.countPending() });
  }

  /** Adds a mail inside the caller's transaction (`manager`), so it exists exactly when the change does. */
  async add(manager: EntityManager, mail: NewOutboxMail): Promise<void> {
    const row: QueryDeepPartialEntity<OutboxMailEntity> = {
      kind: mail.kind,
      recipient: mail.recipient,
      userId: mail.userId ?? null,
      payload: (mail.payload ?? null) as QueryDeepPartialEntity<OutboxMailEntity>['payload'],
      requesterIp: mail.requesterIp ?? null,
    };
    await manager.insert(OutboxMailEntity, row);
  }

  /** A WITH item queueing a mail to the new user `u` (see UserAlongside). */
  addForNewUser(
    mail: Omit<NewOutboxMail, 'recipient' | 'userId'>,
    params: StatementParams,
  ): string {
    return `outbox_mail AS (
      INSERT INTO outbox (kind, recipient, user_id, payload, requester_ip)
      SELECT ${params.add(mail.kind)}, u.email, u.id,
             ${params.add(mail.payload ? JSON.stringify(mail.payload) : null)}::jsonb,
             ${params.add(mail.requesterIp ?? null)}
      FROM u WHERE u.email IS NOT NULL)`;
  }

  /**
   * Claims up to `limit` due mails for this worker: rows another worker holds
   * are skipped (FOR UPDATE SKIP LOCKED), and the lease keeps them ours while
   * we deliver, so several instances never send one mail twice.
   */
  async claimDue(limit: number, leaseSeconds: number): Promise<OutboxMailEntity[]> {
    const rows = await this.hot.returning<OutboxRow>(
      `UPDATE outbox SET attempts = attempts + 1,
              locked_until = now() + make_interval(secs => $2)
        WHERE id IN (
          SELECT id FROM outbox
           WHERE status = 'pending' AND next_attempt_at <= now()
             AND (locked_until IS NULL OR locked_until < now())
           ORDER BY next_attempt_at
           LIMIT $1
           FOR UPDATE SKIP LOCKED)
        RETURNING id, kind, recipient, user_id, payload, attempts`,
      [limit, leaseSeconds],
    );
    return rows.map((row) =>
      Object.assign(new OutboxMailEntity(), {
        id: row.id,
        kind: row.kind,
        recipient: row.recipient,
        userId: row.user_id,
        payload: row.payload,
        attempts: row.attempts,
      }),
    );
  }

  /**
   * Pending mails of these kinds for the account (by its id, or by its address
   * for mails asked for on a public route) become `skipped`, payload erased.
   */
  async cancelPending(
    manager: EntityManager,
    account: { id: string; email: string | null },
    kinds: string[],
  ): Promise<void> {
    await manager.query(
      `UPDATE outbox SET status = 'skipped', payload = NULL, locked_until = NULL, finished_at = now()
        WHERE (user_id = $1 OR recipient = $2) AND kind = ANY($3) AND status = 'pending'`,
      [account.id, account.email, kinds],
    );
  }

  /** Whether the mail is still pending, its row locked until `manager`'s transaction ends. */
  async lockPending(manager: EntityManager, id: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `SELECT 1 FROM outbox WHERE id = $1 AND status = 'pending' FOR UPDATE`,
      [id],
    );
    return rows.length > 0;
  }

  /** Delivered, given up or not needed: the payload is erased. */
  async finish(
    id: string,
    status: Exclude<OutboxStatus, 'pending'>,
    error?: string,
  ): Promise<void> {
    await this.hot.query(
      `UPDATE outbox SET status = $2, payload = NULL, locked_until = NULL, finished_at = now(),
              last_error = coalesce($3, last_error)
        WHERE id = $1`,
      [id, status, error ? error.slice(0, 200) : null],
    );
  }

  async retryLater(id: string, delaySeconds: number, error: string): Promise<void> {
    await this.manager
      .createQueryBuilder()
      .update(OutboxMailEntity)
      .set({
        lockedUntil: null,
        lastError: error.slice(0, 200),
        nextAttemptAt: () => `now() + make_interval(secs => :delay)`,
      })
      .where('id = :id', { id })
      .setParameter('delay', delaySeconds)
      .execute();
  }

  /**
   * Takes, until the caller's transaction (`manager`) ends, the locks that make
   * the send limits' checks and the insert that follows them one step: one for
   * the client address (all limited kinds) and one for the recipient and kind.
   * A second request for either waits, then sees the first one's mail. They
   * are taken in the same order (address, then recipient) by every request,
   * so two requests never wait on each other.
   */
  async lockSendLimits(
    manager: EntityManager,
    requester: string,
    kind: string,
    recipient: string,
  ): Promise<void> {
    for (const key of [`outbox:requester:${requester}`, `outbox:recipient:${kind}:${recipient}`]) {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [key]);
    }
  }

  /**
   * Whether a mail of this kind went to this recipient within the window.
   * statement_timestamp(), not now(): a transaction that waited for the send
   * limits' locks must look back from when it got them.
   */
  async sentRecently(
    manager: EntityManager,
    kind: string,
    recipient: string,
    windowSeconds: number,
  ): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `SELECT 1 FROM outbox
        WHERE recipient = $1 AND kind = $2
          AND created_at > statement_timestamp() - make_interval(secs => $3)
        LIMIT 1`,
      [recipient, kind, windowSeconds],
    );
    return rows.length > 0;
  }

  /**
   * Seconds until this client address (as stored: IPv6 by its /64) may cause
   * another mail of these kinds, or 0 when it may now.
   */
  async secondsUntilAllowed(
    manager: EntityManager,
    requester: string,
    kinds: string[],
    windowSeconds: number,
  ): Promise<number> {
    const [row] = await manager.query<Array<{ wait: number | null }>>(
      `SELECT ceil(extract(epoch FROM
                max(created_at) + make_interval(secs => $3) - statement_timestamp()))::int AS wait
         FROM outbox
        WHERE requester_ip = $1 AND kind = ANY($2)
          AND created_at > statement_timestamp() - make_interval(secs => $3)`,
      [requester, kinds, windowSeconds],
    );
    return Math.max(0, row?.wait ?? 0);
  }

  /** Mails waiting for delivery (the metrics' outbox backlog). */
  async countPending(): Promise<number> {
    const [row] = await this.manager.query<Array<{ pending: number }>>(
      `SELECT count(*)::int AS pending FROM outbox WHERE status = 'pending'`,
    );
    return row?.pending ?? 0;
  }

  /** Finished rows are kept a day (the send limits look back at them), then removed. */
  async pruneFinished(): Promise<void> {
    await this.manager.query(
      `DELETE FROM outbox WHERE status <> 'pending' AND finished_at < now() - interval '1 day'`,
    );
  }
}

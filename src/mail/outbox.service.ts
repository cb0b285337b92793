import { Injectable } from '@nestjs/common';
import { normalizeIp } from '@nestjs/throttler';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ProblemException } from '../common/problem';
import { type AppConfig, InjectAppConfig } from '../config/configuration';
import type { StatementParams } from '../database/statement-params';
import { NewOutboxMail, OutboxRepository } from './outbox.repository';
import { OutboxWorker } from './outbox.worker';

/** One mail of a kind per recipient, and one mail-causing request per client address, per this window. */
export const MAIL_LIMIT_WINDOW_SECONDS = 60;

/**
 * What other modules use to send mail: add it to the outbox inside their own
 * transaction, then `deliverSoon()` once that transaction has committed.
 */
@Injectable()
export class OutboxService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxRepository,
    private readonly worker: OutboxWorker,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  add(manager: EntityManager, mail: NewOutboxMail): Promise<void> {
    return this.outbox.add(manager, mail);
  }

  /** A mail to the new user, queued by the statement that creates it (see UserAlongside). */
  addForNewUser(
    mail: Omit<NewOutboxMail, 'recipient' | 'userId'>,
    params: StatementParams,
  ): string {
    return this.outbox.addForNewUser(mail, params);
  }

  /**
   * Cancels the user's mails of these kinds still waiting for delivery, inside
   * the caller's transaction (a change that makes them wrong to send).
   */
  cancelPending(
    manager: EntityManager,
    account: { id: string; email: string | null },
    kinds: string[],
  ): Promise<void> {
    return this.outbox.cancelPending(manager, account, kinds);
  }

  /**
   * Locks a mail being composed until the composer's transaction ends, and
   * says whether it is still to be sent: a cancellation waits for the
   * composer, or the composer sees the cancellation.
   */
  lockForComposing(manager: EntityManager, id: string): Promise<boolean> {
    return this.outbox.lockPending(manager, id);
  }

  deliverSoon(): void {
    this.worker.kick();
  }

  /**
   * A mail a public route sends on request (a new code, a reset link), within
   * the send limits: 429 with Retry-After when this client address (IPv6 by
   * its /64, as the request limit counts it) caused one of `limitedKinds` in
   * the last minute; silently nothing when the recipient got one of this kind
   * in the last minute. Both are counted the same whether or not the address
   * belongs to an account, and the request's work is the same either way (the
   * composer decides at delivery whether to send).
   *
   * The checks and the insert are one step: concurrent requests, on this
   * instance or another sharing the database, cannot all pass the checks
   * before any has added its mail.
   */
  async sendOnRequest(
    mail: NewOutboxMail & { requesterIp: string },
    limitedKinds: string[],
  ): Promise<void> {
    const requester = normalizeIp(mail.requesterIp);
    const outcome = await this.dataSource.transaction(
      async (manager): Promise<{ added: boolean; wait: number }> => {
        if (this.config.rateLimit) {
          await this.outbox.lockSendLimits(manager, requester, mail.kind, mail.recipient);
          const wait = await this.outbox.secondsUntilAllowed(
            manager,
            requester,
            limitedKinds,
            MAIL_LIMIT_WINDOW_SECONDS,
          );
          if (wait > 0) {
            return { added: false, wait };
          }
          // At most one a minute per recipient and kind, so the service cannot be used to flood a mailbox.
          const { kind, recipient } = mail;
          if (await this.outbox.sentRecently(manager, kind, recipient, MAIL_LIMIT_WINDOW_SECONDS)) {
            return { added: false, wait: 0 };
          }
        }
        await this.add(manager, { ...mail, requesterIp: requester });
        return { added: true, wait: 0 };
      },
    );
    if (outcome.wait > 0) {
      throw new ProblemException(
        'rate_limited',
        `Too many mails requested from this address; try again in ${outcome.wait} seconds.`,
        undefined,
        { 'Retry-After': String(outcome.wait) },
      );
    }
    if (outcome.added) {
      this.deliverSoon();
    }
  }
}

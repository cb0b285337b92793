import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { type AppConfig, InjectAppConfig } from '../config/configuration';
import { MailComposers } from './mail-composers';
import { MailTransport } from './mail.transport';
import { OutboxMailEntity } from './outbox-mail.entity';
import { OutboxRepository } from './outbox.repository';

const POLL_MS = 1000;
const BATCH = 10;
const LEASE_SECONDS = 60;
const MAX_BACKOFF_SECONDS = 3600;
const PRUNE_EVERY_MS = 10 * 60 * 1000;

/** A short, secret-free reason for a failed delivery (no message text, which may echo content). */
function reasonOf(error: unknown): string {
  const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown };
  const parts = [code, responseCode].filter(
    (part): part is string | number => typeof part === 'string' || typeof part === 'number',
  );
  return parts.join(' ') || 'error';
}

/**
 * Delivers the outbox: polls every second (and at once when a request adds a
 * mail), claims due rows, composes and sends each, and retries failures with
 * exponential backoff until MAIL_MAX_ATTEMPTS. A request never waits for, or
 * fails because of, the mail server.
 */
@Injectable()
export class OutboxWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Mail');
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private pending = false;
  private stopped = false;
  private lastPrune = 0;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly composers: MailComposers,
    @Inject(MailTransport) private readonly transport: MailTransport,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  /** Finishes the delivery under way, then stops (before the database closes). */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    this.transport.close();
  }

  /** Delivers what is due now; called after a transaction that added mail commits. */
  kick(): void {
    if (this.stopped) {
      return;
    }
    if (this.running) {
      this.pending = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.pending) {
        this.pending = false;
        this.kick();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped) {
        const batch = await this.outbox.claimDue(BATCH, LEASE_SECONDS);
        for (const mail of batch) {
          await this.deliver(mail);
        }
        if (batch.length < BATCH) {
          break;
        }
      }
      if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
        this.lastPrune = Date.now();
        await this.outbox.pruneFinished();
      }
    } catch (error) {
      // The database is away: the next poll tries again.
      this.logger.warn(`outbox poll failed: ${reasonOf(error)}`);
    }
  }

  private async deliver(mail: OutboxMailEntity): Promise<void> {
    try {
      const composer = this.composers.get(mail.kind);
      const message = composer ? await composer(mail) : null;
      if (!message) {
        await this.outbox.finish(mail.id, 'skipped', composer ? undefined : 'no composer');
        return;
      }
      await this.transport.send({ ...message, from: this.config.mail.from });
      await this.outbox.finish(mail.id, 'sent');
    } catch (error) {
      const reason = reasonOf(error);
      if (mail.attempts >= this.config.mail.maxAttempts) {
        this.logger.error(
          `mail ${mail.id} (${mail.kind}) given up after ${mail.attempts} attempts: ${reason}`,
        );
        await this.outbox.finish(mail.id, 'failed', reason);
        return;
      }
      const delay = Math.min(
        MAX_BACKOFF_SECONDS,
        this.config.mail.retryBaseSeconds * 2 ** (mail.attempts - 1),
      );
      this.logger.warn(
        `mail ${mail.id} (${mail.kind}) attempt ${mail.attempts} failed: ${reason}; retry in ${delay}s`,
      );
      await this.outbox.retryLater(mail.id, delay, reason);
    }
  }
}

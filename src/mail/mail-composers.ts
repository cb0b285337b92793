import { Injectable } from '@nestjs/common';
import type { MailMessage } from './mail.transport';
import type { OutboxMailEntity } from './outbox-mail.entity';

/**
 * Composes the message for one outbox mail at delivery time, or returns null
 * when it is no longer needed (an unknown address, an account already verified).
 */
export type MailComposer = (mail: OutboxMailEntity) => Promise<MailMessage | null>;

/**
 * Composers by mail kind. Feature modules register theirs at start, so the
 * mail module delivers without knowing (or importing) what it delivers.
 */
@Injectable()
export class MailComposers {
  private readonly composers = new Map<string, MailComposer>();

  register(kind: string, composer: MailComposer): void {
    this.composers.set(kind, composer);
  }

  get(kind: string): MailComposer | undefined {
    return this.composers.get(kind);
  }
}

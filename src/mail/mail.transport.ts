import { Logger } from '@nestjs/common';
import type { Transporter } from 'nodemailer';

/** A composed message, ready to send. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export abstract class MailTransport {
  abstract send(message: MailMessage & { from: string }): Promise<void>;
  close(): void {}
}

/** SMTP through nodemailer: `smtp://[user:pass@]host[:port]` or `smtps://…`; query options such as `?ignoreTLS=true` pass through. */
export class SmtpTransport extends MailTransport {
  private readonly options: Record<string, unknown>;
  private transporter?: Transporter;

  constructor(url: string) {
    super();
    const parsed = new URL(url);
    const options: Record<string, unknown> = {
      host: parsed.hostname,
      port: parsed.port ? Number(parsed.port) : parsed.protocol === 'smtps:' ? 465 : 587,
      secure: parsed.protocol === 'smtps:',
      // A slow or silent server must not hold a delivery for minutes.
      connectionTimeout: 5000,
      greetingTimeout: 5000,
      socketTimeout: 15000,
    };
    if (parsed.username) {
      options.auth = {
        user: decodeURIComponent(parsed.username),
        pass: decodeURIComponent(parsed.password),
      };
    }
    for (const [key, value] of parsed.searchParams) {
      options[key] = value === 'true' ? true : value === 'false' ? false : value;
    }
    this.options = options;
  }

  async send(message: MailMessage & { from: string }): Promise<void> {
    // nodemailer is loaded at the first mail, not at every start.
    if (!this.transporter) {
      const { createTransport } = await import('nodemailer');
      this.transporter ??= createTransport(this.options);
    }
    await this.transporter.sendMail(message);
  }

  override close(): void {
    this.transporter?.close();
  }
}

/**
 * Development only (refused when NODE_ENV=production): the whole message,
 * code or link included, goes to the service's log instead of a mailbox.
 */
export class LogTransport extends MailTransport {
  constructor(private readonly logger: Pick<Logger, 'log'> = new Logger('Mail')) {
    super();
  }

  send(message: MailMessage & { from: string }): Promise<void> {
    this.logger.log(
      `MAIL_URL is unset, so this mail is written here instead of sent:\n` +
        `From: ${message.from}\nTo: ${message.to}\nSubject: ${message.subject}\n\n${message.text}`,
    );
    return Promise.resolve();
  }
}

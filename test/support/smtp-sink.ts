import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface CapturedMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** A real SMTP server inside the test process; what the service sends lands in `mails`. */
export class SmtpSink {
  readonly mails: CapturedMail[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(port = 0): Promise<SmtpSink> {
    // The server's data handler needs the sink, which needs the started server.
    const holder: { sink?: SmtpSink } = {};
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, callback) {
        simpleParser(stream)
          .then((parsed) => {
            holder.sink?.receive({
              from: parsed.from?.text ?? '',
              to: Array.isArray(parsed.to)
                ? parsed.to.map((a) => a.text).join(', ')
                : (parsed.to?.text ?? ''),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
            });
            callback();
          })
          .catch((error: Error) => callback(error));
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = (server as unknown as { server: { address(): AddressInfo } }).server.address();
    holder.sink = new SmtpSink(server, address.port);
    return holder.sink;
  }

  /** The MAIL_URL that points the service here. */
  get url(): string {
    return `smtp://127.0.0.1:${this.port}?ignoreTLS=true`;
  }

  /** Resolves with the first mail (already received or still to come) that matches. */
  async waitFor(match: (mail: CapturedMail) => boolean, timeoutMs = 15000): Promise<CapturedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.mails.find(match);
      if (found) {
        return found;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no matching mail within ${timeoutMs} ms (got ${this.mails.length})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** All mails sent to an address so far. */
  to(address: string): CapturedMail[] {
    return this.mails.filter((mail) => mail.to.includes(address));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private receive(mail: CapturedMail): void {
    this.mails.push(mail);
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((wake) => wake());
  }
}

/** The 6-digit code in a verification mail. */
export function codeIn(mail: CapturedMail): string {
  const match = /^\s+(\d{6})\s*$/m.exec(mail.text);
  if (!match) {
    throw new Error(`no code in mail: ${mail.subject}`);
  }
  return match[1];
}

/** The reset token in a reset mail's link, and the link itself. */
export function resetLinkIn(mail: CapturedMail): { href: string; token: string } {
  const match = /(\S+\/reset\?token=([A-Za-z0-9_%-]+))/.exec(mail.text);
  if (!match) {
    throw new Error(`no reset link in mail: ${mail.subject}`);
  }
  return { href: match[1], token: decodeURIComponent(match[2]) };
}

/** An SMTP sink for a describe block: started in beforeAll (register it before the app), closed in afterAll. */
export function useSmtpSink(): { readonly sink: SmtpSink } {
  let sink: SmtpSink | undefined;
  beforeAll(async () => {
    sink = await SmtpSink.start();
  });
  afterAll(async () => {
    await sink?.close();
  });
  return {
    get sink(): SmtpSink {
      if (!sink) {
        throw new Error('the SMTP sink is not running (use it inside a test)');
      }
      return sink;
    },
  };
}

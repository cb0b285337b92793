import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { type AppConfig, appConfig } from '../config/configuration';
import { MailComposers } from './mail-composers';
import { LogTransport, MailTransport, SmtpTransport } from './mail.transport';
import { OutboxMailEntity } from './outbox-mail.entity';
import { OutboxRepository } from './outbox.repository';
import { OutboxService } from './outbox.service';
import { OutboxWorker } from './outbox.worker';

@Module({
  imports: [TypeOrmModule.forFeature([OutboxMailEntity])],
  providers: [
    {
      provide: MailTransport,
      inject: [appConfig.KEY],
      useFactory: (config: AppConfig): MailTransport =>
        config.mail.url ? new SmtpTransport(config.mail.url) : new LogTransport(),
    },
    MailComposers,
    OutboxRepository,
    OutboxWorker,
    OutboxService,
  ],
  exports: [OutboxService, MailComposers],
})
export class MailModule {}

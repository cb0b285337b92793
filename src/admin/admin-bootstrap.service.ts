import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { type AppConfig, InjectAppConfig } from '../config/configuration';
import { AdminService } from './admin.service';

/** With ADMIN_EMAIL and ADMIN_PASSWORD set, that administrator exists once the service has started. */
@Injectable()
export class AdminBootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Admin');

  constructor(
    private readonly admin: AdminService,
    @InjectAppConfig() private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.admin) {
      return;
    }
    const user = await this.admin.ensureAdmin(
      this.config.admin.email,
      this.config.admin.password,
      'bootstrap',
    );
    this.logger.log(`administrator ${user.email} is in place`);
  }
}

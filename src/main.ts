import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.setup';
import { type AppConfig, ConfigError, loadConfig } from './config/configuration';

async function bootstrap(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  new Logger('Bootstrap').log(
    `listening on ${await app.getUrl()} (database: ${config.databaseUrl ? 'PostgreSQL' : `embedded, ${config.dataDir}/pgdata`}); API docs at /docs`,
  );
}

bootstrap().catch((error: unknown) => {
  console.error(`Start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

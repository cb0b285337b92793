import 'reflect-metadata';
import { INestApplication, Logger } from '@nestjs/common';
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { runPrimary } from './cluster';
import { createApp } from './app.setup';
import { tuneGarbageCollection } from './common/garbage-collection';
import { sizeThreadpool } from './config/threadpool';
import { type AppConfig, ConfigError, loadConfig } from './config/configuration';

async function bootstrap(): Promise<void> {
  tuneGarbageCollection();
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
  // Before anything starts libuv's thread pool (see sizeThreadpool). The configuration Nest
  // injects is loaded again from the environment, later: it reads the size the variable now gives.
  config = {
    ...config,
    hashing: { ...config.hashing, threads: sizeThreadpool(config.hashing.concurrency) },
  };
  if (config.workers > 1 && cluster.isPrimary) {
    await runPrimary(config);
    return;
  }
  const app = await createApp(config);
  closeOnSignals(app, config.shutdownTimeoutSeconds);
  await app.listen(config.port, config.host);
  new Logger('Bootstrap').log(
    `listening on ${await app.getUrl()} (database: ${config.databaseUrl ? 'PostgreSQL' : `embedded, ${config.dataDir}/pgdata`}); API docs at /docs`,
  );
}

/**
 * SIGTERM or SIGINT: stop accepting connections, let in-flight requests (a
 * slow sign-in included) finish, close keep-alive connections as they go idle, stop the
 * mail worker, close the database, and exit 0; exit 1 if that takes longer
 * than SHUTDOWN_TIMEOUT_SECONDS. (Nest's own shutdown hooks re-raise the
 * signal after closing, which ends the process with 143 instead of 0.)
 */
function closeOnSignals(app: INestApplication, timeoutSeconds: number): void {
  const logger = new Logger('Shutdown');
  let closing = false;
  const close = (signal: NodeJS.Signals) => {
    if (closing) {
      return;
    }
    closing = true;
    logger.log(`${signal}: finishing in-flight requests, then closing`);
    setTimeout(() => {
      logger.error(`still closing after ${timeoutSeconds} s; exiting`);
      process.exit(1);
    }, timeoutSeconds * 1000).unref();
    // server.close() drops the connections idle at that moment; a keep-alive
    // connection still busy with a request goes idle later and would hold the
    // close until its keep-alive timeout, so sweep the idle ones until done.
    const server = app.getHttpServer() as Server;
    setInterval(() => server.closeIdleConnections(), 100).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(`closing failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
}

bootstrap().catch((error: unknown) => {
  console.error(`Start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

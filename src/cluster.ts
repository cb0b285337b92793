import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import pino from 'pino';
import { AggregatorRegistry } from 'prom-client';
import type { AppConfig } from './config/configuration';
import { serveMetrics } from './metrics/metrics.service';

/** A worker that dies after it started is replaced after this long (a crash loop stays slow). */
const RESTART_DELAY_MS = 1000;

/**
 * WORKERS > 1: this process becomes the cluster's primary. It forks that many
 * workers, each the whole service (they share PORT through node:cluster, and
 * the database and Redis like separate instances do), replaces a worker that
 * dies, serves the workers' summed metrics on METRICS_PORT, and on SIGTERM or
 * SIGINT passes the signal on and exits once every worker has finished (0,
 * or 1 if one did not close cleanly). If a worker fails while starting, the
 * configuration or the database is wrong for all of them: everything stops
 * with exit code 1 rather than restarting forever.
 */
export async function runPrimary(config: AppConfig): Promise<void> {
  const log = pino({ level: config.logLevel }).child({ context: 'Cluster' });
  const started = new WeakSet<Worker>();
  let stopping = false;
  let exitCode = 0;
  let metricsServer: Server | null = null;

  let listening = 0;
  const fork = () => {
    const worker = cluster.fork();
    worker.once('listening', () => {
      started.add(worker);
      listening += 1;
      if (listening === config.workers) {
        log.info(`all ${config.workers} workers are listening`);
      }
    });
  };

  const finishIfDone = () => {
    if (Object.keys(cluster.workers ?? {}).length > 0) {
      return;
    }
    log.info(`all workers have stopped; exiting with ${exitCode}`);
    if (metricsServer) {
      metricsServer.close();
    }
    process.exit(exitCode);
  };

  const stop = (code: number, why: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    exitCode = code;
    log.info(`${why}: stopping the workers`);
    for (const worker of Object.values(cluster.workers ?? {})) {
      worker?.process.kill('SIGTERM');
    }
    setTimeout(
      () => {
        log.error('workers still running after the shutdown timeout; exiting');
        process.exit(1);
      },
      (config.shutdownTimeoutSeconds + 5) * 1000,
    ).unref();
    finishIfDone();
  };

  cluster.on('exit', (worker, code, signal) => {
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (stopping) {
      if (code !== 0) {
        exitCode = 1;
      }
      finishIfDone();
      return;
    }
    if (!started.has(worker)) {
      log.error(`worker ${worker.process.pid} exited while starting (${how})`);
      stop(1, 'a worker could not start');
      return;
    }
    log.warn(`worker ${worker.process.pid} exited (${how}); starting another`);
    setTimeout(() => stopping || fork(), RESTART_DELAY_MS);
  });
  process.once('SIGTERM', () => stop(0, 'SIGTERM'));
  process.once('SIGINT', () => stop(0, 'SIGINT'));

  log.info(`starting ${config.workers} workers on port ${config.port}`);
  for (let i = 0; i < config.workers; i++) {
    fork();
  }
  if (config.metricsPort !== null) {
    const aggregator = new AggregatorRegistry();
    metricsServer = await serveMetrics(
      config.metricsPort,
      config.host,
      async () => ({
        contentType: aggregator.contentType,
        body: await aggregator.clusterMetrics(),
      }),
      (level, message) => log[level](message),
    );
  } else {
    log.warn('WORKERS > 1 without METRICS_PORT: /metrics is not served (set METRICS_PORT)');
  }
}

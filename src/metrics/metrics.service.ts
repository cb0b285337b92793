import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import cluster from 'node:cluster';
import { createServer, type Server } from 'node:http';
import {
  AggregatorRegistry,
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
} from 'prom-client';
import { DataSource } from 'typeorm';
import { type AppConfig, InjectAppConfig } from '../config/configuration';
import { poolOf } from '../database/database.options';

type RequestLabel = 'method' | 'route' | 'status';

/** How a sign-in (or its second step) was made: the audit's and the metrics' `method`. */
export type SignInMethod =
  'password' | 'secret' | 'totp' | 'recovery_code' | 'passkey' | `oidc:${string}`;
/** `succeeded`, or the problem code the sign-in was refused with (`invalid_credentials`, `rate_limited`, …). */
export type SignInOutcome = string;

/** What the metrics need to read from other modules at scrape time. */
export interface MetricsSources {
  hashing?: () => { active: number; waiting: number };
  outboxPending?: () => Promise<number>;
}

/** Seconds: from a fast profile read to a slow sign-in under load. */
const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Prometheus metrics (prom-client), one registry per application: requests
 * by route and status with their latency, sign-in outcomes, refresh-token
 * reuse, the hashing queue, the database pool, the mail outbox backlog, and
 * Node's own process metrics. Served at `/metrics` on PORT, or on a port of
 * its own with METRICS_PORT; in a cluster (WORKERS > 1) the primary serves
 * the sum over its workers on METRICS_PORT.
 */
@Injectable()
export class MetricsService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly registry = new Registry();
  private readonly logger = new Logger('Metrics');
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route' | 'status'>;
  private readonly signIns: Counter<'method' | 'outcome'>;
  private readonly reuse: Counter;
  /** Label children by "method route status": prom-client would hash the labels on every request. */
  private readonly perRoute = new Map<
    string,
    { count: Counter.Internal; latency: Histogram.Internal<RequestLabel> }
  >();
  private sources: MetricsSources = {};
  private server: Server | null = null;

  constructor(
    @InjectAppConfig() private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from the request to the end of its response, by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.signIns = new Counter({
      name: 'auth_sign_ins_total',
      help: 'Sign-in attempts by method and outcome (succeeded, or the refusal code)',
      labelNames: ['method', 'outcome'],
      registers,
    });
    this.reuse = new Counter({
      name: 'auth_refresh_token_reuse_total',
      help: 'Spent refresh tokens presented again: each revoked its session',
      registers,
    });
    const sources = () => this.sources;
    new Gauge({
      name: 'auth_hashing_in_progress',
      help: 'Password hashes handed to the hashing threads: being computed, or next in their queue',
      registers,
      collect() {
        this.set(sources().hashing?.().active ?? 0);
      },
    });
    new Gauge({
      name: 'auth_hashing_queue_depth',
      help: 'Password hashes waiting for a free hashing slot',
      registers,
      collect() {
        this.set(sources().hashing?.().waiting ?? 0);
      },
    });
    const pool = () => poolOf(this.dataSource);
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections: open (total), idle, and requests waiting for one',
      labelNames: ['state'],
      registers,
      collect() {
        const current = pool();
        if (current) {
          this.set({ state: 'total' }, current.totalCount);
          this.set({ state: 'idle' }, current.idleCount);
          this.set({ state: 'waiting' }, current.waitingCount);
        }
      },
    });
    new Gauge({
      name: 'db_pool_max_connections',
      help: 'The most connections the database pool opens (DATABASE_POOL_SIZE)',
      registers,
      collect() {
        this.set(pool()?.options.max ?? 0);
      },
    });
    const backlog = () => this.outboxBacklog();
    new Gauge({
      name: 'mail_outbox_pending',
      help: 'Mails waiting for delivery (shared by every instance: the cluster total is the largest figure, not the sum)',
      registers,
      aggregator: 'max',
      async collect() {
        const pending = await backlog();
        if (pending !== null) {
          this.set(pending);
        }
      },
    });
    if (cluster.isWorker) {
      // The primary asks each worker for this registry and serves the sum.
      AggregatorRegistry.setRegistries([this.registry]);
      // A worker answers those requests once an AggregatorRegistry exists in it (prom-client's cluster.js).
      new AggregatorRegistry();
    }
  }

  /** Called by the modules that own the figures (so that this one imports none of them). */
  readFrom(sources: MetricsSources): void {
    this.sources = { ...this.sources, ...sources };
  }

  observeRequest(
    method: string,
    route: string | undefined,
    status: number,
    elapsedMs: number,
  ): void {
    // Unmatched URLs (404s) share one label, so scanners cannot grow the series without bound.
    const template = route ?? 'unmatched';
    const key = `${method} ${template} ${status}`;
    let children = this.perRoute.get(key);
    if (!children) {
      const labels = { method, route: template, status: String(status) };
      children = { count: this.requests.labels(labels), latency: this.latency.labels(labels) };
      this.perRoute.set(key, children);
    }
    children.count.inc();
    children.latency.observe(elapsedMs / 1000);
  }

  signIn(method: SignInMethod, outcome: SignInOutcome): void {
    this.signIns.inc({ method, outcome });
  }

  refreshReuseDetected(): void {
    this.reuse.inc();
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** With METRICS_PORT (and no cluster primary to do it), /metrics gets a listener of its own. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.metricsPort === null || cluster.isWorker) {
      return;
    }
    this.server = await serveMetrics(
      this.config.metricsPort,
      this.config.host,
      () => this.exposition(),
      (level, message) =>
        level === 'info' ? this.logger.log(message) : this.logger.error(message),
    );
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private async outboxBacklog(): Promise<number | null> {
    try {
      return (await this.sources.outboxPending?.()) ?? null;
    } catch {
      // The database is away: the figure is left out of this scrape, the rest still answers.
      return null;
    }
  }
}

/** A bare HTTP listener answering GET /metrics (and 404 for anything else). */
export function serveMetrics(
  port: number,
  host: string,
  exposition: () => Promise<{ contentType: string; body: string }>,
  report: (level: 'info' | 'error', message: string) => void,
): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    exposition().then(
      ({ contentType, body }) => response.writeHead(200, { 'Content-Type': contentType }).end(body),
      (error: unknown) => {
        report(
          'error',
          `metrics failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        response.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics failed\n');
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      report('info', `metrics at http://${host}:${port}/metrics`);
      resolve(server);
    });
  });
}

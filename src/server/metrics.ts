/**
 * Prometheus metrics of the service (prom-client), served at `GET /metrics` to a read token (every
 * route but the probes is authenticated; Prometheus sends it with `authorization: credentials`):
 * HTTP requests by route and status, scan durations by backend and outcome, queue depth per job
 * state and webhook deliveries per status (both read from the app database at scrape time, so
 * they count every worker process sharing it), and the process's own default metrics.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { JobQueue } from '../store/jobs.js';
import type { Store } from '../store/open-store.js';
import { WebhookStore } from '../store/webhooks.js';

export interface ServiceMetrics {
  readonly registry: Registry;
  /** Records one finished scan (the worker's hook). */
  scanDone(info: { backend: string; outcome: string; seconds: number }): void;
}

/** A metrics registry of its own (not prom-client's global one), so several services in one process do not collide. */
export function createMetrics(store: Store): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'portcullis_' });
  const queue = new JobQueue(store);
  const webhooks = new WebhookStore(store);
  new Gauge({
    name: 'portcullis_jobs',
    help: 'Jobs in the durable queue, per state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      for (const [state, n] of Object.entries(await queue.counts())) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'portcullis_webhook_deliveries',
    help: 'Outgoing webhook deliveries, per status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      for (const [status, n] of Object.entries(await webhooks.counts())) this.set({ status }, n);
    },
  });
  const scans = new Histogram({
    name: 'portcullis_scan_duration_seconds',
    help: 'Time from claiming a scan job to its stored outcome, per backend and outcome',
    labelNames: ['backend', 'outcome'],
    buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
    registers: [registry],
  });
  return { registry, scanDone: ({ backend, outcome, seconds }) => scans.observe({ backend, outcome }, seconds) };
}

/** Counts every answered request by method, route pattern (never the raw URL) and status, and serves `GET /metrics`. */
export function metricsRoutes(app: FastifyInstance, metrics: ServiceMetrics): void {
  const requests = new Counter({ name: 'portcullis_http_requests_total', help: 'HTTP requests answered', labelNames: ['method', 'route', 'status'], registers: [metrics.registry] });
  const durations = new Histogram({ name: 'portcullis_http_request_duration_seconds', help: 'HTTP request durations', labelNames: ['method', 'route'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [metrics.registry] });
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern keeps label values bounded; an unknown URL counts as one label.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    durations.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { config: { access: 'read', anonymousRead: false }, schema: { hide: true } }, async (_request, reply) => {
    void reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

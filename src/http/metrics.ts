import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** sparsam's Prometheus metrics. Labels are route patterns, channel ids and outcomes only: never personal data. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sparsam_' });
  const httpRequests = new Histogram({
    name: 'sparsam_http_request_duration_seconds',
    help: 'HTTP request duration by route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const webhooks = new Counter({
    name: 'sparsam_webhooks_total',
    help: 'Webhook requests by channel kind and result',
    labelNames: ['kind', 'result'] as const,
    registers: [registry],
  });
  return { registry, httpRequests, webhooks };
}

export type Metrics = ReturnType<typeof createMetrics>;

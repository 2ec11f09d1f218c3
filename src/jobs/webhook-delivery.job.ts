import { WEBHOOK_DELIVERY, type WebhookJobPayload, type WebhookService } from '../core/webhooks/webhook.service.ts';
import type { JobQueue } from './job-queue.ts';
import { RetryLater } from './job-errors.ts';

/**
 * Registers the 'webhook-delivery' queue: each job is one event for one endpoint; a failed attempt comes back after
 * the policy's delay (RetryLater), so the queue's generic backoff does not apply. A daily job prunes the delivery log.
 */
export function registerWebhookDelivery(
  jobs: JobQueue,
  webhooks: WebhookService,
  options: { concurrency?: number } = {},
) {
  jobs.register<WebhookJobPayload>(
    WEBHOOK_DELIVERY,
    async (job) => {
      if (typeof job.payload.endpointId !== 'string' || typeof job.payload.eventId !== 'string') return;
      const next = await webhooks.deliver(job.payload, job.attempts);
      if (next) throw new RetryLater(next.retryInMs, 'webhook endpoint did not accept');
    },
    { concurrency: options.concurrency ?? 4 },
  );
  jobs.register('webhook-log-prune', async () => {
    await webhooks.pruneLog();
  });
  jobs.every('webhook-log-prune', 6 * 3_600_000);
}

import nodemailer from 'nodemailer';
import webpush from 'web-push';
import {
  NOTIFY_DISPATCH,
  NOTIFY_EMAIL,
  NOTIFY_PUSH,
  type NotificationService,
} from '../core/notifications/notification.service.ts';
import type {
  MailGateway,
  PushGateway,
  PushSubscriptionData,
  SmtpSettings,
  VapidKeys,
} from '../core/ports/notification.port.ts';
import { PermanentFailure } from './job-errors.ts';
import type { JobQueue } from './job-queue.ts';

/** A push service answered with a status that is worth a retry (429, 5xx) or not (other 4xx). */
export class PushRejected extends Error {
  constructor(readonly status: number) {
    super(`push service answered ${status}`);
    this.name = 'PushRejected';
  }
}

/**
 * Web Push with the `web-push` library: it builds the request (aes128gcm encryption of the payload with the
 * subscription's keys, the VAPID JWT signed with our private key); Node's fetch sends it, with a time limit.
 */
export function webPushGateway(options: { fetch?: typeof fetch; timeoutMs?: number } = {}): PushGateway {
  const send = options.fetch ?? globalThis.fetch;
  return {
    generateVapidKeys: () => webpush.generateVAPIDKeys(),
    async send(subscription: PushSubscriptionData, payload: string, vapid: VapidKeys) {
      const request = webpush.generateRequestDetails(subscription, payload, {
        vapidDetails: { subject: vapid.subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
        TTL: 24 * 3600,
        urgency: 'high',
        contentEncoding: 'aes128gcm',
      });
      const response = await send(request.endpoint, {
        method: request.method,
        headers: request.headers as Record<string, string>,
        body: request.body ?? null,
        signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
        redirect: 'error',
      });
      await response.body?.cancel();
      if (response.status === 404 || response.status === 410) return 'gone';
      if (response.ok) return 'sent';
      throw new PushRejected(response.status);
    },
  };
}

/** E-mail over SMTP with nodemailer: one connection per message (notifications are few), TLS verified. */
export function smtpMailGateway(options: { tls?: { rejectUnauthorized?: boolean } } = {}): MailGateway {
  return {
    async send(smtp: SmtpSettings, mail) {
      const transport = nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.secure,
        auth: smtp.user ? { user: smtp.user, pass: smtp.password } : undefined,
        connectionTimeout: 15_000,
        greetingTimeout: 15_000,
        socketTimeout: 30_000,
        tls: options.tls,
      });
      try {
        await transport.sendMail({ from: smtp.from, to: mail.to, subject: mail.subject, text: mail.text });
      } finally {
        transport.close();
      }
    },
  };
}

/** The notification jobs: dispatch (who is concerned), push (one device), e-mail (one person); retried on failure. */
export function registerNotificationJobs(jobs: JobQueue, notifications: NotificationService): void {
  jobs.register(NOTIFY_DISPATCH, async (job) => {
    await notifications.dispatch(job.payload);
  });
  jobs.register(
    NOTIFY_PUSH,
    async (job) => {
      try {
        await notifications.deliverPush(job.payload);
      } catch (error) {
        if (error instanceof PushRejected) {
          // Rate limits and server errors are retried with the queue's backoff; any other answer will not change.
          if (error.status !== 429 && error.status < 500) throw new PermanentFailure(error.message);
        }
        throw error;
      }
    },
    { concurrency: 4 },
  );
  jobs.register(NOTIFY_EMAIL, async (job) => {
    await notifications.deliverEmail(job.payload);
  });
}

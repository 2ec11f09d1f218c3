import { createECDH } from 'node:crypto';
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
 * nodemailer and web-push (with their ASN.1 and JWT dependencies, about 15 MiB together) are loaded with the first
 * e-mail or push message, not at every start: most installations send few notifications, or none.
 */
let webpushModule: Promise<typeof import('web-push')> | undefined;
let nodemailerModule: Promise<typeof import('nodemailer')> | undefined;
const loadWebPush = async () => {
  const module = await (webpushModule ??= import('web-push'));
  // A CommonJS module: its exports are the namespace's default under Node, the namespace itself in the types.
  return (module as { default?: typeof module }).default ?? module;
};
const loadNodemailer = async () => (await (nodemailerModule ??= import('nodemailer'))).default;

/**
 * A VAPID key pair as web-push's generateVAPIDKeys makes it (P-256; the public key uncompressed, 65 bytes, the
 * private key 32 bytes; both base64url), made with node:crypto so that the first start does not load web-push.
 */
export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  const curve = createECDH('prime256v1');
  curve.generateKeys();
  const pad = (key: Buffer, size: number) =>
    key.length < size ? Buffer.concat([Buffer.alloc(size - key.length), key]) : key;
  return {
    publicKey: pad(curve.getPublicKey(), 65).toString('base64url'),
    privateKey: pad(curve.getPrivateKey(), 32).toString('base64url'),
  };
}

/**
 * Web Push with the `web-push` library: it builds the request (aes128gcm encryption of the payload with the
 * subscription's keys, the VAPID JWT signed with our private key); Node's fetch sends it, with a time limit.
 */
export function webPushGateway(options: { fetch?: typeof fetch; timeoutMs?: number } = {}): PushGateway {
  const send = options.fetch ?? globalThis.fetch;
  return {
    generateVapidKeys,
    async send(subscription: PushSubscriptionData, payload: string, vapid: VapidKeys) {
      const webpush = await loadWebPush();
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
      const nodemailer = await loadNodemailer();
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

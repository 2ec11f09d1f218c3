import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { signWhatsAppBody } from '../../src/channels/whatsapp-cloud/whatsapp-cloud.signature.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createSparsam, type Sparsam } from '../../src/main.ts';
import { ManualClock, type Clock } from '../../src/shared/clock.ts';
import { createLogger } from '../../src/shared/logger.ts';
import type { SqlDialectName } from '../../src/store/store.ts';
import { openTestStore, type TestStore } from '../support/stores.ts';

/**
 * A running sparsam with one WhatsApp Cloud channel whose Graph API is a local stand-in: what sparsam sends is
 * recorded, media can be served, and webhooks are signed with the channel's app secret like Meta signs them.
 */

export const PHONE_NUMBER_ID = '106540352242922';
export const APP_SECRET = 'test-app-secret-0123456789';
export const VERIFY_TOKEN = 'test-verify-token';
export const ORG_CONTACT = 'datenschutz@autohaus.example';
export const D360_SECRET = 'd360-webhook-secret-0123456789';

export interface GraphSend {
  to: string | undefined;
  type: string;
  body: Record<string, unknown>;
  id: string;
}

export interface GraphStand {
  url: string;
  sends: GraphSend[];
  media: Map<string, { data: Buffer; mime: string }>;
  mediaRequests: number;
  /**
   * Runs after a send was accepted and before the answer goes back to sparsam: the moment at which the real provider
   * may already report the message's status, while sparsam has not stored the provider's id yet.
   */
  beforeAnswer: ((send: GraphSend) => Promise<void>) | undefined;
  close(): Promise<void>;
}

let wamidSeq = 0;

export async function startGraphStand(): Promise<GraphStand> {
  const app: FastifyInstance = Fastify({ logger: false });
  const stand: GraphStand = {
    url: '',
    sends: [],
    media: new Map(),
    mediaRequests: 0,
    beforeAnswer: undefined,
    close: () => app.close(),
  };
  app.post('/:version/:pnid/messages', async (request) => {
    const body = request.body as Record<string, unknown>;
    if (body.status === 'read') return { success: true };
    const id = `wamid.OUT${++wamidSeq}`;
    const send = { to: body.to as string | undefined, type: String(body.type), body, id };
    stand.sends.push(send);
    await stand.beforeAnswer?.(send);
    return { messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: body.to }], messages: [{ id }] };
  });
  app.get('/:version/:mediaId', async (request, reply) => {
    const { mediaId } = request.params as { mediaId: string };
    const file = stand.media.get(mediaId);
    if (!file) return reply.code(404).send({ error: { message: 'unknown media', code: 100 } });
    return {
      messaging_product: 'whatsapp',
      url: `${stand.url}/files/${mediaId}`,
      mime_type: file.mime,
      file_size: String(file.data.length),
      id: mediaId,
    };
  });
  app.get('/files/:mediaId', async (request, reply) => {
    stand.mediaRequests += 1;
    const file = stand.media.get((request.params as { mediaId: string }).mediaId);
    if (!file) return reply.code(404).send('no');
    return reply.type(file.mime).send(file.data);
  });
  stand.url = await app.listen({ port: 0, host: '127.0.0.1' });
  return stand;
}

export interface WorldOptions {
  eraseAfterCloseDays?: number;
  consentTimeoutHours?: number;
  media?: 'strip' | 'reject' | 'allow';
  language?: 'de' | 'en';
  clock?: Clock;
  channelEnabled?: boolean;
  graphUrl?: string;
  /** Adds a 360dialog channel `d360-main` (webhook secret {@link D360_SECRET}) on the same inbox. */
  dialog360?: boolean;
  /** Rewrites the configuration text before it is loaded (extra inbox settings or templates for a suite). */
  editYaml?: (yaml: string) => string;
  /** Accept push subscriptions on 127.0.0.1 (the notification tests' local push service). */
  allowLoopbackPushEndpoints?: boolean;
}

export interface World {
  dialect: SqlDialectName;
  sparsam: Sparsam;
  graph: GraphStand;
  clock: ManualClock;
  logs: string[];
  dataDir: string;
  adminToken: string;
  agentToken: string;
  dpoToken: string;
  /** POSTs a signed webhook with the exact bytes given. */
  webhook(body: unknown, options?: { signature?: string | null; channel?: string }): Promise<LightMyRequestResponse>;
  api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, token?: string): Promise<LightMyRequestResponse>;
  /** Runs the job queue until nothing is due. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export async function startWorld(dialect: SqlDialectName, options: WorldOptions = {}): Promise<World> {
  const t: TestStore = await openTestStore(dialect);
  await t.store.close();
  const graph = await startGraphStand();
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock(Date.UTC(2026, 10, 23, 9, 0, 0));
  const yaml = `
organisation:
  name: Autohaus Beispiel GmbH
  contact: ${ORG_CONTACT}
inboxes:
  - id: service
    labelPrefix: Anfrage
    language: ${options.language ?? 'de'}
    retention:
      consentTimeoutHours: ${options.consentTimeoutHours ?? 24}
      autoCloseAfterDays: 14
      eraseAfterCloseDays: ${options.eraseAfterCloseDays ?? 0}
    media: ${options.media ?? 'strip'}
channels:
  - id: wa-main
    kind: whatsapp-cloud
    inbox: service
    enabled: ${options.channelEnabled ?? true}
    phoneNumberId: "${PHONE_NUMBER_ID}"
    accessToken: test-access-token
    appSecret: ${APP_SECRET}
    verifyToken: ${VERIFY_TOKEN}
    graphBaseUrl: ${options.graphUrl ?? graph.url}
    templates:
      - name: appointment_reminder
        language: de
        category: UTILITY
        body: "Guten Tag, Ihr Termin ist am {{1}} um {{2}}."
${
  options.dialog360
    ? `  - id: d360-main
    kind: dialog360
    inbox: service
    phoneNumberId: "${PHONE_NUMBER_ID}"
    apiKey: test-d360-key
    webhookSecret: ${D360_SECRET}
    apiBaseUrl: ${options.graphUrl ?? graph.url}
`
    : ''
}`;
  const config = loadConfig({
    env: { ...t.env, SPARSAM_CONFIG: '/virtual/sparsam.yaml', SPARSAM_LOG_LEVEL: 'info' },
    readFile: () => (options.editYaml ? options.editYaml(yaml) : yaml),
  });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const sparsam = await createSparsam(config, {
    clock,
    logger: createLogger({ level: 'info', destination }),
    allowLoopbackPushEndpoints: options.allowLoopbackPushEndpoints,
  });
  await sparsam.http.ready();
  const adminToken = (await sparsam.accounts.createApiToken('test-admin', 'admin')).token;
  const agentToken = (await sparsam.accounts.createApiToken('test-agent', 'agent')).token;
  const dpoToken = (await sparsam.accounts.createApiToken('test-dpo', 'dpo')).token;
  return {
    dialect,
    sparsam,
    graph,
    clock,
    logs,
    dataDir: t.dataDir,
    adminToken,
    agentToken,
    dpoToken,
    webhook(body, opts = {}) {
      const raw = typeof body === 'string' ? body : JSON.stringify(body);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (opts.signature !== null) headers['x-hub-signature-256'] = opts.signature ?? signWhatsAppBody(APP_SECRET, raw);
      return sparsam.http.inject({
        method: 'POST',
        url: `/webhooks/whatsapp/${opts.channel ?? 'wa-main'}`,
        payload: raw,
        headers,
      });
    },
    api(method, url, body, token = agentToken) {
      return sparsam.http.inject({
        method,
        url,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
    },
    async drain() {
      await sparsam.jobs.drain();
    },
    async close() {
      await sparsam.close().catch(() => undefined);
      await graph.close();
      await t.cleanup();
    },
  };
}

// ------------------------------------------------------------------------------------------- payloads

export const CUSTOMER = '4915112345678';

function envelope(value: Record<string, unknown>, phoneNumberId = PHONE_NUMBER_ID) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
              ...value,
            },
          },
        ],
      },
    ],
  };
}

const seconds = (clock: Clock) => String(Math.floor(clock.now().getTime() / 1000));

export function textMessage(
  clock: Clock,
  id: string,
  text: string,
  from = CUSTOMER,
  phoneNumberId = PHONE_NUMBER_ID,
): Record<string, unknown> {
  return envelope(
    {
      contacts: [{ profile: { name: 'Erika Mustermann' }, wa_id: from }],
      messages: [{ from, id, timestamp: seconds(clock), type: 'text', text: { body: text } }],
    },
    phoneNumberId,
  );
}

/** Several text messages from several customers in one webhook, as Meta batches them. */
export function textBatch(clock: Clock, items: { id: string; text: string; from: string }[]): Record<string, unknown> {
  return envelope({
    contacts: [...new Set(items.map((i) => i.from))].map((from) => ({ profile: { name: 'Kunde' }, wa_id: from })),
    messages: items.map((i) => ({
      from: i.from,
      id: i.id,
      timestamp: seconds(clock),
      type: 'text',
      text: { body: i.text },
    })),
  });
}

export function buttonReply(clock: Clock, id: string, buttonId: string, title: string, from = CUSTOMER) {
  return envelope({
    contacts: [{ profile: { name: 'Erika Mustermann' }, wa_id: from }],
    messages: [
      {
        from,
        id,
        timestamp: seconds(clock),
        type: 'interactive',
        interactive: { type: 'button_reply', button_reply: { id: buttonId, title } },
      },
    ],
  });
}

export function imageMessage(clock: Clock, id: string, mediaId: string, from = CUSTOMER) {
  return envelope({
    contacts: [{ profile: { name: 'Erika Mustermann' }, wa_id: from }],
    messages: [
      {
        from,
        id,
        timestamp: seconds(clock),
        type: 'image',
        image: { id: mediaId, mime_type: 'image/jpeg', sha256: 'abc=', caption: 'Kratzer an der Tür' },
      },
    ],
  });
}

export function statusUpdate(
  clock: Clock,
  wamid: string,
  status: 'sent' | 'delivered' | 'read' | 'failed',
  recipient = CUSTOMER,
  error?: { code: number; title: string; details: string },
) {
  return envelope({
    statuses: [
      {
        id: wamid,
        status,
        timestamp: seconds(clock),
        recipient_id: recipient,
        ...(error
          ? {
              errors: [
                { code: error.code, title: error.title, message: error.title, error_data: { details: error.details } },
              ],
            }
          : {}),
      },
    ],
  });
}

export function editMessage(clock: Clock, id: string, originalId: string, text: string, from = CUSTOMER) {
  return envelope({
    contacts: [{ profile: { name: 'Erika Mustermann' }, wa_id: from }],
    messages: [
      {
        from,
        id,
        timestamp: seconds(clock),
        type: 'edit',
        edit: { original_message_id: originalId, message: { type: 'text', text: { body: text } } },
      },
    ],
  });
}

export function revokeMessage(clock: Clock, id: string, originalId: string, from = CUSTOMER) {
  return envelope({
    contacts: [{ profile: { name: 'Erika Mustermann' }, wa_id: from }],
    messages: [{ from, id, timestamp: seconds(clock), type: 'revoke', revoke: { original_message_id: originalId } }],
  });
}

export function changedNumber(clock: Clock, id: string, from: string, newNumber: string) {
  return envelope({
    messages: [
      {
        from,
        id,
        timestamp: seconds(clock),
        type: 'system',
        system: {
          body: `User ${from} changed from ${from} to ${newNumber}`,
          wa_id: newNumber,
          type: 'user_changed_number',
        },
      },
    ],
  });
}

/** A temp dir for tests that need one; removed by the returned function. */
export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'sparsam-inbox-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

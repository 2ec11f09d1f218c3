import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Channel } from '../../src/core/channel/channel.port.ts';
import {
  createWhatsAppCloudChannel,
  type WhatsAppCloudChannelConfig,
} from '../../src/channels/whatsapp-cloud/whatsapp-cloud.channel.ts';
import { channelSchema } from '../../src/config/config.schema.ts';
import { LocalInboxEventBus, type InboxEvent } from '../../src/core/inbox/inbox-events.ts';
import { messageStamp } from '../../src/core/inbox/inbox.ports.ts';
import { sealMessageContent, type MessageContent } from '../../src/core/inbox/message-content.ts';
import { Outbox } from '../../src/core/inbox/outbox.ts';
import { KeyService } from '../../src/core/privacy/keys/key.service.ts';
import { ProviderRefs } from '../../src/store/sql/provider-ref.ts';
import { channelKindFacts } from '../../src/channels/registry.ts';
import { ContactDirectory } from '../../src/core/privacy/pseudonym/contact-directory.ts';
import { JobQueue } from '../../src/jobs/job-queue.ts';
import { registerOutboundSend } from '../../src/jobs/outbound-send.job.ts';
import type { Pacer } from '../../src/jobs/pacer.ts';
import { SendPacer } from '../../src/jobs/send-pacer.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { newId } from '../../src/shared/ids.ts';
import type { ContactRecord, ConversationRecord, MessageRecord } from '../../src/core/ports/model.ts';
import { conversationRow, toMessage } from '../../src/store/sql/records.ts';
import type { Store } from '../../src/store/store.ts';
import { ContactStore } from '../../src/store/sql/contact.store.ts';
import { SqlInboxTransactions } from '../../src/store/sql/conversation.store.ts';
import { JobStore } from '../../src/store/sql/job.store.ts';
import { KeyStore } from '../../src/store/sql/key.store.ts';
import { OutboundStore } from '../../src/store/sql/outbound.store.ts';

export const PHONE_NUMBER_ID = '106540352242922';
export const CUSTOMER = '4915112345678';

/** What the Graph stub received: one entry per POST to /messages. */
export interface GraphCall {
  at: number;
  body: Record<string, unknown>;
  status: number;
  /** What the stub answered. */
  answer: unknown;
}

export type GraphAnswer = { status: number; body: unknown; headers?: Record<string, string> };

/**
 * A stand-in for the Graph API's send endpoint (POST /{version}/{phone-number-id}/messages), answering with a
 * programmable script: `answer(n)` gets the 1-based number of the call. Default: 200 with a new wamid.
 */
export async function startGraphStub(
  answer: (n: number, body: Record<string, unknown>) => GraphAnswer | undefined = () => undefined,
): Promise<{ url: string; calls: GraphCall[]; accepted: () => GraphCall[]; close(): Promise<void> }> {
  const app: FastifyInstance = Fastify({ logger: false });
  const calls: GraphCall[] = [];
  app.post('/:version/:phoneNumberId/messages', async (request, reply) => {
    const body = request.body as Record<string, unknown>;
    const scripted = answer(calls.length + 1, body);
    const out: GraphAnswer = scripted ?? {
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        contacts: [{ input: body.to, wa_id: body.to }],
        messages: [{ id: `wamid.${newId()}` }],
      },
    };
    calls.push({ at: performance.now(), body, status: out.status, answer: out.body });
    for (const [k, v] of Object.entries(out.headers ?? {})) reply.header(k, v);
    return reply.code(out.status).send(out.body);
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    calls,
    accepted: () => calls.filter((c) => c.status === 200),
    close: () => app.close(),
  };
}

export function graphError(code: number, details: string, httpStatus = 400): GraphAnswer {
  return {
    status: httpStatus,
    body: {
      error: {
        message: `(#${code}) ${details}`,
        type: 'OAuthException',
        code,
        error_data: { messaging_product: 'whatsapp', details },
        fbtrace_id: 'AbCdEf',
      },
    },
  };
}

export interface OutboundWorld {
  store: Store;
  keys: KeyService;
  directory: ContactDirectory;
  outbound: OutboundStore;
  jobs: JobStore;
  queue: JobQueue;
  channel: Channel;
  events: InboxEvent[];
  inboxId: string;
  channelId: string;
  contact: ContactRecord;
  conversation: ConversationRecord;
  /**
   * Queues an outbound message with this content through the outbox (message and send job); returns the message
   * id. To the world's conversation unless `conversation` names another one (from {@link addConversation}). With
   * `enqueue: false` only the message row is written, without a job: a state no sparsam path leaves, for tests of
   * the send job's own edge cases (they enqueue its job themselves).
   */
  queueMessage(
    content: MessageContent,
    options?: { enqueue?: boolean; conversation?: ConversationRecord },
  ): Promise<string>;
  /** Another consented customer with an open conversation in the same inbox and channel. */
  addConversation(address: string): Promise<ConversationRecord>;
  message(id: string): Promise<MessageRecord | undefined>;
}

/**
 * An inbox, a WhatsApp Cloud channel pointing at `graphUrl`, a consented contact with an open conversation, and a
 * job queue running outbound-send, all as the composition root wires them.
 */
export async function outboundWorld(
  store: Store,
  graphUrl: string,
  options: {
    messagesPerSecond?: number;
    concurrency?: number;
    instanceId?: string;
    keys?: KeyService;
    pacer?: Pacer;
    reuse?: { inboxId: string; channelId: string; contact: ContactRecord; conversation: ConversationRecord };
  } = {},
): Promise<OutboundWorld> {
  const clock = systemClock;
  const keys = options.keys ?? new KeyService(new KeyStore(store.keys), randomBytes(32), clock);
  await keys.init();
  const directory = new ContactDirectory(new ContactStore(store.db), keys, clock, channelKindFacts);
  const inboxId = options.reuse?.inboxId ?? 'service';
  const channelId = options.reuse?.channelId ?? 'wa-main';
  const now = Date.now();
  if (!options.reuse) {
    await store.db
      .insertInto('inboxes')
      .values({
        id: inboxId,
        label_prefix: 'Anfrage',
        language: 'de',
        next_seq: 1,
        settings: '{}',
        created_at: now,
        updated_at: now,
      })
      .execute();
    await store.db
      .insertInto('channels')
      .values({
        id: channelId,
        kind: 'whatsapp-cloud',
        inbox_id: inboxId,
        enabled: 1,
        settings: '{}',
        secrets_enc: null,
        source: 'config',
        created_at: now,
        updated_at: now,
      })
      .execute();
  }
  // Through the config schema, so that defaults of fields added later are filled in as in a real start.
  const config = channelSchema.parse({
    id: channelId,
    kind: 'whatsapp-cloud',
    inbox: inboxId,
    phoneNumberId: PHONE_NUMBER_ID,
    accessToken: 'test-access-token',
    appSecret: 'test-app-secret',
    verifyToken: 'test-verify-token',
    graphBaseUrl: graphUrl,
    messagesPerSecond: options.messagesPerSecond ?? 80,
  }) as WhatsAppCloudChannelConfig;
  const channel = createWhatsAppCloudChannel(config, { fetch: globalThis.fetch });
  let contact: ContactRecord;
  let conversation: ConversationRecord;
  if (options.reuse) {
    ({ contact, conversation } = options.reuse);
  } else {
    ({ contact, conversation } = await openConversation(CUSTOMER));
  }
  async function openConversation(
    address: string,
  ): Promise<{ contact: ContactRecord; conversation: ConversationRecord }> {
    const { contact } = await directory.findOrCreate({
      inboxId,
      channelId,
      channelKind: 'whatsapp-cloud',
      address,
    });
    const now = Date.now();
    const conversation: ConversationRecord = {
      id: newId(),
      inbox_id: inboxId,
      channel_id: channelId,
      contact_id: contact.id,
      label_seq: contact.label_seq,
      state: 'open',
      assignee_id: null,
      labels: [],
      unread: 0,
      created_at: now,
      last_activity_at: now,
      last_inbound_at: now,
      consent_requested_at: null,
      closed_at: null,
      erase_at: null,
      notice_version: null,
    };
    await store.db.insertInto('conversations').values(conversationRow(conversation)).execute();
    return { contact, conversation };
  }
  const bus = new LocalInboxEventBus();
  const events: InboxEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const jobs = new JobStore(store.db, { skipLocked: store.capabilities.skipLocked });
  const queue = new JobQueue({
    store: jobs,
    pollIntervalMs: 20,
    ...(options.instanceId ? { instanceId: options.instanceId } : {}),
  });
  const refs = new ProviderRefs(keys.pepper);
  const outbound = new OutboundStore(store.db, refs);
  const outbox = new Outbox({ clock, transactions: new SqlInboxTransactions(store.db, queue, refs), keys });
  registerOutboundSend(
    queue,
    {
      store: outbound,
      keys,
      contacts: directory,
      channels: { get: (id) => (id === channel.id ? channel : undefined) },
      events: bus,
      pacer: options.pacer ?? new SendPacer(),
      backoff: { baseMs: 20, maxMs: 200 },
    },
    { concurrency: options.concurrency ?? 16 },
  );
  return {
    store,
    keys,
    directory,
    outbound,
    jobs,
    queue,
    channel,
    events,
    inboxId,
    channelId,
    contact,
    conversation,
    async addConversation(address) {
      return (await openConversation(address)).conversation;
    },
    async queueMessage(content, opts = {}) {
      const target = opts.conversation ?? conversation;
      const kind = content.template ? 'template' : 'text';
      if (opts.enqueue !== false) {
        const queued = await outbox.queue([{ conversation: target, kind, content }]);
        return queued![0]!.messageId;
      }
      const id = newId();
      const key = await keys.dataKeyFor('conversation', target.id);
      const at = Date.now();
      await store.db
        .insertInto('messages')
        .values({
          id,
          conversation_id: target.id,
          channel_id: channelId,
          direction: 'out',
          kind,
          provider_message_id: null,
          status: 'queued',
          body_enc: sealMessageContent(key, id, content),
          media_id: null,
          author_id: null,
          error_code: null,
          error_reason: null,
          // As the inbox stamps them: strictly increasing, so that send order follows the order of these calls.
          created_at: messageStamp(at),
          updated_at: at,
          edited: 0,
          deleted: 0,
          handled: 1,
        })
        .execute();
      return id;
    },
    message: async (id) => {
      const row = await store.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toMessage(row);
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await sleep(10);
  }
}

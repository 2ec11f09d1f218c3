import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboxEvent } from '../../src/core/inbox/inbox-events.ts';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { ProviderRefs } from '../../src/store/sql/provider-ref.ts';
import type {
  CustomerMessageInput,
  WebhookDelivery,
  WhatsAppSimulator,
} from '../../dev/simulator/whatsapp-simulator.ts';
import {
  closeInstances,
  configYaml,
  startInstance,
  startWhatsAppSimulator,
  until,
  type Instance,
} from '../support/instances.ts';
import { createPgDatabase, postgresAvailable } from '../support/stores.ts';

/**
 * Two sparsam instances on one PostgreSQL database, as behind a load balancer: a webhook delivered to both is stored
 * once, a message that arrives at one instance reaches live subscribers of the other, and although both run job
 * workers every outbound message leaves once.
 */

const MASTER_KEY = randomBytes(32).toString('base64');

/** A browser's EventSource on GET /api/v1/events, reading the raw stream: its events and everything it received. */
interface EventStream {
  events: { type: string; data: Record<string, unknown> }[];
  raw(): string;
  close(): void;
}

async function openEventStream(url: string, cookie: string): Promise<EventStream> {
  const abort = new AbortController();
  const res = await fetch(`${url}/api/v1/events`, {
    headers: { cookie, accept: 'text/event-stream' },
    signal: abort.signal,
  });
  if (res.status !== 200 || !res.body) throw new Error(`GET /api/v1/events answered ${res.status}`);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: EventStream['events'] = [];
  let raw = '';
  let pending = '';
  const decoder = new TextDecoder();
  let connected!: () => void;
  const ready = new Promise<void>((r) => (connected = r));
  void (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const text = decoder.decode(chunk, { stream: true });
        raw += text;
        pending += text;
        if (raw.includes(': connected')) connected();
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const block = pending.slice(0, end);
          pending = pending.slice(end + 2);
          const type = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (type && data) events.push({ type, data: JSON.parse(data) as Record<string, unknown> });
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  await ready;
  return { events, raw: () => raw, close: () => abort.abort() };
}

describe.runIf(postgresAvailable)('two sparsam instances on one database [postgres]', () => {
  let db: { url: string; drop(): Promise<void> };
  let sim: WhatsAppSimulator;
  let a: Instance;
  let b: Instance;

  const start = (): Promise<Instance> =>
    startInstance({
      yaml: configYaml(sim.url, { retention: true }),
      masterKey: MASTER_KEY,
      databaseUrl: db.url,
      dataDirPrefix: 'sparsam-scale-',
    });

  beforeAll(async () => {
    db = await createPgDatabase();
    sim = await startWhatsAppSimulator({ autoStatuses: false });
    // One after the other: both run the migrations' lock and the config mirror against the same database.
    a = await start();
    b = await start();
  });

  afterAll(async () => {
    await closeInstances(a, b);
    await sim?.close();
    await db?.drop();
  });

  /**
   * The simulator's customer writes and the webhook goes to `to`. The URL is read synchronously when the delivery
   * starts, so calls made one after the other without awaiting go to the instance each names.
   */
  function send(to: Instance, input: CustomerMessageInput): Promise<WebhookDelivery> {
    sim.setWebhookUrl(`${to.url}/webhooks/whatsapp/wa-main`);
    return sim.sendCustomerMessage(input);
  }

  const inboundIds = async () =>
    (
      await a.sparsam.store.db
        .selectFrom('messages')
        .select('provider_message_id')
        .where('direction', '=', 'in')
        .execute()
    ).map((r) => r.provider_message_id);

  it('stores a webhook delivered to both instances once, and many concurrent ones each once with one notice per contact', async () => {
    // The same message delivered to A and B at the same moment, three times each (provider retries hitting both).
    const same = { from: '4915100000001', text: 'Hallo zusammen', id: 'wamid.SAME-AT-BOTH' };
    const twice = await Promise.all([a, b, a, b, a, b].map((i) => send(i, same)));
    expect(twice.map((d) => d.delivered)).toEqual([true, true, true, true, true, true]);

    // 40 different messages from 10 customers, spread over both instances, each redelivered to the other one too.
    const customers = Array.from({ length: 10 }, (_, i) => `49151000001${String(i).padStart(2, '0')}`);
    const messages = Array.from({ length: 40 }, (_, i) => ({
      id: `wamid.SPREAD-${i}`,
      from: customers[i % customers.length]!,
      text: `Nachricht ${i}`,
    }));
    const deliveries = await Promise.all(messages.flatMap((m, i) => [send(i % 2 ? a : b, m), send(i % 2 ? b : a, m)]));
    expect(deliveries.every((d) => d.delivered)).toBe(true);

    const ids = await inboundIds();
    // Provider ids are stored as keyed hashes.
    const refs = new ProviderRefs(a.sparsam.keys.pepper);
    expect(ids.sort()).toEqual(['wamid.SAME-AT-BOTH', ...messages.map((m) => m.id)].map((id) => refs.ref(id)).sort());

    // One consent notice per new contact (11), sent by whichever worker claimed it, never twice.
    const contacts = await a.sparsam.store.db.selectFrom('contacts').select('id').execute();
    expect(contacts).toHaveLength(11);
    await until('11 consent notices', () => sim.sentMessages().length >= 11);
    // Give the other instance's worker time to (wrongly) send one a second time.
    await new Promise((r) => setTimeout(r, 1500));
    const notices = sim.sentMessages();
    expect(sim.refused).toEqual([]);
    expect(notices).toHaveLength(11);
    expect(new Set(notices.map((n) => n.to)).size).toBe(11);
    expect(notices.every((n) => n.buttons?.some((x) => x.id === CONSENT_AGREE_ID))).toBe(true);
  });

  it('an agent logged in at A sees, over the real SSE stream, a message that arrived by webhook at B', async () => {
    // A real login at A: the session cookie as the browser keeps it.
    await b.sparsam.accounts.createUser({
      email: 'lena@autohaus.example',
      password: 'correct horse battery staple',
      role: 'agent',
      displayName: 'Lena',
    });
    const login = await fetch(`${a.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'lena@autohaus.example', password: 'correct horse battery staple' }),
    });
    expect(login.status).toBe(200);
    expect(((await login.json()) as { step: string }).step).toBe('done');
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .find((c) => c.startsWith('sparsam_session='));
    expect(cookie).toBeDefined();

    const stream = await openEventStream(a.url, cookie!);
    try {
      const customer = '4915100000077';
      const text = 'Ist der Wagen schon durch den TÜV?';
      expect((await send(b, { from: customer, text: 'Guten Tag' })).delivered).toBe(true);
      await until('the consent notice', () => sim.sentMessages().some((m) => m.to === customer));
      expect(
        (await send(b, { from: customer, buttonReply: { id: CONSENT_AGREE_ID, title: 'Zustimmen' } })).delivered,
      ).toBe(true);
      expect((await send(b, { from: customer, text, id: 'wamid.SSE-AT-B' })).delivered).toBe(true);
      const row = await a.sparsam.store.db
        .selectFrom('messages')
        .select(['id', 'conversation_id'])
        .where('provider_message_id', '=', new ProviderRefs(a.sparsam.keys.pepper).ref('wamid.SSE-AT-B'))
        .executeTakeFirstOrThrow();

      await until("message.created on A's event stream", () =>
        stream.events.some((e) => e.type === 'message.created' && e.data.messageId === row.id),
      );
      // What the inbox needs to refresh the right list and thread: the type, the inbox, the conversation, the message
      // (and whether someone holds the conversation).
      const event = stream.events.find((e) => e.type === 'message.created' && e.data.messageId === row.id)!;
      expect(event.data).toEqual({
        type: 'message.created',
        inboxId: 'service',
        conversationId: row.conversation_id,
        messageId: row.id,
        assigned: false,
      });
      // The conversation's creation at B was streamed too, so the list shows it without a reload.
      expect(
        stream.events.some((e) => e.type === 'conversation.created' && e.data.conversationId === row.conversation_id),
      ).toBe(true);
      // Content-free by design: neither the number nor any text the customer wrote crosses the stream.
      for (const secret of [customer, `+${customer}`, text, 'Guten Tag', 'wamid.SSE-AT-B']) {
        expect(stream.raw()).not.toContain(secret);
      }
      // The inbox then loads the message with the same session at A.
      const thread = await fetch(`${a.url}/api/v1/conversations/${row.conversation_id}`, {
        headers: { cookie: cookie! },
      });
      expect(thread.status).toBe(200);
      const body = (await thread.json()) as { messages: { id: string; text?: string | null }[] };
      expect(body.messages.find((m) => m.id === row.id)?.text).toBe(text);
    } finally {
      stream.close();
    }
  });

  it('a message committed at B reaches a live subscriber of A; an agent reply is sent once although both run workers', async () => {
    const customer = '4915100000099';
    const seen: InboxEvent[] = [];
    const unsubscribe = a.sparsam.events.subscribe((event) => {
      seen.push(event);
    });
    try {
      const before = sim.sentMessages().length;
      expect((await send(b, { from: customer, text: 'Wann ist mein Auto fertig?' })).delivered).toBe(true);
      await until('the consent notice', () => sim.sentMessages().some((m) => m.to === customer));
      expect(sim.sentMessages()).toHaveLength(before + 1);
      // The customer agrees at B; from now on their messages are live in the inbox.
      expect(
        (await send(b, { from: customer, buttonReply: { id: CONSENT_AGREE_ID, title: 'Zustimmen' } })).delivered,
      ).toBe(true);
      expect((await send(b, { from: customer, text: 'Und was kostet es?', id: 'wamid.ONLY-B' })).delivered).toBe(true);
      const row = await a.sparsam.store.db
        .selectFrom('messages')
        .select(['id', 'conversation_id'])
        .where('provider_message_id', '=', new ProviderRefs(a.sparsam.keys.pepper).ref('wamid.ONLY-B'))
        .executeTakeFirstOrThrow();
      await until('message.created from B at A', () =>
        seen.some((e) => e.type === 'message.created' && e.messageId === row.id),
      );

      // The agent answers through A's API with a token created at B.
      const token = (await b.sparsam.accounts.createApiToken('scale-agent', 'agent')).token;
      const reply = await fetch(`${a.url}/api/v1/conversations/${row.conversation_id}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'Morgen ab 14 Uhr.' }),
      });
      expect(reply.status).toBe(202);
      await until('the reply at the provider', () => sim.sentMessages().some((m) => m.text === 'Morgen ab 14 Uhr.'));
      // Give the other instance's worker time to (wrongly) send it a second time.
      await new Promise((r) => setTimeout(r, 1500));
      expect(sim.sentMessages().filter((m) => m.text === 'Morgen ab 14 Uhr.')).toHaveLength(1);
      // The notice, the confirmation of the consent and the reply, each once.
      await until('the confirmation of the consent', () =>
        sim.sentMessages().some((m) => m.to === customer && (m.text ?? '').startsWith('Danke für Ihre Zustimmung')),
      );
      expect(sim.sentMessages().filter((m) => m.to === customer)).toHaveLength(3);
      const unfinished = await a.sparsam.store.db
        .selectFrom('jobs')
        .select(['id', 'status'])
        .where('queue', '=', 'outbound-send')
        .where('status', '!=', 'done')
        .execute();
      expect(unfinished).toEqual([]);
    } finally {
      unsubscribe();
    }
  });
});

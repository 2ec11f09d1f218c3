import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { CUSTOMER, buttonReply, startWorld, textMessage, type World } from '../inbox/inbox-world.ts';
import { LEGAL_BASES, WEBHOOK_EVENT_TYPES } from '../../src/core/ports/webhook.port.ts';
import { LegalBasisSchema, WebhookEventTypeSchema } from '../../src/http/contract/webhooks.contract.ts';
import { dialects } from '../support/stores.ts';

/**
 * Outgoing webhooks end to end: a local receiver (allowed as an on-premise target) verifies every delivery with the
 * `standardwebhooks` package, an implementation independent of sparsam's signer.
 */

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  verified: boolean;
  json: { type: string; timestamp: string; data: Record<string, unknown> };
}

interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Answers the next requests with these statuses (then 200). */
  answers: number[];
  /** Called for each request; may answer itself (returns true). */
  secret: string | undefined;
  close(): Promise<void>;
}

let nextPort = 19310;

async function startReceiver(): Promise<Receiver> {
  const r: Receiver = { url: '', port: 0, received: [], answers: [], secret: undefined, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let verified = false;
      if (r.secret) {
        try {
          new Webhook(r.secret).verify(body, {
            'webhook-id': String(req.headers['webhook-id']),
            'webhook-timestamp': String(req.headers['webhook-timestamp']),
            'webhook-signature': String(req.headers['webhook-signature']),
          });
          verified = true;
        } catch {
          verified = false;
        }
      }
      r.received.push({ path: req.url ?? '', headers: req.headers, body, verified, json: JSON.parse(body || '{}') });
      const status = r.answers.shift() ?? 200;
      if (status >= 300 && status < 400) res.writeHead(status, { location: `http://127.0.0.1:${r.port}/elsewhere` });
      else res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status < 300 ? 'ok' : 'no');
    });
  });
  for (;;) {
    const port = nextPort++;
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) {
      r.port = port;
      break;
    }
    if (nextPort > 19399) throw new Error('no free port in 19310-19399');
  }
  r.url = `http://127.0.0.1:${r.port}/hook`;
  r.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return r;
}

const ALL_EVENTS = [
  'conversation.opened',
  'conversation.assigned',
  'conversation.closed',
  'conversation.erased',
  'message.received',
  'message.sent',
  'message.failed',
  'consent.given',
  'consent.withdrawn',
];

describe('outgoing webhook names', () => {
  it('are the same in the core and in the API contract', () => {
    expect(WebhookEventTypeSchema.options).toEqual([...WEBHOOK_EVENT_TYPES]);
    expect(LegalBasisSchema.options).toEqual([...LEGAL_BASES]);
  });
});

describe.each(dialects)('outgoing webhooks (%s)', (dialect) => {
  let world: World;
  let receiver: Receiver;
  let clock: ManualClock;

  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });
  beforeEach(async () => {
    // Now, so that the receiver's timestamp check (5 minutes of tolerance in standardwebhooks) accepts deliveries.
    clock = new ManualClock(Date.now());
    world = await startWorld(dialect, { clock, eraseAfterCloseDays: 30 });
    receiver.received.length = 0;
    receiver.answers.length = 0;
    receiver.secret = undefined;
  });
  afterEach(async () => {
    await world.close();
  });

  const admin = (method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown) =>
    world.api(method, url, body, world.adminToken);

  async function createEndpoint(extra: Record<string, unknown> = {}) {
    const res = await admin('POST', '/api/v1/admin/webhooks', {
      name: 'CRM',
      url: receiver.url,
      events: ALL_EVENTS,
      allowPrivateTarget: true,
      ...extra,
    });
    expect(res.statusCode, res.body).toBe(201);
    const { endpoint, secret } = res.json() as { endpoint: { id: string }; secret: string };
    receiver.secret = secret;
    return { id: endpoint.id, secret };
  }

  /** A customer writes, agrees, and writes again: an open conversation with two messages. */
  async function openConversation(text: string) {
    expect((await world.webhook(textMessage(clock, 'wamid.IN1', 'Hallo, ich habe eine Frage'))).statusCode).toBe(200);
    await world.drain();
    clock.advance(1_000);
    expect((await world.webhook(buttonReply(clock, 'wamid.IN2', CONSENT_AGREE_ID, 'Zustimmen'))).statusCode).toBe(200);
    await world.drain();
    expect((await world.webhook(textMessage(clock, 'wamid.IN3', text))).statusCode).toBe(200);
    await world.drain();
  }

  it('delivers subscribed events signed in the Standard Webhooks format, without message text or phone number', async () => {
    const { id, secret } = await createEndpoint();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await openConversation('Meine Nummer ist 0171 2345678, bitte Rückruf');

    const types = receiver.received.map((r) => r.json.type);
    expect(types).toContain('consent.given');
    expect(types).toContain('conversation.opened');
    expect(types).toContain('message.received');
    // Nothing about the conversation while it waited for consent (the notice's send is not announced): every event
    // happened at or after the consent. Deliveries run in parallel, so their arrival order is not the events' order.
    const consentAt = Date.parse(receiver.received.find((r) => r.json.type === 'consent.given')!.json.timestamp);
    for (const r of receiver.received) expect(Date.parse(r.json.timestamp)).toBeGreaterThanOrEqual(consentAt);
    for (const r of receiver.received) {
      expect(r.verified, `${r.json.type} verifies`).toBe(true);
      expect(r.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(r.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(r.body).not.toContain('Rückruf');
      expect(r.body).not.toContain('Frage');
      expect(r.body).not.toContain(CUSTOMER);
      expect(r.body).not.toContain('2345678');
      expect(r.body).not.toContain('Erika');
      expect(r.body).not.toMatch(/"text":/);
    }
    const received = receiver.received.find((r) => r.json.type === 'message.received')!;
    expect(received.json.data).toMatchObject({
      inboxId: 'service',
      channelId: 'wa-main',
      channelKind: 'whatsapp-cloud',
      label: 'Anfrage 1',
      kind: 'text',
    });
    const opened = receiver.received.find((r) => r.json.type === 'conversation.opened')!;
    expect(opened.json.data).toMatchObject({ reason: 'consent', label: 'Anfrage 1' });
    expect(opened.json.data.messageCount).toBeGreaterThanOrEqual(1);

    // An agent replies: message.sent; closing: conversation.closed.
    const conversationId = received.json.data.conversationId as string;
    const reply = await world.api('POST', `/api/v1/conversations/${conversationId}/messages`, {
      text: 'Gern, wir rufen an',
    });
    expect(reply.statusCode, reply.body).toBeLessThan(300);
    await world.drain();
    const close = await world.api('POST', `/api/v1/conversations/${conversationId}/close`, {});
    expect(close.statusCode, close.body).toBeLessThan(300);
    await world.drain();
    const later = receiver.received.map((r) => r.json.type);
    expect(later).toContain('message.sent');
    expect(later).toContain('conversation.closed');
    expect(receiver.received.every((r) => !r.body.includes('wir rufen an'))).toBe(true);

    // The delivery log: type, state, attempts, status, duration; never the payload.
    const log = await admin('GET', `/api/v1/admin/webhooks/${id}/deliveries`);
    expect(log.statusCode).toBe(200);
    const items = log.json().items as { eventType: string; state: string; attempts: number; statusCode: number }[];
    expect(items.length).toBe(receiver.received.length);
    expect(items.every((d) => d.state === 'delivered' && d.attempts === 1 && d.statusCode === 200)).toBe(true);
    expect(log.body).not.toContain('Anfrage 1');
    expect(log.body).not.toContain('Rückruf');

    // The secret is stored sealed: not in the database file, not in the API's answers.
    const list = await admin('GET', '/api/v1/admin/webhooks');
    expect(list.body).not.toContain(secret);
    if (dialect === 'sqlite') {
      await world.sparsam.store.scrub();
      for (const file of world.sparsam.store.files) {
        let raw: Buffer;
        try {
          raw = readFileSync(file);
        } catch {
          continue;
        }
        expect(raw.includes(Buffer.from(secret.slice(6)))).toBe(false);
      }
    }
  });

  it('announces an assignment, then a STOP: consent withdrawn and the conversation erased, content-free', async () => {
    await createEndpoint({ events: ['conversation.assigned', 'consent.withdrawn', 'conversation.erased'] });
    await openConversation('Termin bitte');
    expect(receiver.received).toHaveLength(0);
    const agent = await world.sparsam.accounts.createUser({
      email: 'agent@autohaus.example',
      password: 'agent-passwort-123456',
      role: 'agent',
      displayName: 'Agent',
    });
    const list = await world.api('GET', '/api/v1/conversations');
    const conversationId = (list.json() as { items: { id: string }[] }).items[0]!.id;
    const assigned = await world.api('POST', `/api/v1/conversations/${conversationId}/assign`, { userId: agent.id });
    expect(assigned.statusCode, assigned.body).toBeLessThan(300);
    await world.drain();
    expect(receiver.received.map((r) => r.json.type)).toEqual(['conversation.assigned']);
    expect(receiver.received[0]!.json.data).toMatchObject({
      conversationId,
      assigneeId: agent.id,
      previousAssigneeId: null,
      label: 'Anfrage 1',
    });

    await world.webhook(textMessage(clock, 'wamid.STOP', 'STOP'));
    await world.drain();
    const types = receiver.received.map((r) => r.json.type);
    expect(types).toContain('consent.withdrawn');
    expect(types).toContain('conversation.erased');
    const erased = receiver.received.find((r) => r.json.type === 'conversation.erased')!;
    expect(erased.json.data).toMatchObject({ conversationId, reason: 'consent-withdrawn', label: 'Anfrage 1' });
    const withdrawn = receiver.received.find((r) => r.json.type === 'consent.withdrawn')!;
    expect(withdrawn.json.data).toMatchObject({
      purpose: 'service',
      inboxId: 'service',
      channelKind: 'whatsapp-cloud',
    });
    for (const r of receiver.received) {
      expect(r.verified).toBe(true);
      expect(r.body).not.toContain(CUSTOMER);
      expect(r.body).not.toContain('Termin');
    }
  });

  it('sends message text only with the flag and a recorded legal basis, and audits the decision', async () => {
    const { id } = await createEndpoint({ events: ['message.received'] });
    const refused = await admin('PUT', `/api/v1/admin/webhooks/${id}`, {
      name: 'CRM',
      url: receiver.url,
      events: ['message.received'],
      allowPrivateTarget: true,
      includeContent: true,
    });
    expect(refused.statusCode).toBe(400);
    expect((await admin('GET', `/api/v1/admin/webhooks/${id}`)).json().endpoint.includeContent).toBe(false);

    const enabled = await admin('PUT', `/api/v1/admin/webhooks/${id}`, {
      name: 'CRM',
      url: receiver.url,
      events: ['message.received'],
      allowPrivateTarget: true,
      includeContent: true,
      legalBasis: 'art6-1b',
      legalBasisNote: 'Ticket im CRM zur Vertragserfüllung (Reparaturauftrag)',
    });
    expect(enabled.statusCode, enabled.body).toBe(200);
    expect(enabled.json().endpoint).toMatchObject({ includeContent: true, legalBasis: 'art6-1b' });
    const audit = await world.sparsam.audit.list({ action: 'webhook_endpoint' });
    // The record of processing lists the endpoint as a further recipient, with text and its legal basis.
    const ropa = JSON.stringify(await world.sparsam.compliance.document('ropa', 'de'));
    expect(ropa).toContain('Weitere Empfänger: ausgehende Webhooks');
    expect(ropa).toContain(`http://127.0.0.1:${receiver.port}`);
    expect(ropa).toContain('mit Nachrichtentext, Rechtsgrundlage art6-1b');
    const entry = audit.find((e) => e.action === 'webhook_endpoint.content-enabled');
    expect(entry?.target_id).toBe(id);
    expect(JSON.stringify(entry)).toContain('art6-1b');

    await openConversation('Bitte Rückruf morgen');
    const received = receiver.received.filter((r) => r.json.type === 'message.received');
    expect(received.map((r) => r.json.data.text)).toContain('Bitte Rückruf morgen');
    expect(received.every((r) => r.verified)).toBe(true);
  });

  it('retries a delivery the receiver refused with 500 after the backoff, under the same webhook-id', async () => {
    const { id } = await createEndpoint({ events: ['message.received'] });
    // The first conversation message is held for consent; the third arrives in an open conversation.
    receiver.answers.push(500);
    await openConversation('noch eine Frage');
    expect(receiver.received).toHaveLength(1);
    let log = (await admin('GET', `/api/v1/admin/webhooks/${id}/deliveries`)).json().items;
    expect(log[0]).toMatchObject({ state: 'retrying', attempts: 1, statusCode: 500, error: 'HTTP 500' });

    await world.drain();
    expect(receiver.received).toHaveLength(1); // not before the backoff
    clock.advance(6_000);
    await world.drain();
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]!.headers['webhook-id']).toBe(receiver.received[0]!.headers['webhook-id']);
    expect(receiver.received[1]!.verified).toBe(true);
    log = (await admin('GET', `/api/v1/admin/webhooks/${id}/deliveries`)).json().items;
    expect(log[0]).toMatchObject({ state: 'delivered', attempts: 2, statusCode: 200, error: null });
  });

  it('pauses an endpoint failing for 24 hours, tells the admins, and sends it nothing new until resumed', async () => {
    const { id } = await createEndpoint({ events: ['message.received', 'conversation.assigned'] });
    receiver.answers.push(...Array.from({ length: 20 }, () => 500));
    await openConversation('Hallo nochmal');
    for (let i = 0; i < 12; i++) {
      clock.advance(11 * 3_600_000);
      await world.drain();
    }
    // 8 attempts: at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (over 24 h of failure).
    expect(receiver.received).toHaveLength(8);
    const endpoint = (await admin('GET', `/api/v1/admin/webhooks/${id}`)).json().endpoint;
    expect(endpoint).toMatchObject({ state: 'paused', pausedReason: 'failures', consecutiveFailures: 8 });
    const log = (await admin('GET', `/api/v1/admin/webhooks/${id}/deliveries`)).json().items;
    expect(log[0]).toMatchObject({ state: 'failed', attempts: 8, statusCode: 500 });
    const audit = await world.sparsam.audit.list({ action: 'webhook_endpoint' });
    const paused = audit.find((e) => e.action === 'webhook_endpoint.paused');
    expect(paused?.actor).toBe('system');
    expect(JSON.stringify(paused)).toContain('failures');

    // New events are not queued for a paused endpoint.
    await world.webhook(textMessage(clock, 'wamid.IN9', 'und noch etwas'));
    await world.drain();
    expect(receiver.received).toHaveLength(8);

    const resumed = await admin('POST', `/api/v1/admin/webhooks/${id}/resume`);
    expect(resumed.json().endpoint).toMatchObject({ state: 'active', pausedReason: null, consecutiveFailures: 0 });
    receiver.answers.length = 0;
    await world.webhook(textMessage(clock, 'wamid.IN10', 'geht es jetzt?'));
    await world.drain();
    expect(receiver.received).toHaveLength(9);
  });

  it('does not follow a redirect: a 3xx is a failed attempt and the other address is never called', async () => {
    const { id } = await createEndpoint({ events: ['message.received'] });
    receiver.answers.push(302);
    const test = await admin('POST', `/api/v1/admin/webhooks/${id}/test`);
    expect(test.statusCode).toBe(200);
    expect(test.json().delivery).toMatchObject({
      eventType: 'webhook.test',
      state: 'failed',
      statusCode: 302,
      error: 'redirect not followed',
    });
    expect(receiver.received.map((r) => r.path)).toEqual(['/hook']);
  });

  it('refuses loopback, private and link-local targets unless the endpoint allows an on-premise target', async () => {
    // Plain http only with the on-premise flag.
    const plain = await admin('POST', '/api/v1/admin/webhooks', {
      name: 'x',
      url: receiver.url,
      events: ['message.sent'],
    });
    expect(plain.statusCode).toBe(400);
    expect((await admin('GET', '/api/v1/admin/webhooks')).json().items).toHaveLength(0);

    for (const url of [
      `https://127.0.0.1:${receiver.port}/hook`,
      `https://localhost:${receiver.port}/hook`,
      'https://10.1.2.3/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/hook',
      'https://192.168.178.1/hook',
    ]) {
      const created = await admin('POST', '/api/v1/admin/webhooks', { name: 'intern', url, events: ['message.sent'] });
      expect(created.statusCode, created.body).toBe(201);
      const test = await admin('POST', `/api/v1/admin/webhooks/${created.json().endpoint.id}/test`);
      expect(test.json().delivery, url).toMatchObject({ state: 'failed', statusCode: null, error: 'private target' });
    }
    expect(receiver.received).toHaveLength(0);

    // With the flag, the same receiver on loopback gets the signed test event.
    const { id } = await createEndpoint();
    const ok = await admin('POST', `/api/v1/admin/webhooks/${id}/test`);
    expect(ok.json().delivery).toMatchObject({ state: 'delivered', statusCode: 200 });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.verified).toBe(true);
    expect(receiver.received[0]!.json.type).toBe('webhook.test');
  });

  it('rotates the secret: shown once, and the old one keeps signing beside it for a day', async () => {
    const { id, secret: first } = await createEndpoint();
    const rotated = await admin('POST', `/api/v1/admin/webhooks/${id}/rotate-secret`);
    expect(rotated.statusCode).toBe(200);
    const second = rotated.json().secret as string;
    expect(second).not.toBe(first);
    expect(rotated.json().endpoint.secretRotatedUntil).not.toBeNull();
    await admin('POST', `/api/v1/admin/webhooks/${id}/test`);
    const signature = String(receiver.received[0]!.headers['webhook-signature']);
    expect(signature.split(' ')).toHaveLength(2);
    // Both the receiver with the old secret and the one with the new secret accept it.
    for (const secret of [first, second]) {
      const r = receiver.received[0]!;
      expect(() =>
        new Webhook(secret).verify(r.body, {
          'webhook-id': String(r.headers['webhook-id']),
          'webhook-timestamp': String(r.headers['webhook-timestamp']),
          'webhook-signature': signature,
        }),
      ).not.toThrow();
    }
    clock.advance(25 * 3_600_000);
    receiver.received.length = 0;
    receiver.secret = second;
    await admin('POST', `/api/v1/admin/webhooks/${id}/test`);
    expect(String(receiver.received[0]!.headers['webhook-signature']).split(' ')).toHaveLength(1);
  });

  it('is for admins only, validates input, and documents the payloads in the OpenAPI document', async () => {
    const asAgent = await world.api('GET', '/api/v1/admin/webhooks', undefined, world.agentToken);
    expect(asAgent.statusCode).toBe(403);
    const unknownEvent = await admin('POST', '/api/v1/admin/webhooks', {
      name: 'x',
      url: 'https://crm.example.org/hook',
      events: ['message.deleted'],
    });
    expect(unknownEvent.statusCode).toBe(400);
    const unknownInbox = await admin('POST', '/api/v1/admin/webhooks', {
      name: 'x',
      url: 'https://crm.example.org/hook',
      inboxId: 'nope',
      events: ['message.sent'],
    });
    expect(unknownInbox.statusCode).toBe(400);
    expect((await admin('GET', '/api/v1/admin/webhooks')).json().items).toHaveLength(0);
    expect((await admin('POST', '/api/v1/admin/webhooks/nope/test')).statusCode).toBe(404);

    const doc = (await world.api('GET', '/api/v1/openapi.json')).json() as {
      webhooks: Record<string, { post: { parameters: { name: string }[] } }>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(Object.keys(doc.webhooks).sort()).toEqual([...ALL_EVENTS].sort());
    expect(doc.webhooks['message.received']!.post.parameters.map((p) => p.name)).toEqual([
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ]);
    expect(doc.components.schemas['WebhookPayload_message_received']!.properties).toHaveProperty('data');
  });
});

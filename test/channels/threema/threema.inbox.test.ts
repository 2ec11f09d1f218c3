import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import exifr from 'exifr';
import nacl from 'tweetnacl';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ThreemaSimulator } from '../../../dev/simulator/threema-simulator.ts';
import { loadConfig } from '../../../src/config/config.ts';
import { createSparsam, type Sparsam } from '../../../src/main.ts';
import { ManualClock } from '../../../src/shared/clock.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { describeEachStore, openTestStore, type TestStore } from '../../support/stores.ts';

const GATEWAY_ID = '*SPARSAM';
const API_SECRET = 'threema-inbox-test-secret';
const PRIVATE_KEY = Buffer.from(nacl.box.keyPair().secretKey).toString('hex');
const CUSTOMER = 'K7PX2M4Q';
const FIRST_TEXT = 'Grüezi, ist mein Velo schon repariert?';
const REPLY = 'Ja, Sie können es ab 16 Uhr abholen.';

/** Ports of this file's servers (sparsam 19100-19149, simulator 19150-19199), one pair per test. */
let nextPort = 0;

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? allFiles(file) : [file];
  });
}

interface MessageView {
  id: string;
  direction: string;
  text: string | null;
  status: string;
  error: { code: string; reason: string } | null;
  media: { id: string; state: string; url: string } | null;
  senderKeyChanged?: boolean;
}

describeEachStore('threema conversation through the inbox', (dialect) => {
  let t: TestStore;
  let sparsam: Sparsam;
  let simulator: ThreemaSimulator;
  let agentToken: string;
  let port: number;
  const clock = new ManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));

  function yaml(withKey: boolean): string {
    return `
organisation:
  name: Velowerkstatt Beispiel GmbH
  contact: datenschutz@velo.example
inboxes:
  - id: service
    labelPrefix: Anfrage
channels:
  - id: threema-main
    kind: threema
    inbox: service
    gatewayId: "${GATEWAY_ID}"
    apiSecret: env:THREEMA_SECRET
${withKey ? '    privateKey: env:THREEMA_PRIVATE_KEY\n' : ''}    apiBaseUrl: ${simulator.url}
    creditsWarningBelow: 50
`;
  }

  async function start(withKey = true): Promise<void> {
    const config = loadConfig({
      env: {
        ...t.env,
        SPARSAM_CONFIG: '/virtual/sparsam.yaml',
        SPARSAM_LOG_LEVEL: 'silent',
        THREEMA_SECRET: API_SECRET,
        ...(withKey ? { THREEMA_PRIVATE_KEY: PRIVATE_KEY } : {}),
      },
      readFile: () => yaml(withKey),
    });
    sparsam = await createSparsam(config, { clock, logger: createLogger({ level: 'silent' }) });
    const address = await sparsam.http.listen({ port, host: '127.0.0.1' });
    simulator.webhookUrl = `${address}/webhooks/threema/threema-main`;
    agentToken = (await sparsam.accounts.createApiToken('agent', 'agent')).token;
  }

  beforeEach(async () => {
    t = await openTestStore(dialect);
    await t.store.close();
    port = 19100 + (nextPort % 50);
    simulator = new ThreemaSimulator({ gatewayId: GATEWAY_ID, apiSecret: API_SECRET, gatewayPrivateKey: PRIVATE_KEY });
    await simulator.start(19150 + (nextPort % 50));
    nextPort += 1;
    simulator.customer(CUSTOMER, 'Jana');
    await start();
  });
  afterEach(async () => {
    await sparsam?.close().catch(() => undefined);
    await simulator?.stop();
    await t?.cleanup();
  });

  function api(method: 'GET' | 'POST', url: string, body?: unknown) {
    return sparsam.http.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${agentToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
  }

  async function conversations(): Promise<{ id: string; channelKind: string; label: string }[]> {
    return (await api('GET', '/api/v1/conversations?view=all')).json().items;
  }

  async function messagesOf(conversationId: string): Promise<MessageView[]> {
    return (await api('GET', `/api/v1/conversations/${conversationId}`)).json().messages;
  }

  /** A customer who wrote and agreed: the conversation's id. */
  async function consentedConversation(): Promise<string> {
    expect(await simulator.deliver(simulator.textCallback(CUSTOMER, FIRST_TEXT))).toBe(200);
    await sparsam.jobs.drain();
    expect(await simulator.deliver(simulator.textCallback(CUSTOMER, 'JA'))).toBe(200);
    await sparsam.jobs.drain();
    const [conversation] = await conversations();
    return conversation!.id;
  }

  async function audit(action: string): Promise<{ details: string; target_id: string | null }[]> {
    return sparsam.store.db
      .selectFrom('audit_log')
      .select(['details', 'target_id'])
      .where('action', '=', action)
      .execute();
  }

  it('sends the notice end-to-end encrypted, takes consent by keyword, shows the message, replies and ticks', async () => {
    const first = simulator.textCallback(CUSTOMER, FIRST_TEXT);
    expect(await simulator.deliver(first)).toBe(200);
    // The gateway redelivers when it misses the 200: the same callback must not make a second message.
    expect(await simulator.deliver(first)).toBe(200);
    await sparsam.jobs.drain();

    // The privacy notice is the first message, opened by the simulated app with the customer's own key.
    const notices = simulator.receivedBy(CUSTOMER);
    expect(notices).toHaveLength(1);
    expect(notices[0]!.type).toBe(0x01);
    expect(notices[0]!.text).toContain('Velowerkstatt Beispiel GmbH');
    expect(notices[0]!.text).toContain('JA');
    expect(notices[0]!.nonce).toMatch(/^[0-9a-f]{48}$/);
    expect(simulator.unreadable).toEqual([]);
    // Nothing for staff before consent.
    expect(await conversations()).toEqual([]);

    expect(await simulator.deliver(simulator.textCallback(CUSTOMER, 'Ja'))).toBe(200);
    await sparsam.jobs.drain();
    const items = await conversations();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ label: 'Anfrage 1', channelKind: 'threema' });
    const detail = await api('GET', `/api/v1/conversations/${items[0]!.id}`);
    const incoming = (detail.json().messages as MessageView[]).filter((m) => m.direction === 'in');
    expect(incoming.map((m) => m.text)).toEqual([FIRST_TEXT, 'Ja']);
    expect(incoming.some((m) => m.senderKeyChanged)).toBe(false);
    expect(detail.body).not.toContain(CUSTOMER);

    expect((await api('POST', `/api/v1/conversations/${items[0]!.id}/messages`, { text: REPLY })).statusCode).toBe(202);
    await sparsam.jobs.drain();
    const reply = simulator.receivedBy(CUSTOMER).at(-1)!;
    expect(reply).toMatchObject({ type: 0x01, text: REPLY });
    // Random padding and a fresh nonce on every message.
    const all = simulator.receivedBy(CUSTOMER);
    expect(new Set(all.map((m) => m.nonce)).size).toBe(all.length);

    const out = (await messagesOf(items[0]!.id)).find((m) => m.text === REPLY)!;
    expect(out.status).toBe('sent');
    expect(await simulator.deliver(simulator.receiptCallback(CUSTOMER, 1, [reply.messageId]))).toBe(200);
    expect((await messagesOf(items[0]!.id)).find((m) => m.id === out.id)!.status).toBe('delivered');
    expect(await simulator.deliver(simulator.receiptCallback(CUSTOMER, 2, [reply.messageId]))).toBe(200);
    expect((await messagesOf(items[0]!.id)).find((m) => m.id === out.id)!.status).toBe('read');

    // The private key went into the key store, sealed; the main database has no copy of it.
    const sealed = await sparsam.store.keys.selectFrom('sealed_secrets').select(['name', 'sealed']).execute();
    expect(sealed.map((r) => r.name)).toEqual(['channel:threema-main:privateKey']);
    expect(Buffer.from(sealed[0]!.sealed).toString('latin1')).not.toContain(PRIVATE_KEY);
    expect(Buffer.from(sealed[0]!.sealed).includes(Buffer.from(PRIVATE_KEY, 'hex'))).toBe(false);

    if (dialect === 'sqlite') {
      // Nothing personal or secret in plain text in the data dir: not the texts, not the Threema ID, not the key.
      await sparsam.store.scrub();
      const keyBytes = Buffer.from(PRIVATE_KEY, 'hex');
      for (const file of allFiles(t.dataDir)) {
        const bytes = readFileSync(file);
        const raw = bytes.toString('latin1');
        expect(raw).not.toContain('Velo schon repariert');
        expect(raw).not.toContain('ab 16 Uhr abholen');
        expect(raw).not.toContain(CUSTOMER);
        expect(raw.toLowerCase()).not.toContain(PRIVATE_KEY.toLowerCase());
        expect(bytes.includes(keyBytes)).toBe(false);
      }
    }
  });

  it('refuses a callback with a forged or missing MAC with 401 and stores nothing', async () => {
    const forged = new URLSearchParams(simulator.textCallback(CUSTOMER, FIRST_TEXT));
    forged.set('mac', 'ab'.repeat(32));
    expect(await simulator.deliver(forged.toString())).toBe(401);
    forged.delete('mac');
    expect(await simulator.deliver(forged.toString())).toBe(401);
    const otherSecret = new URLSearchParams(simulator.textCallback(CUSTOMER, FIRST_TEXT));
    // The MAC of the right fields under another secret.
    const signedElsewhere = simulator.signedForm({
      from: CUSTOMER,
      nonce: otherSecret.get('nonce')!,
      box: otherSecret.get('box')!,
      secret: 'not-the-api-secret',
    });
    expect(await simulator.deliver(signedElsewhere)).toBe(401);
    expect(await sparsam.store.db.selectFrom('messages').select('id').execute()).toEqual([]);
    expect(await audit('webhook.forged')).toHaveLength(3);
    expect(simulator.receivedBy(CUSTOMER)).toEqual([]);
  });

  it('refuses a box that does not open with 400, stores nothing and writes one content-free audit entry', async () => {
    // Authentic (right MAC) but encrypted with a key that is not the customer's published one.
    const stranger = nacl.box.keyPair();
    const form = simulator.callback(CUSTOMER, 0x01, new TextEncoder().encode(FIRST_TEXT), {
      senderSecretKey: stranger.secretKey,
    });
    const response = await sparsam.http.inject({
      method: 'POST',
      url: '/webhooks/threema/threema-main',
      payload: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'VALIDATION', details: { reason: 'undecryptable' } });
    // Garbage bytes in the box, also with a valid MAC.
    const garbage = simulator.signedForm({ from: CUSTOMER, nonce: '00'.repeat(24), box: 'ab'.repeat(40) });
    expect(await simulator.deliver(garbage)).toBe(400);
    // A sender the directory does not know (404 at /pubkeys): refused the same way.
    const unknown = simulator.signedForm({ from: 'UNKNOWN1', nonce: '00'.repeat(24), box: 'ab'.repeat(40) });
    expect(await simulator.deliver(unknown)).toBe(400);
    await sparsam.jobs.drain();
    expect(await sparsam.store.db.selectFrom('messages').select('id').execute()).toEqual([]);
    expect(await sparsam.store.db.selectFrom('contacts').select('id').execute()).toEqual([]);
    expect(simulator.receivedBy(CUSTOMER)).toEqual([]);
    const entries = await audit('webhook.undecryptable');
    expect(entries).toHaveLength(3);
    expect(entries[0]!.target_id).toBe('threema-main');
    expect(entries[0]!.details).not.toContain(CUSTOMER);
    expect(Object.keys(JSON.parse(entries[0]!.details) as object)).toEqual(['bytes']);
  });

  it('marks a reply refused for lack of credits (402) as failed with the reason, and does not retry it', async () => {
    const conversationId = await consentedConversation();
    const sendsBefore = simulator.calls.filter((c) => c.path === '/send_e2e').length;
    simulator.credits = 0;
    expect((await api('POST', `/api/v1/conversations/${conversationId}/messages`, { text: REPLY })).statusCode).toBe(
      202,
    );
    await sparsam.jobs.drain();
    // Even much later: no second attempt.
    clock.advance(60 * 60_000);
    await sparsam.jobs.drain();
    const sends = simulator.calls.filter((c) => c.path === '/send_e2e').slice(sendsBefore);
    expect(sends).toEqual([{ path: '/send_e2e', status: 402 }]);
    const failed = (await messagesOf(conversationId)).find((m) => m.text === REPLY)!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'no_credits' });
    expect(failed.error!.reason).toContain('no credits');
  });

  it("shows a changed public key on the customer's message and encrypts replies to the new key", async () => {
    const conversationId = await consentedConversation();
    simulator.rotateKey(CUSTOMER);
    expect(await simulator.deliver(simulator.textCallback(CUSTOMER, 'Neues Handy, gleiche ID.'))).toBe(200);
    const messages = await messagesOf(conversationId);
    const changed = messages.find((m) => m.text === 'Neues Handy, gleiche ID.')!;
    expect(changed.senderKeyChanged).toBe(true);
    expect(messages.filter((m) => m.senderKeyChanged)).toHaveLength(1);
    const entries = await audit('contact.key_changed');
    expect(entries).toHaveLength(1);
    expect(entries[0]!.details).not.toContain(CUSTOMER);
    // The next message with the same new key is not flagged again.
    expect(await simulator.deliver(simulator.textCallback(CUSTOMER, 'Noch da?'))).toBe(200);
    expect((await messagesOf(conversationId)).find((m) => m.text === 'Noch da?')!.senderKeyChanged).toBeUndefined();

    await api('POST', `/api/v1/conversations/${conversationId}/messages`, { text: REPLY });
    await sparsam.jobs.drain();
    expect(simulator.receivedBy(CUSTOMER).at(-1)).toMatchObject({ text: REPLY });
    expect(simulator.unreadable).toEqual([]);
  });

  it('takes a photo from the blob server through the sanitizer and sends a file end-to-end encrypted', async () => {
    const conversationId = await consentedConversation();
    const photo = readFileSync(new URL('../../fixtures/images/jpg_gps_DSCN0021.jpg', import.meta.url));
    expect((await exifr.gps(photo))?.latitude).toBeTypeOf('number');
    const form = simulator.fileCallback(CUSTOMER, {
      data: photo,
      mimeType: 'image/jpeg',
      fileName: 'velo.jpg',
      caption: 'Das Hinterrad',
    });
    expect(await simulator.deliver(form)).toBe(200);
    expect(await simulator.deliver(form)).toBe(200);
    await sparsam.jobs.drain();
    const withMedia = (await messagesOf(conversationId)).filter((m) => m.media);
    expect(withMedia).toHaveLength(1);
    expect(withMedia[0]!.text).toBe('Das Hinterrad');
    expect(withMedia[0]!.media!.state).toBe('stored');
    const download = await sparsam.http.inject({
      method: 'GET',
      url: withMedia[0]!.media!.url,
      headers: { authorization: `Bearer ${agentToken}` },
    });
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(await exifr.gps(download.rawPayload).catch(() => undefined)).toBeFalsy();

    const upload = await sparsam.http.inject({
      method: 'POST',
      url: `/api/v1/conversations/${conversationId}/attachments`,
      payload: photo,
      headers: {
        authorization: `Bearer ${agentToken}`,
        'content-type': 'image/jpeg',
        'x-attachment-caption': encodeURIComponent('So sieht es aus'),
      },
    });
    expect(upload.statusCode).toBe(202);
    await sparsam.jobs.drain();
    const file = simulator.receivedBy(CUSTOMER).at(-1)!;
    expect(file.type).toBe(0x17);
    expect(file.file!.caption).toBe('So sieht es aus');
    expect(file.file!.mimeType).toBe('image/jpeg');
    expect(file.file!.data.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    // The customer gets the cleaned file: no GPS.
    expect(await exifr.gps(file.file!.data).catch(() => undefined)).toBeFalsy();
  });

  it('starts again without privateKey in the file: the key comes from the key store', async () => {
    const conversationId = await consentedConversation();
    await sparsam.close();
    await start(false);
    await api('POST', `/api/v1/conversations/${conversationId}/messages`, { text: REPLY });
    await sparsam.jobs.drain();
    expect(simulator.receivedBy(CUSTOMER).at(-1)).toMatchObject({ text: REPLY });
    expect(await simulator.deliver(simulator.textCallback(CUSTOMER, 'Danke!'))).toBe(200);
    expect((await messagesOf(conversationId)).some((m) => m.text === 'Danke!')).toBe(true);
  });

  it("shows the gateway's credits to admins, with a warning below the threshold", async () => {
    const adminToken = (await sparsam.accounts.createApiToken('admin', 'admin')).token;
    const asAdmin = (url: string) =>
      sparsam.http.inject({ method: 'GET', url, headers: { authorization: `Bearer ${adminToken}` } });
    const channels = (await asAdmin('/api/v1/admin/channels')).json().items as { id: string; hasBalance: boolean }[];
    expect(channels.find((c) => c.id === 'threema-main')).toMatchObject({ hasBalance: true });
    simulator.credits = 1234;
    expect((await asAdmin('/api/v1/admin/channels/threema-main/balance')).json()).toEqual({
      credits: 1234,
      warnBelow: 50,
      low: false,
    });
    simulator.credits = 7;
    expect((await asAdmin('/api/v1/admin/channels/threema-main/balance')).json()).toEqual({
      credits: 7,
      warnBelow: 50,
      low: true,
    });
    // Agents do not see the admin screens.
    expect((await api('GET', '/api/v1/admin/channels/threema-main/balance')).statusCode).toBe(403);
    expect((await asAdmin('/api/v1/admin/channels/nope/balance')).statusCode).toBe(404);
  });
});

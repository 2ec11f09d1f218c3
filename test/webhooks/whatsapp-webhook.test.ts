import { readFileSync, existsSync } from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { describeEachStore } from '../support/stores.ts';
import {
  CUSTOMER,
  VERIFY_TOKEN,
  buttonReply,
  startWorld,
  textBatch,
  textMessage,
  type World,
} from '../inbox/inbox-world.ts';

describeEachStore('whatsapp webhook route', (dialect) => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld(dialect);
  });
  afterEach(async () => {
    await w.close();
  });

  const count = async (table: 'messages' | 'conversations' | 'contacts' | 'jobs') =>
    Number(
      (
        await w.sparsam.store.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it("answers Meta's verification handshake only with the right verify token", async () => {
    const ok = await w.sparsam.http.inject({
      url: `/webhooks/whatsapp/wa-main?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('1158201444');
    const bad = await w.sparsam.http.inject({
      url: '/webhooks/whatsapp/wa-main?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444',
    });
    expect(bad.statusCode).toBe(403);
  });

  it('stores one message and sends one notice when the provider retries the same webhook', async () => {
    const body = textMessage(w.clock, 'wamid.RETRY1', 'Hallo, ist jemand da?');
    for (let i = 0; i < 3; i++) expect((await w.webhook(body)).statusCode).toBe(200);
    await w.drain();
    expect(await count('messages')).toBe(2); // the customer's message and the notice
    expect(await count('conversations')).toBe(1);
    expect(w.graph.sends).toHaveLength(1);

    // A retried consent tap grants once and opens the conversation once.
    const agree = buttonReply(w.clock, 'wamid.RETRY2', CONSENT_AGREE_ID, 'Zustimmen');
    for (let i = 0; i < 2; i++) expect((await w.webhook(agree)).statusCode).toBe(200);
    const grants = await w.sparsam.store.db.selectFrom('consent_events').select('id').execute();
    expect(grants).toHaveLength(1);
    // The customer's message, the notice, the tap and one confirmation of the consent.
    expect(await count('messages')).toBe(4);
    await w.drain();
    const texts = w.graph.sends.map((s) => (s.body.text as { body: string } | undefined)?.body ?? '');
    expect(texts.filter((t) => t.startsWith('Danke für Ihre Zustimmung'))).toHaveLength(1);
  });

  it('stores every message of a batched webhook, each customer in their own conversation', async () => {
    const items = Array.from({ length: 6 }, (_, i) => ({
      id: `wamid.BATCH${i}`,
      text: `Nachricht ${i}`,
      from: `49151000000${i % 3}`,
    }));
    expect((await w.webhook(textBatch(w.clock, items))).statusCode).toBe(200);
    await w.drain();
    expect(await count('contacts')).toBe(3);
    expect(await count('conversations')).toBe(3);
    // six messages plus one notice per customer
    expect(await count('messages')).toBe(9);
    expect(w.graph.sends).toHaveLength(3);
  });

  it('aggregates a flood of forged webhooks in the audit log and counts every one in the metric', async () => {
    const body = textMessage(w.clock, 'wamid.FLOOD', 'Hallo');
    const before = new Set((await w.sparsam.audit.list({ action: 'webhook.forged', limit: 1000 })).map((e) => e.seq));
    for (let i = 0; i < 200; i += 1) {
      expect((await w.webhook(body, { signature: `sha256=${'1'.repeat(64)}` })).statusCode).toBe(401);
    }
    await w.sparsam.forgedWebhooks.flush();
    const entries = (await w.sparsam.audit.list({ action: 'webhook.forged', limit: 1000 }))
      .filter((e) => !before.has(e.seq))
      .map((e) => JSON.parse(e.details) as { count?: number; aggregated?: boolean });
    expect(entries.length).toBeLessThanOrEqual(6);
    expect(entries.reduce((n, e) => n + (e.count ?? 1), 0)).toBe(200);
    expect(entries.some((e) => e.aggregated === true)).toBe(true);
    const metrics = await w.sparsam.http.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/sparsam_webhooks_total\{kind="whatsapp-cloud",result="forged"\} 20\d/);
  });

  it('refuses a forged or missing signature with 401, audits it and stores nothing', async () => {
    const body = textMessage(w.clock, 'wamid.FORGED', 'Hallo');
    const forged = await w.webhook(body, { signature: `sha256=${'0'.repeat(64)}` });
    expect(forged.statusCode).toBe(401);
    const unsigned = await w.webhook(body, { signature: null });
    expect(unsigned.statusCode).toBe(401);
    expect(await count('messages')).toBe(0);
    expect(await count('contacts')).toBe(0);
    const audit = await w.sparsam.audit.list({ action: 'webhook.forged' });
    expect(audit).toHaveLength(2);
    expect(audit[0]!.actor).toBe('webhook:wa-main');
    expect(audit[0]!.result).toBe('denied');
    const metrics = await w.sparsam.http.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/sparsam_webhooks_total\{kind="whatsapp-cloud",result="forged"\} 2/);
  });

  it('answers a signed payload for a number no channel has 200, stores nothing and audits it without content', async () => {
    const res = await w.webhook(textMessage(w.clock, 'wamid.OTHER', 'Hallo', CUSTOMER, '999999999999'));
    expect(res.statusCode).toBe(200);
    expect(await count('messages')).toBe(0);
    expect(await count('contacts')).toBe(0);
    const audit = await w.sparsam.audit.list({ action: 'webhook.unrouted' });
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain('999999999999');
    expect(JSON.stringify(audit)).not.toContain(CUSTOMER);
  });

  it('refuses malformed JSON with 400 and an unknown channel with 404', async () => {
    const malformed = await w.webhook('{"object": "whatsapp_business_account", "entry": [', {});
    expect(malformed.statusCode).toBe(400);
    const unknown = await w.webhook(textMessage(w.clock, 'wamid.X', 'Hallo'), { channel: 'wa-nope' });
    expect(unknown.statusCode).toBe(404);
    expect(await count('messages')).toBe(0);
  });

  it('answers 200 and stores nothing while the channel is paused, and tells the customer where to turn', async () => {
    await w.sparsam.inboxes.setChannelEnabled('wa-main', false, w.clock.now().getTime());
    const res = await w.webhook(textMessage(w.clock, 'wamid.PAUSED', 'Hallo'));
    expect(res.statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await count('messages')).toBe(0);
    expect(await count('contacts')).toBe(0);
    expect(await count('jobs')).toBe(0);
    expect(w.graph.sends).toHaveLength(1);
    expect((w.graph.sends[0]!.body.text as { body: string }).body).toContain('nicht gespeichert');
    expect(await w.sparsam.audit.list({ action: 'webhook.channel_paused' })).toHaveLength(1);
  });

  it('never writes the phone number or the message text in plain text to logs or database files', async () => {
    const secretText = 'Meine IBAN ist DE89370400440532013000';
    // A real wamid is base64 of a structure that holds the sender's number in clear: it must not be stored as is.
    const wamid = `wamid.${Buffer.concat([Buffer.from([0x1c, 0x18, 0x0d]), Buffer.from(CUSTOMER), Buffer.from([0x15, 0x02, 0x00, 0x12, 0x18, 0x14]), Buffer.from('3A7EB47C2F6BA30062F9')]).toString('base64')}`;
    expect(Buffer.from(wamid.slice('wamid.'.length), 'base64').includes(Buffer.from(CUSTOMER))).toBe(true);
    await w.webhook(textMessage(w.clock, wamid, secretText));
    await w.webhook(buttonReply(w.clock, 'wamid.PLAIN2', CONSENT_AGREE_ID, 'Zustimmen'));
    await w.drain();
    const logs = w.logs.join('');
    expect(logs).not.toContain(CUSTOMER);
    expect(logs).not.toContain('DE89370400440532013000');
    if (dialect === 'sqlite') {
      await w.sparsam.store.scrub();
      for (const file of w.sparsam.store.files) {
        if (!existsSync(file)) continue;
        const raw = readFileSync(file);
        expect(raw.includes(Buffer.from(CUSTOMER)), file).toBe(false);
        expect(raw.includes(Buffer.from('DE89370400440532013000')), file).toBe(false);
        expect(raw.includes(Buffer.from(wamid.slice('wamid.'.length))), file).toBe(false);
      }
    }
  });
});

import { ProviderRefs } from '../../src/store/sql/provider-ref.ts';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startSimulator, type WhatsAppSimulator } from '../../dev/simulator/whatsapp-simulator.ts';
import { describeEachStore, openTestStore, type TestStore } from '../support/stores.ts';
import { CUSTOMER, outboundWorld, PHONE_NUMBER_ID, waitFor, type OutboundWorld } from './outbound-fixture.ts';

/**
 * outbound-send against the WhatsApp Cloud API simulator (dev/simulator): Meta's request checks, the 24-hour
 * window (131047) and its failure modes (429 with Retry-After, 500) instead of a scripted stub.
 */
describeEachStore('outbound-send against the WhatsApp simulator', (dialect) => {
  let t: TestStore;
  let sim: WhatsAppSimulator;
  let hooks: FastifyInstance;
  let w: OutboundWorld;

  beforeEach(async () => {
    t = await openTestStore(dialect);
    // The simulator delivers the customer's message to a webhook URL; here a receiver that only answers 200.
    hooks = Fastify({ logger: false });
    hooks.post('/hook', async () => ({ ok: true }));
    const hookUrl = await hooks.listen({ port: 0, host: '127.0.0.1' });
    sim = await startSimulator({
      appSecret: 'test-app-secret',
      accessToken: 'test-access-token',
      phoneNumberId: PHONE_NUMBER_ID,
      webhookUrl: `${hookUrl}/hook`,
      verifyToken: 'test-verify-token',
      autoStatuses: false,
    });
    w = await outboundWorld(t.store, sim.url);
  });
  afterEach(async () => {
    await w.queue.stop();
    await sim.close();
    await hooks.close();
    await t.cleanup();
  });

  async function customerWrites(): Promise<void> {
    const delivery = await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo, ist mein Auto fertig?' });
    expect(delivery.delivered).toBe(true);
  }

  async function settled(id: string): Promise<void> {
    await waitFor(async () => ['sent', 'failed'].includes((await w.message(id))?.status ?? ''), 20_000);
  }

  it('delivers a reply inside the window and stores the wamid the provider gave', async () => {
    await customerWrites();
    const id = await w.queueMessage({ text: 'Ja, ab 16 Uhr.' });
    await w.queue.drain();
    const sent = sim.sentMessages();
    expect(sent.map((m) => [m.to, m.text])).toEqual([[CUSTOMER, 'Ja, ab 16 Uhr.']]);
    expect(await w.message(id)).toMatchObject({
      status: 'sent',
      // Stored as a keyed hash of the wamid: the wamid itself carries the customer's number.
      provider_message_id: new ProviderRefs(w.keys.pepper).ref(sent[0]!.id),
    });
  });

  it('rides out a 429 period (Retry-After) and the customer gets the message once', async () => {
    await customerWrites();
    sim.failureMode({ status: 429, forMs: 600 });
    const id = await w.queueMessage({ text: 'Einmal, bitte.' });
    w.queue.start();
    await settled(id);
    expect(sim.refused.map((r) => r.code)).toContain(130429);
    expect(sim.sentMessages().map((m) => m.text)).toEqual(['Einmal, bitte.']);
    expect((await w.message(id))?.status).toBe('sent');
  });

  it('keeps retrying while the provider answers 500 and then delivers once', async () => {
    await customerWrites();
    // Two refused calls, however slowly a loaded machine gets to them.
    sim.failureMode({ status: 500, forMs: 60_000, times: 2 });
    const id = await w.queueMessage({ text: 'Nach der Störung.' });
    w.queue.start();
    await settled(id);
    expect(sim.refused.length).toBeGreaterThanOrEqual(2);
    expect(sim.refused.every((r) => r.status === 500)).toBe(true);
    expect(sim.sentMessages().map((m) => m.text)).toEqual(['Nach der Störung.']);
    expect((await w.message(id))?.status).toBe('sent');
  });

  it('free text outside the 24-hour window fails with 131047 and the provider reason; a template goes out', async () => {
    const text = await w.queueMessage({ text: 'Ohne Fenster' });
    const template = await w.queueMessage({
      template: { name: 'termin_erinnerung', language: 'de', parameters: ['Mo'] },
    });
    await w.queue.drain();
    expect(await w.message(text)).toMatchObject({
      status: 'failed',
      error_code: '131047',
      error_reason: expect.stringContaining('more than 24 hours have passed'),
    });
    expect((await w.message(template))?.status).toBe('sent');
    expect(sim.sentMessages().map((m) => m.type)).toEqual(['template']);
    expect(sim.refused.filter((r) => r.code === 131047)).toHaveLength(1);
  });
});

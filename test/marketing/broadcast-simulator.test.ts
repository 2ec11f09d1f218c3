import { afterEach, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import type { WhatsAppSimulator } from '../../dev/simulator/whatsapp-simulator.ts';
import { startWhatsAppSimulator } from '../support/instances.ts';
import { describeEachStore } from '../support/stores.ts';
import type { World } from '../inbox/inbox-world.ts';
import { startMarketingWorld } from './marketing-world.ts';

const CUSTOMERS = ['4917610000001', '4917610000002', '4917610000003'];

describeEachStore('broadcast report with the WhatsApp simulator', (dialect) => {
  let w: World;
  let sim: WhatsAppSimulator;

  afterEach(async () => {
    await sim?.close();
    await w?.close();
  });

  it('counts read and failed as the simulator reports them, and skips the contact without marketing consent', async () => {
    const clock = new ManualClock(Date.now());
    sim = await startWhatsAppSimulator({
      statusDelayMs: 5,
      retryDelaysMs: [50, 100],
      now: () => clock.now().getTime(),
    });
    w = await startMarketingWorld(dialect, false, { clock, graphUrl: sim.url });
    // A port of its own (a port found free beforehand may be taken by a database connection meanwhile).
    await w.sparsam.http.listen({ port: 0, host: '127.0.0.1' });
    const { port } = w.sparsam.http.server.address() as { port: number };
    sim.setWebhookUrl(`http://127.0.0.1:${port}/webhooks/whatsapp/wa-main`);

    for (const from of CUSTOMERS) {
      await sim.sendCustomerMessage({ from, text: 'Hallo' });
      await w.drain();
      await sim.sendCustomerMessage({ from, buttonReply: { id: CONSENT_AGREE_ID, title: 'Zustimmen' } });
    }
    // The first two opt in to news; the third does not.
    await sim.sendCustomerMessage({ from: CUSTOMERS[0]!, text: 'NEWS' });
    await sim.sendCustomerMessage({ from: CUSTOMERS[1]!, text: 'Ja News' });
    await w.drain();
    await sim.settle();

    sim.failNextDelivery();
    const res = await w.api(
      'POST',
      '/api/v1/marketing/broadcasts',
      { channelId: 'wa-main', template: { name: 'spring_offer', language: 'de', parameters: ['Gratis-Check'] } },
      w.adminToken,
    );
    expect(res.statusCode).toBe(202);
    const id = res.json().campaign.id as string;
    await w.drain();
    await sim.settle();

    const templates = sim.sentMessages().filter((m) => m.template?.name === 'spring_offer');
    expect(templates.map((m) => m.to).sort()).toEqual([CUSTOMERS[0], CUSTOMERS[1]]);
    const report = (await w.api('GET', `/api/v1/marketing/broadcasts/${id}`, undefined, w.adminToken)).json()
      .campaign as Record<string, number>;
    expect(report).toMatchObject({ recipients: 2, skipped: 1, failed: 1, read: 1, queued: 0, optedOut: 0 });
  });
});

import { afterEach, expect, it } from 'vitest';
import { CONSENT_AGREE_ID } from '../../src/core/inbox/notices.ts';
import type { WhatsAppSimulator } from '../../dev/simulator/whatsapp-simulator.ts';
import { DAY_MS, ManualClock } from '../../src/shared/clock.ts';
import { startWhatsAppSimulator } from '../support/instances.ts';
import { describeEachStore } from '../support/stores.ts';
import { startWorld, type World } from './inbox-world.ts';

const CUSTOMER = '4917612345678';

describeEachStore('inbox end to end with the WhatsApp simulator', (dialect) => {
  let w: World;
  let sim: WhatsAppSimulator;
  let clock: ManualClock;

  async function start(eraseAfterCloseDays: number) {
    clock = new ManualClock(Date.now());
    sim = await startWhatsAppSimulator({
      statusDelayMs: 5,
      retryDelaysMs: [50, 100],
      now: () => clock.now().getTime(),
    });
    w = await startWorld(dialect, { clock, graphUrl: sim.url, eraseAfterCloseDays });
    // A port of its own (a port found free beforehand may be taken by one of the database connections meanwhile).
    await w.sparsam.http.listen({ port: 0, host: '127.0.0.1' });
    const { port } = w.sparsam.http.server.address() as { port: number };
    sim.setWebhookUrl(`http://127.0.0.1:${port}/webhooks/whatsapp/wa-main`);
  }

  afterEach(async () => {
    await sim?.close();
    await w?.close();
  });

  const conversations = async (view = 'all') =>
    (await w.api('GET', `/api/v1/conversations?view=${view}`)).json().items as { id: string; label: string }[];

  it('customer writes, agrees, agent replies with an API token, statuses arrive, close erases at once', async () => {
    await start(0);
    expect((await sim.verifyWebhook()).status).toBe(200);

    const first = await sim.sendCustomerMessage({ from: CUSTOMER, name: 'Erika', text: 'Wann ist mein Auto fertig?' });
    expect(first.delivered).toBe(true);
    expect(first.attempts).toHaveLength(1);
    await w.drain();
    const notice = sim.sentMessages()[0]!;
    expect(notice.to).toBe(CUSTOMER);
    expect(notice.buttons?.map((b) => b.title)).toEqual(['Zustimmen', 'Ablehnen']);
    expect(await conversations()).toEqual([]);

    const agree = notice.buttons!.find((b) => b.id === CONSENT_AGREE_ID)!;
    expect((await sim.sendCustomerMessage({ from: CUSTOMER, buttonReply: agree })).delivered).toBe(true);
    const [conv] = await conversations();
    expect(conv?.label).toBe('Anfrage 1');
    const detail = (await w.api('GET', `/api/v1/conversations/${conv!.id}`)).json();
    expect(detail.messages.map((m: { text: string }) => m.text)).toContain('Wann ist mein Auto fertig?');

    const reply = await w.api(
      'POST',
      `/api/v1/conversations/${conv!.id}/messages`,
      { text: 'Morgen ab 14 Uhr.' },
      w.agentToken,
    );
    expect(reply.statusCode).toBe(202);
    await w.drain();
    const sent = sim.sentMessages().find((m) => m.text === 'Morgen ab 14 Uhr.');
    expect(sent?.to).toBe(CUSTOMER);
    await sim.settle();
    const after = (await w.api('GET', `/api/v1/conversations/${conv!.id}`)).json();
    const mine = after.messages.find((m: { id: string }) => m.id === reply.json().message.id);
    expect(mine.status).toBe('read');

    const closed = await w.api('POST', `/api/v1/conversations/${conv!.id}/close`);
    expect(closed.json().conversation.erased).toBe(true);
    expect(await conversations('closed')).toEqual([]);
    expect(await w.sparsam.store.db.selectFrom('messages').select('id').execute()).toEqual([]);
  });

  it('a redelivered message is stored once and answered with one notice', async () => {
    await start(0);
    await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo', id: 'wamid.SAME' });
    await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo', id: 'wamid.SAME' });
    await w.drain();
    expect(sim.sentMessages()).toHaveLength(1);
    const inbound = await w.sparsam.store.db
      .selectFrom('messages')
      .select('id')
      .where('direction', '=', 'in')
      .execute();
    expect(inbound).toHaveLength(1);
  });

  it('keeps a closed conversation for N days and erases it when the clock passes erase_at', async () => {
    await start(3);
    await sim.sendCustomerMessage({ from: CUSTOMER, text: 'Hallo' });
    await w.drain();
    await sim.sendCustomerMessage({
      from: CUSTOMER,
      buttonReply: sim.sentMessages()[0]!.buttons!.find((b) => b.id === CONSENT_AGREE_ID)!,
    });
    const [conv] = await conversations();
    await w.api('POST', `/api/v1/conversations/${conv!.id}/close`);
    expect((await conversations('closed')).map((c) => c.id)).toEqual([conv!.id]);
    clock.advance(3 * DAY_MS - 60_000);
    await w.sparsam.retention.sweep();
    expect((await conversations('closed')).map((c) => c.id)).toEqual([conv!.id]);
    clock.advance(120_000);
    await w.sparsam.retention.sweep();
    expect(await conversations('closed')).toEqual([]);
    expect((await w.api('GET', `/api/v1/conversations/${conv!.id}`)).statusCode).toBe(404);
  });
});

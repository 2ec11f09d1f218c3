import { afterEach, expect, it } from 'vitest';
import { describeEachStore } from '../support/stores.ts';
import { statusUpdate, type World } from '../inbox/inbox-world.ts';
import { consentedCustomer, say, startMarketingWorld, textsTo } from './marketing-world.ts';

const ANNA = '4915111111111';
const BERT = '4915122222222';
const CARO = '4915133333333';

const OFFER = {
  channelId: 'wa-main',
  template: { name: 'spring_offer', language: 'de', parameters: ['10 % auf Reifen'] },
};

describeEachStore('marketing consent and broadcasts', (dialect) => {
  let w: World;
  afterEach(async () => {
    await w.close();
  });

  const templatesTo = (to: string) => w.graph.sends.filter((s) => s.to === to && s.type === 'template');

  async function broadcast(): Promise<{ id: string; recipients: number; skipped: number }> {
    const res = await w.api('POST', '/api/v1/marketing/broadcasts', OFFER, w.adminToken);
    expect(res.statusCode).toBe(202);
    const { campaign } = res.json() as { campaign: { id: string; recipients: number; skipped: number } };
    await w.drain();
    return campaign;
  }

  async function report(id: string) {
    const res = await w.api('GET', `/api/v1/marketing/broadcasts/${id}`, undefined, w.adminToken);
    expect(res.statusCode).toBe(200);
    return res.json().campaign as Record<string, number>;
  }

  it('a keyword opt-in lets broadcasts reach only opted-in contacts; the unsubscribe keyword stops the next', async () => {
    w = await startMarketingWorld(dialect, false);
    await consentedCustomer(w, ANNA);
    await consentedCustomer(w, BERT);
    await say(w, ANNA, 'news!');
    expect(textsTo(w, ANNA).some((t) => t.includes('Neuigkeiten'))).toBe(true);
    const anna = (await w.sparsam.directory.findByAddress('wa-main', 'whatsapp-cloud', ANNA))!;
    const bert = (await w.sparsam.directory.findByAddress('wa-main', 'whatsapp-cloud', BERT))!;
    expect((await w.sparsam.consent.status(anna.id, 'marketing')).allowed).toBe(true);
    expect((await w.sparsam.consent.status(bert.id, 'marketing')).allowed).toBe(false);

    const first = await broadcast();
    expect(first.recipients).toBe(1);
    expect(first.skipped).toBe(1);
    expect(templatesTo(ANNA)).toHaveLength(1);
    expect(templatesTo(BERT)).toHaveLength(0);
    expect(templatesTo(ANNA)[0]!.body.template).toMatchObject({ name: 'spring_offer' });

    // Statuses from WhatsApp drive the report.
    const wamid = templatesTo(ANNA)[0]!.id;
    expect(await report(first.id)).toMatchObject({ recipients: 1, sent: 1, delivered: 0, read: 0, optedOut: 0 });
    await w.webhook(statusUpdate(w.clock, wamid, 'delivered', ANNA));
    expect(await report(first.id)).toMatchObject({ sent: 0, delivered: 1 });
    await w.webhook(statusUpdate(w.clock, wamid, 'read', ANNA));
    expect(await report(first.id)).toMatchObject({ delivered: 0, read: 1 });

    // Unsubscribe: marketing withdrawn at once and confirmed; the service conversation stays.
    await say(w, ANNA, 'News Stop');
    expect(textsTo(w, ANNA).some((t) => t.includes('keine Neuigkeiten mehr'))).toBe(true);
    expect((await w.sparsam.consent.status(anna.id, 'marketing')).allowed).toBe(false);
    expect((await w.sparsam.consent.status(anna.id, 'service')).allowed).toBe(true);
    expect(await report(first.id)).toMatchObject({ optedOut: 1 });

    const second = await broadcast();
    expect(second.recipients).toBe(0);
    expect(second.skipped).toBe(2);
    expect(templatesTo(ANNA)).toHaveLength(1);
    expect(templatesTo(BERT)).toHaveLength(0);

    const audit = await w.sparsam.audit.list({ action: 'marketing.broadcast' });
    expect(audit).toHaveLength(2);
  });

  it('imports a consent with evidence, reports a failed delivery, and refuses agents and non-marketing templates', async () => {
    w = await startMarketingWorld(dialect, false);
    const body = {
      channelId: 'wa-main',
      address: CARO,
      evidence: 'Anmeldekarte im Autohaus, Nr. 4711',
      collectedAt: '2026-11-20T10:00:00Z',
    };
    expect((await w.api('POST', '/api/v1/marketing/consents', body, w.agentToken)).statusCode).toBe(403);
    expect((await w.api('POST', '/api/v1/marketing/consents', body, '')).statusCode).toBe(401);
    expect((await w.api('GET', '/api/v1/marketing/broadcasts', undefined, w.dpoToken)).statusCode).toBe(403);
    const doc = (await w.api('GET', '/api/v1/openapi.json', undefined, w.adminToken)).json() as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/marketing/consents',
        '/api/v1/marketing/broadcasts',
        '/api/v1/marketing/broadcasts/{id}',
      ]),
    );
    const res = await w.api('POST', '/api/v1/marketing/consents', body, w.adminToken);
    expect(res.statusCode).toBe(201);
    const { contactId } = res.json() as { contactId: string };
    const history = await w.sparsam.consent.history(contactId);
    expect(history.find((h) => h.purpose === 'marketing')?.evidence).toContain('Nr. 4711');

    const bad = await w.api(
      'POST',
      '/api/v1/marketing/broadcasts',
      { ...OFFER, template: { name: 'appointment_reminder', language: 'de', parameters: ['1', '2'] } },
      w.adminToken,
    );
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('MARKETING');
    expect(w.graph.sends.filter((x) => x.type === 'template')).toHaveLength(0);

    const campaign = await broadcast();
    expect(campaign.recipients).toBe(1);
    // Imported for marketing only: the broadcast's conversation waits for a service consent, hidden from staff.
    const list = await w.api('GET', '/api/v1/conversations?view=all', undefined, w.adminToken);
    expect(list.json().items).toHaveLength(0);
    const sent = templatesTo(CARO);
    expect(sent).toHaveLength(1);
    await w.webhook(
      statusUpdate(w.clock, sent[0]!.id, 'failed', CARO, { code: 131026, title: 'Undeliverable', details: 'x' }),
    );
    expect(await report(campaign.id)).toMatchObject({ recipients: 1, failed: 1, sent: 0 });
  });
});

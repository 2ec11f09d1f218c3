import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startSimulator, type WhatsAppSimulator } from '../../../dev/simulator/whatsapp-simulator.ts';
import { CONSENT_AGREE_ID } from '../../../src/core/inbox/notices.ts';
import { describeEachStore } from '../../support/stores.ts';
import { APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN, startWorld, type World } from '../../inbox/inbox-world.ts';

/**
 * The WhatsApp Business Account managed from sparsam, against the simulated Graph API: the connection test,
 * templates (sync across pages, create with review webhooks, reject with reason, delete, status webhooks for
 * templates not synced yet), account health (stored, audited once, the banner), the business profile (fields,
 * photo through the image sanitizer, the privacy-notice link).
 */

const WABA_ID = '102290129340398';
const PRIVACY_URL = 'https://autohaus.example/datenschutz';
const photoPath = path.join(import.meta.dirname, '../../fixtures/images/jpg_gps_DSCN0010.jpg');

async function eventually<T>(read: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

type TemplateItem = { name: string; language: string; status: string; reason: string | null; category: string };

describeEachStore('whatsapp business account against the simulator', (dialect) => {
  let w: World;
  let sim: WhatsAppSimulator;
  const seeded = Array.from({ length: 130 }, (_, i) => ({
    name: `seeded_${String(i).padStart(3, '0')}`,
    language: 'de',
    category: i % 2 ? 'UTILITY' : 'MARKETING',
    body: `Vorlage ${i}: Ihr Termin am {{1}}.`,
  }));

  beforeEach(async () => {
    sim = await startSimulator({
      appSecret: APP_SECRET,
      accessToken: 'test-access-token',
      phoneNumberId: PHONE_NUMBER_ID,
      verifyToken: VERIFY_TOKEN,
      webhookUrl: 'http://127.0.0.1:9/webhooks/whatsapp',
      businessAccountId: WABA_ID,
      templates: seeded,
      templateReview: { delayMs: 100 },
      retryDelaysMs: [100, 300],
    });
    w = await startWorld(dialect, {
      graphUrl: sim.url,
      editYaml: (yaml) =>
        yaml
          .replace(
            '    graphBaseUrl:',
            `    businessAccountId: "${WABA_ID}"\n    appId: "1234567890"\n    graphBaseUrl:`,
          )
          .replace(/(contact: .*\n)/, `$1  privacyNoticeUrl: ${PRIVACY_URL}\n`),
    });
    const address = await w.sparsam.http.listen({ port: 0, host: '127.0.0.1' });
    sim.setWebhookUrl(`${address}/webhooks/whatsapp`);
  });
  afterEach(async () => {
    await sim.close();
    await w.close();
  });

  const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, token = w.adminToken) =>
    w.sparsam.http.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload !== undefined ? { payload: payload as string } : {}),
    });
  const templates = async () =>
    (await api('GET', '/admin/channels/wa-main/whatsapp/templates')).json<{ items: TemplateItem[] }>().items;
  const audit = async (action: string) =>
    w.sparsam.store.db.selectFrom('audit_log').selectAll().where('action', '=', action).execute();

  it('"test connection" reaches the simulated phone number and names it', async () => {
    const res = await api('POST', '/admin/channels/wa-main/test');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true, reason: 'connected', name: 'sparsam Demo' });
  });

  it('syncs every template across pages and keeps configured ones not at Meta as CONFIGURED', async () => {
    const before = await templates();
    expect(before.map((t) => [t.name, t.status])).toEqual([['appointment_reminder', 'CONFIGURED']]);
    const res = await api('POST', '/admin/channels/wa-main/whatsapp/templates/sync');
    expect(res.statusCode).toBe(200);
    const after = await templates();
    expect(after.filter((t) => t.name.startsWith('seeded_'))).toHaveLength(130);
    expect(after.find((t) => t.name === 'seeded_129')).toMatchObject({ status: 'APPROVED', category: 'UTILITY' });
    // Two pages of at most 100: the second fetched with the cursor, from sparsam's own Graph root.
    expect(after.find((t) => t.name === 'appointment_reminder')?.status).toBe('CONFIGURED');
    const synced = await audit('whatsapp.templates_synced');
    expect(JSON.parse(synced[0]!.details ?? '{}')).toMatchObject({ templates: 130 });
    // Approved templates are offered to agents.
    const offered = (await api('GET', '/channels/wa-main/templates', undefined, w.agentToken)).json<{
      items: { name: string }[];
    }>().items;
    expect(offered.map((t) => t.name)).toContain('seeded_042');
  });

  it('submits a template with header, variables, footer and buttons; Meta approves it by webhook', async () => {
    const draft = {
      name: 'abholung_bereit',
      language: 'de',
      category: 'UTILITY',
      header: { format: 'TEXT', text: 'Auftrag {{1}}', example: '4711' },
      body: 'Guten Tag, Ihr Fahrzeug {{1}} ist ab {{2}} abholbereit.',
      bodyExamples: ['B-AB 123', '16 Uhr'],
      footer: 'Autohaus Beispiel',
      buttons: [
        { type: 'QUICK_REPLY', text: 'Passt' },
        {
          type: 'URL',
          text: 'Auftrag ansehen',
          url: 'https://autohaus.example/a/{{1}}',
          example: 'https://autohaus.example/a/4711',
        },
        { type: 'PHONE_NUMBER', text: 'Anrufen', phoneNumber: '+4930123456' },
      ],
    };
    const res = await api('POST', '/admin/channels/wa-main/whatsapp/templates', draft);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ item: { name: 'abholung_bereit', status: 'PENDING' } });
    const atMeta = sim.templates().find((t) => t.name === 'abholung_bereit')!;
    expect(atMeta.components).toEqual([
      { type: 'HEADER', format: 'TEXT', text: 'Auftrag {{1}}', example: { header_text: ['4711'] } },
      {
        type: 'BODY',
        text: 'Guten Tag, Ihr Fahrzeug {{1}} ist ab {{2}} abholbereit.',
        example: { body_text: [['B-AB 123', '16 Uhr']] },
      },
      { type: 'FOOTER', text: 'Autohaus Beispiel' },
      {
        type: 'BUTTONS',
        buttons: [
          { type: 'QUICK_REPLY', text: 'Passt' },
          {
            type: 'URL',
            text: 'Auftrag ansehen',
            url: 'https://autohaus.example/a/{{1}}',
            example: ['https://autohaus.example/a/4711'],
          },
          { type: 'PHONE_NUMBER', text: 'Anrufen', phone_number: '+4930123456' },
        ],
      },
    ]);
    const approved = await eventually(async () =>
      (await templates()).find((t) => t.name === 'abholung_bereit' && t.status === 'APPROVED'),
    );
    expect(approved.reason).toBeNull();
    // Offered to agents with its header and buttons for the preview.
    const offered = (await api('GET', '/channels/wa-main/templates', undefined, w.agentToken)).json<{
      items: { name: string; header?: unknown; buttons?: unknown[] }[];
    }>().items;
    const item = offered.find((t) => t.name === 'abholung_bereit')!;
    expect(item.header).toEqual({ format: 'TEXT', text: 'Auftrag {{1}}', example: '4711' });
    expect(item.buttons).toHaveLength(3);
  });

  it('an agent sends the approved template with its header, body and link-button values as components', async () => {
    const created = await api('POST', '/admin/channels/wa-main/whatsapp/templates', {
      name: 'auftrag_status',
      language: 'de',
      category: 'UTILITY',
      header: { format: 'TEXT', text: 'Auftrag {{1}}', example: '4711' },
      body: 'Ihr Fahrzeug {{1}} ist fertig.',
      bodyExamples: ['B-AB 123'],
      buttons: [
        { type: 'QUICK_REPLY', text: 'Danke' },
        {
          type: 'URL',
          text: 'Rechnung',
          url: 'https://autohaus.example/r/{{1}}',
          example: 'https://autohaus.example/r/1',
        },
      ],
    });
    expect(created.statusCode).toBe(201);
    await eventually(async () =>
      (await templates()).find((t) => t.name === 'auftrag_status' && t.status === 'APPROVED'),
    );
    const from = '4915112345678';
    expect((await sim.sendCustomerMessage({ from, text: 'Hallo' })).delivered).toBe(true);
    expect(
      (await sim.sendCustomerMessage({ from, buttonReply: { id: CONSENT_AGREE_ID, title: 'Zustimmen' } })).delivered,
    ).toBe(true);
    await w.drain();
    const id = (await api('GET', '/conversations', undefined, w.agentToken)).json<{ items: { id: string }[] }>()
      .items[0]!.id;
    const reply = (template: Record<string, unknown>) =>
      api(
        'POST',
        `/conversations/${id}/messages`,
        { template: { name: 'auftrag_status', language: 'de', ...template } },
        w.agentToken,
      );
    // Without the header's and the link button's values: refused before anything is queued.
    const missing = await reply({ parameters: ['B-AB 123'] });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ error: { details: { field: 'template.headerText' } } });
    const ok = await reply({ parameters: ['B-AB 123'], header: '4711', buttons: ['4711'] });
    expect(ok.statusCode).toBe(202);
    expect(ok.json()).toMatchObject({ message: { text: 'Ihr Fahrzeug B-AB 123 ist fertig.' } });
    await w.drain();
    const sent = await eventually(async () => sim.sentMessages().find((m) => m.template?.name === 'auftrag_status'));
    expect((sent.body.template as { components: unknown }).components).toEqual([
      { type: 'header', parameters: [{ type: 'text', text: '4711' }] },
      { type: 'body', parameters: [{ type: 'text', text: 'B-AB 123' }] },
      { type: 'button', sub_type: 'url', index: '1', parameters: [{ type: 'text', text: '4711' }] },
    ]);
  });

  it("refuses drafts beyond Meta's limits before calling Meta", async () => {
    const base = { name: 'zu_lang', language: 'de', category: 'UTILITY', body: 'Hallo {{1}}, bis bald.' };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, bodyExamples: [] }, 'bodyExamples'],
      [{ ...base, bodyExamples: ['Eva'], footer: 'x'.repeat(61) }, 'footer'],
      [{ ...base, body: '{{1}} am Anfang', bodyExamples: ['Eva'] }, 'body'],
      [
        {
          ...base,
          bodyExamples: ['Eva'],
          buttons: [
            { type: 'PHONE_NUMBER', text: 'A', phoneNumber: '+491' + '1'.repeat(8) },
            { type: 'PHONE_NUMBER', text: 'B', phoneNumber: '+492' + '2'.repeat(8) },
          ],
        },
        'buttons',
      ],
      [{ ...base, bodyExamples: ['Eva'], name: 'Gross' }, 'name'],
    ];
    for (const [draft, field] of cases) {
      const res = await api('POST', '/admin/channels/wa-main/whatsapp/templates', draft);
      expect({ field, status: res.statusCode }).toEqual({ field, status: 400 });
    }
    expect(sim.templates().some((t) => t.name === 'zu_lang')).toBe(false);
  });

  it('shows a rejection with its reason, and deletes a template at Meta and here', async () => {
    const res = await api('POST', '/admin/channels/wa-main/whatsapp/templates', {
      name: 'will_reject',
      language: 'de',
      category: 'MARKETING',
      body: 'Nur heute!',
    });
    expect(res.statusCode).toBe(201);
    const rejected = await eventually(async () =>
      (await templates()).find((t) => t.name === 'will_reject' && t.status === 'REJECTED'),
    );
    expect(rejected.reason).toBe('INVALID_FORMAT');
    const del = await api('DELETE', '/admin/channels/wa-main/whatsapp/templates/will_reject');
    expect(del.statusCode).toBe(200);
    expect(sim.templates().some((t) => t.name === 'will_reject')).toBe(false);
    expect((await templates()).some((t) => t.name === 'will_reject')).toBe(false);
    // Deleting what Meta does not have is Meta's refusal, shown with its reason.
    const again = await api('DELETE', '/admin/channels/wa-main/whatsapp/templates/will_reject');
    expect(again.statusCode).toBe(502);
    expect(again.json()).toMatchObject({ error: { code: 'PROVIDER_REFUSED' } });
  });

  it('follows status and category webhooks for templates not synced yet, once, in any order', async () => {
    const t0 = Date.UTC(2026, 10, 23, 10, 0, 0);
    const paused = await sim.reviewTemplate('unbekannt', 'en_US', 'PAUSED', 'NONE', { time: t0 + 2000 });
    expect(paused.delivered).toBe(true);
    // An older APPROVED arriving later changes nothing.
    await sim.reviewTemplate('unbekannt', 'en_US', 'APPROVED', 'NONE', { time: t0 });
    await sim.sendAccountUpdate(
      'template_category_update',
      {
        message_template_id: 1_999_000_000_000,
        message_template_name: 'unbekannt',
        message_template_language: 'en_US',
        previous_category: 'UTILITY',
        new_category: 'MARKETING',
      },
      { time: t0 + 3000 },
    );
    const row = (await templates()).find((t) => t.name === 'unbekannt')!;
    expect(row).toMatchObject({ status: 'PAUSED', category: 'MARKETING' });
    // Redelivered: no second audit entry.
    await sim.reviewTemplate('unbekannt', 'en_US', 'PAUSED', 'NONE', { time: t0 + 2000 });
    expect(await audit('whatsapp.template_status')).toHaveLength(1);
    expect(await audit('whatsapp.template_category')).toHaveLength(1);
  });

  it('stores account health content-free, audits each change once, and raises the admins’ banner', async () => {
    const t0 = Date.UTC(2026, 10, 23, 10, 0, 0);
    expect((await api('GET', '/admin/whatsapp/alerts')).json()).toEqual({ items: [] });
    await sim.sendAccountUpdate(
      'phone_number_quality_update',
      { display_phone_number: '4930901820', event: 'FLAGGED', current_limit: 'TIER_1K' },
      { time: t0 },
    );
    await sim.sendAccountUpdate(
      'account_update',
      {
        event: 'ACCOUNT_RESTRICTION',
        restriction_info: [
          { restriction_type: 'RESTRICTED_BIZ_INITIATED_MESSAGING', expiration: '2099-01-01T00:00:00+0000' },
        ],
      },
      { time: t0 + 1000 },
    );
    await sim.sendAccountUpdate(
      'business_capability_update',
      { max_daily_conversation_per_phone: 1000, max_phone_numbers_per_business: 2 },
      { time: t0 },
    );
    const health = (await api('GET', '/admin/channels/wa-main/whatsapp/health')).json();
    expect(health).toMatchObject({
      needsAttention: true,
      reasons: expect.arrayContaining(['flagged', 'quality_low', 'restricted']),
      qualityEvent: 'FLAGGED',
      messagingLimit: 'TIER_1K',
      capability: { max_daily_conversation_per_phone: 1000, max_phone_numbers_per_business: 2 },
      restrictions: [{ type: 'RESTRICTED_BIZ_INITIATED_MESSAGING', expiresAt: '2099-01-01T00:00:00+0000' }],
    });
    expect((await api('GET', '/admin/whatsapp/alerts')).json()).toEqual({
      items: [{ channelId: 'wa-main', reasons: expect.arrayContaining(['flagged', 'restricted']) }],
    });
    // Agents do not see the account's health.
    expect((await api('GET', '/admin/whatsapp/alerts', undefined, w.agentToken)).statusCode).toBe(403);
    // Redelivered and an older one: no change, no audit entry.
    await sim.sendAccountUpdate(
      'phone_number_quality_update',
      { display_phone_number: '4930901820', event: 'FLAGGED', current_limit: 'TIER_1K' },
      { time: t0 },
    );
    await sim.sendAccountUpdate(
      'phone_number_quality_update',
      { display_phone_number: '4930901820', event: 'UNFLAGGED', current_limit: 'TIER_1K' },
      { time: t0 - 60_000 },
    );
    const entries = await audit('whatsapp.account_health');
    expect(entries).toHaveLength(3);
    expect(JSON.stringify(entries)).not.toContain('4930901820');
    // Quality recovers: the flag goes, the restriction stays until it ends.
    await sim.sendAccountUpdate(
      'phone_number_quality_update',
      { display_phone_number: '4930901820', event: 'UNFLAGGED', current_limit: 'TIER_10K' },
      { time: t0 + 5000 },
    );
    const later = (await api('GET', '/admin/channels/wa-main/whatsapp/health')).json<{ reasons: string[] }>();
    expect(later.reasons).toEqual(['restricted']);
  });

  it('edits the business profile, sets a cleaned photo and puts the privacy notice link in with one click', async () => {
    const profile = (await api('GET', '/admin/channels/wa-main/whatsapp/profile')).json();
    expect(profile).toMatchObject({ privacyNoticeUrl: PRIVACY_URL, profile: { vertical: 'OTHER' } });
    const update = await api('POST', '/admin/channels/wa-main/whatsapp/profile', {
      about: 'Ihr Autohaus in Berlin',
      email: 'service@autohaus.example',
      websites: ['https://autohaus.example'],
      vertical: 'AUTO',
    });
    expect(update.statusCode).toBe(200);
    expect(sim.profile()).toMatchObject({ about: 'Ihr Autohaus in Berlin', vertical: 'AUTO' });
    const tooLong = await api('POST', '/admin/channels/wa-main/whatsapp/profile', { about: 'x'.repeat(140) });
    expect(tooLong.statusCode).toBe(400);

    const link = await api('POST', '/admin/channels/wa-main/whatsapp/profile/privacy-link', {});
    expect(link.json()).toMatchObject({ placed: 'websites' });
    expect(sim.profile().websites).toEqual(['https://autohaus.example', PRIVACY_URL]);
    const again = await api('POST', '/admin/channels/wa-main/whatsapp/profile/privacy-link', {});
    expect(again.json()).toMatchObject({ placed: 'already' });

    const original = readFileSync(photoPath);
    expect(original.includes(Buffer.from('Exif'))).toBe(true);
    const photo = await w.sparsam.http.inject({
      method: 'POST',
      url: '/api/v1/admin/channels/wa-main/whatsapp/profile/photo',
      headers: { authorization: `Bearer ${w.adminToken}`, 'content-type': 'image/jpeg' },
      payload: original,
    });
    expect(photo.statusCode).toBe(200);
    const uploaded = sim.profile().photo!;
    expect(uploaded.mimeType).toBe('image/jpeg');
    expect(uploaded.data.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(uploaded.data.includes(Buffer.from('Exif'))).toBe(false);
    const notImage = await w.sparsam.http.inject({
      method: 'POST',
      url: '/api/v1/admin/channels/wa-main/whatsapp/profile/photo',
      headers: { authorization: `Bearer ${w.adminToken}`, 'content-type': 'image/jpeg' },
      payload: Buffer.from('<html>no</html>'),
    });
    expect(notImage.statusCode).toBe(415);
    const updates = await audit('whatsapp.profile_updated');
    expect(updates.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(updates)).not.toContain('Ihr Autohaus');
  });
});

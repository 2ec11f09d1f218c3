import { afterEach, beforeEach, expect, it } from 'vitest';
import { pdfPageSizes, pdfText } from '../support/pdf-text.ts';
import { describeEachStore } from '../support/stores.ts';
import { CUSTOMER, startWorld, type World } from '../inbox/inbox-world.ts';
import { call, consentedConversation } from './compliance-world.ts';

describeEachStore('reveal of a real address', (dialect) => {
  let w: World;
  let id: string;
  beforeEach(async () => {
    w = await startWorld(dialect);
    id = await consentedConversation(w, CUSTOMER, 'Bitte rufen Sie mich an', 'R');
  });
  afterEach(async () => {
    await w.close();
  });

  const reveal = (body: unknown, token: string) => w.api('POST', `/api/v1/conversations/${id}/reveal`, body, token);

  it('requires a role and a reason, returns the address, and is audited without it', async () => {
    expect((await reveal({ reason: 'customer asked for a call back' }, w.agentToken)).statusCode).toBe(403);
    expect((await reveal({ reason: 'customer asked for a call back' }, '')).statusCode).toBe(401);
    expect((await reveal({}, w.adminToken)).statusCode).toBe(400);
    expect((await reveal({ reason: '   ' }, w.adminToken)).statusCode).toBe(400);
    // A reason that would put personal data into the audit log is refused.
    expect((await reveal({ reason: `call ${CUSTOMER}` }, w.adminToken)).statusCode).toBe(400);
    expect((await w.api('GET', '/api/v1/compliance/reveals', undefined, w.adminToken)).json().items).toEqual([]);

    const res = await reveal({ reason: 'customer asked for a call back' }, w.adminToken);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toContain('no-store');
    expect(res.json()).toMatchObject({
      conversationId: id,
      label: 'Anfrage 1',
      address: CUSTOMER,
      profileName: 'Erika Mustermann',
    });
    expect((await reveal({ reason: 'checking the number for the DPO' }, w.dpoToken)).statusCode).toBe(200);

    const reveals = (await w.api('GET', '/api/v1/compliance/reveals', undefined, w.adminToken)).json().items as {
      actor: string;
      conversationId: string;
      label: string;
      reason: string;
    }[];
    expect(reveals.map((r) => r.reason)).toEqual(['checking the number for the DPO', 'customer asked for a call back']);
    expect(reveals[1]).toMatchObject({
      conversationId: id,
      label: 'Anfrage 1',
      actor: expect.stringMatching(/^token:/),
    });
    expect(JSON.stringify(reveals)).not.toContain(CUSTOMER);
    expect((await w.api('GET', '/api/v1/compliance/reveals', undefined, w.agentToken)).statusCode).toBe(403);
    expect(
      (await w.api('POST', '/api/v1/conversations/nope/reveal', { reason: 'unknown conversation' }, w.adminToken))
        .statusCode,
    ).toBe(404);
  });
});

describeEachStore('record of processing and privacy notice from the live configuration', (dialect) => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld(dialect, { eraseAfterCloseDays: 30, consentTimeoutHours: 12 });
  });
  afterEach(async () => {
    await w.close();
  });

  const doc = (path: string, query: string, token = w.dpoToken) =>
    w.api('GET', `/api/v1/compliance/${path}?${query}`, undefined, token);

  it("lists every channel's processor and the inbox's periods, and follows a change of the settings", async () => {
    const en = await doc('ropa', 'lang=en&format=md');
    expect(en.statusCode).toBe(200);
    expect(en.headers['content-type']).toContain('text/markdown');
    expect(en.body).toContain('# Record of processing activities (Art. 30(1) GDPR)');
    expect(en.body).toContain('| WhatsApp (Cloud API) (wa-main) | Meta Platforms Ireland Limited');
    expect(en.body).toContain('EU-US Data Privacy Framework');
    expect(en.body).toContain('erased after 12 hours without consent');
    expect(en.body).toContain('erased 30 days after closing');
    expect(en.body).toContain('Autohaus Beispiel GmbH');
    expect(en.body).toContain('Art. 6(1)(a) GDPR');

    const de = await doc('ropa', 'lang=de&format=md');
    expect(de.body).toContain('# Verzeichnis von Verarbeitungstätigkeiten (Art. 30 Abs. 1 DSGVO)');
    expect(de.body).toContain('gelöscht 30 Tage nach dem Schließen');

    // The admin changes the inbox's erasure period: the record follows.
    const changed = await call(
      w,
      'PUT',
      '/api/v1/admin/inboxes/service',
      { retention: { eraseAfterCloseDays: 7 } },
      w.adminToken,
    );
    expect(changed.statusCode).toBe(200);
    const after = await doc('ropa', 'lang=en&format=md');
    expect(after.body).toContain('erased 7 days after closing');
    expect(after.body).not.toContain('erased 30 days after closing');

    // The kill switch shows.
    await w.api(
      'POST',
      '/api/v1/admin/channels/wa-main/kill-switch',
      { enabled: false, reason: 'maintenance window' },
      w.adminToken,
    );
    expect((await doc('ropa', 'lang=en&format=md')).body).toContain('(wa-main, switched off)');
  });

  it('renders HTML, the privacy notice in both languages, and refuses agents and bad formats', async () => {
    const html = await doc('ropa', 'lang=de&format=html');
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.body).toMatch(/^<!doctype html><html lang="de">/);
    expect(html.body).toContain('<td>Meta Platforms Ireland Limited');

    const notice = await doc('privacy-notice', 'lang=de');
    expect(notice.body).toContain('# Datenschutzhinweise');
    expect(notice.body).toContain('„STOP“');
    expect(notice.body).toContain('Art. 77 DSGVO');
    const noticeEn = await doc('privacy-notice', 'lang=en', w.adminToken);
    expect(noticeEn.body).toContain('withdraw your consent at any time');

    expect((await doc('ropa', 'lang=en', w.agentToken)).statusCode).toBe(403);
    expect((await doc('ropa', 'lang=fr')).statusCode).toBe(400);
    expect((await doc('ropa', 'format=docx')).statusCode).toBe(400);
  });
});

describeEachStore('documents as PDF', (dialect) => {
  let w: World;
  beforeEach(async () => {
    w = await startWorld(dialect);
  });
  afterEach(async () => {
    await w.close();
  });

  it('typesets the record of processing as an A4 PDF without a browser, Empfänger and warning included', async () => {
    const previous = process.env.SPARSAM_CHROMIUM;
    process.env.SPARSAM_CHROMIUM = '/nonexistent/chromium';
    try {
      const res = await w.api('GET', '/api/v1/compliance/ropa?lang=de&format=pdf', undefined, w.dpoToken);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/pdf');
      const pdf = res.rawPayload;
      expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      const pages = pdfPageSizes(pdf);
      expect(pages.length).toBeGreaterThan(0);
      // A4 is 595.28 × 841.89 pt; US Letter would be 612 × 792.
      for (const page of pages) {
        expect(page.width).toBeCloseTo(595.28, 1);
        expect(page.height).toBeCloseTo(841.89, 1);
      }
      const text = pdfText(pdf).replace(/\s+/g, ' ');
      expect(text).toContain('Verzeichnis von Verarbeitungstätigkeiten');
      expect(text).toContain('Empfänger und Auftragsverarbeiter je Kanal');
      expect(text).toContain('Meta Platforms Ireland Limited');
      expect(text).toContain(`Seite 1 von ${pages.length}`);
      // The test world's controller uses a domain reserved for examples: the draft warning is printed.
      expect(text).toContain('Entwurf – nicht verwenden');
    } finally {
      if (previous === undefined) delete process.env.SPARSAM_CHROMIUM;
      else process.env.SPARSAM_CHROMIUM = previous;
    }
  });
});

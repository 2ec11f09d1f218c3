import { sealField } from '../../src/core/privacy/keys/field-cipher.ts';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeEachStore } from '../support/stores.ts';
import { CUSTOMER, imageMessage, startWorld, type World } from '../inbox/inbox-world.ts';
import { call, consentedConversation } from './compliance-world.ts';

const GPS_PHOTO = '/work/shared/fixtures/images/jpg_gps_DSCN0010.jpg';
const OTHER = '491700009999';

interface Bundle {
  format: string;
  subject: { contactId: string; address: string; profileName: string | null; label: string; channelId: string };
  conversations: {
    id: string;
    label: string;
    state: string;
    labels: string[];
    messages: { id: string; direction: string; text: string | null; status: string; mediaId: string | null }[];
    media: { id: string; mimeType: string; size: number; dataBase64: string | null }[];
  }[];
  consent: { purpose: string; action: string; method: string }[];
  audit: { action: string; targetId: string | null; details: Record<string, unknown> }[];
}

describeEachStore('data subject requests over the API', (dialect) => {
  let w: World;
  let mine: string;
  let theirs: string;
  beforeEach(async () => {
    w = await startWorld(dialect);
    mine = await consentedConversation(w, CUSTOMER, 'Mein Auto macht Geräusche', 'A');
    w.graph.media.set('media-photo-1', { data: readFileSync(GPS_PHOTO), mime: 'image/jpeg' });
    expect((await w.webhook(imageMessage(w.clock, 'wamid.A3', 'media-photo-1'))).statusCode).toBe(200);
    await w.drain();
    expect(
      (await w.api('POST', `/api/v1/conversations/${mine}/messages`, { text: 'Kommen Sie Dienstag vorbei' }))
        .statusCode,
    ).toBe(202);
    expect((await w.api('POST', '/api/v1/labels', { name: 'Werkstatt' }, w.adminToken)).statusCode).toBe(201);
    expect(
      (await w.api('POST', `/api/v1/conversations/${mine}/labels`, { labels: ['Werkstatt'] }, w.adminToken)).statusCode,
    ).toBe(200);
    await w.drain();
    theirs = await consentedConversation(w, OTHER, 'Frage zur Rechnung von Herrn Fremd', 'B');
  });
  afterEach(async () => {
    await w.close();
  });

  const exportFor = (address: string, token = w.dpoToken, extra: Record<string, unknown> = {}) =>
    w.api(
      'POST',
      '/api/v1/compliance/dsar/export',
      { channelId: 'wa-main', address, reason: 'Art. 15 request by letter, ticket 17', ...extra },
      token,
    );

  it('exports only for a stated reason, audits it, and lists the read to the admins', async () => {
    for (const reason of [undefined, '', 'ok', '+49 151 12345678']) {
      const refused = await w.api(
        'POST',
        '/api/v1/compliance/dsar/export',
        { channelId: 'wa-main', address: CUSTOMER, ...(reason === undefined ? {} : { reason }) },
        w.dpoToken,
      );
      expect(refused.statusCode).toBe(400);
      expect(refused.body).not.toContain('Geräusche');
    }
    expect(
      (await w.api('GET', '/api/v1/compliance/audit?action=dsar.export', undefined, w.dpoToken)).json().items,
    ).toEqual([]);
    expect((await exportFor(CUSTOMER)).statusCode).toBe(200);
    const audit = (await w.api('GET', '/api/v1/compliance/audit?action=dsar.export', undefined, w.dpoToken)).json()
      .items as { actor: string; details: Record<string, unknown> }[];
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ reason: 'Art. 15 request by letter, ticket 17', label: 'Anfrage 1' });
    // The admins' notice: every content read with who, when and why (the admin start page shows this list).
    const reads = (await w.api('GET', '/api/v1/compliance/reveals', undefined, w.adminToken)).json().items as {
      kind: string;
      actor: string;
      label: string;
      reason: string;
    }[];
    expect(reads).toEqual([
      expect.objectContaining({
        kind: 'export',
        actor: audit[0]!.actor,
        label: 'Anfrage 1',
        reason: 'Art. 15 request by letter, ticket 17',
      }),
    ]);
    expect(JSON.stringify(reads)).not.toContain(CUSTOMER);
  });

  it("exports the free-text labels sealed when the admins' label list came", async () => {
    // A free-text label from before the admins' label list, sealed at start, is part of the export.
    const sealed = sealField(await w.sparsam.keys.dataKeyFor('conversation', mine), JSON.stringify(['Rückruf Erika']), {
      table: 'conversations',
      rowId: mine,
      column: 'labels_legacy_enc',
    });
    await w.sparsam.store.db
      .updateTable('conversations')
      .set({ labels_legacy_enc: sealed })
      .where('id', '=', mine)
      .execute();
    const withLegacy = JSON.parse((await exportFor('+49 151 1234 5678')).body) as Bundle;
    expect(withLegacy.conversations[0]!.labels).toEqual(['Werkstatt', 'Rückruf Erika']);
  });

  it("exports exactly that person's data, decrypted, as valid JSON, and audits the export", async () => {
    const res = await exportFor('+49 151 1234 5678');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toContain('no-store');
    const bundle = JSON.parse(res.body) as Bundle;
    expect(bundle.format).toBe('sparsam.dsar.v1');
    expect(bundle.subject.address).toBe(CUSTOMER);
    expect(bundle.subject.profileName).toBe('Erika Mustermann');
    expect(bundle.subject.label).toBe('Anfrage 1');

    expect(bundle.conversations.map((c) => c.id)).toEqual([mine]);
    const conv = bundle.conversations[0]!;
    expect(conv.labels).toEqual(['Werkstatt']);

    expect(conv.state).toBe('open');
    const texts = conv.messages.map((m) => [m.direction, m.text]);
    expect(texts).toContainEqual(['in', 'Mein Auto macht Geräusche']);
    expect(texts).toContainEqual(['in', 'Kratzer an der Tür']);
    expect(texts).toContainEqual(['out', 'Kommen Sie Dienstag vorbei']);
    // The other customer's conversation and words are absent.
    expect(res.body).not.toContain('Herrn Fremd');
    expect(res.body).not.toContain(OTHER);
    expect(res.body).not.toContain(theirs);

    // The photo, as stored: a JPEG without its GPS position.
    expect(conv.media).toHaveLength(1);
    const photo = Buffer.from(conv.media[0]!.dataBase64!, 'base64');
    expect(photo.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(photo.length).toBe(conv.media[0]!.size);
    expect(photo.includes(Buffer.from('GPS'))).toBe(false);
    expect(conv.messages.find((m) => m.mediaId === conv.media[0]!.id)?.text).toBe('Kratzer an der Tür');

    expect(bundle.consent).toEqual([expect.objectContaining({ purpose: 'service', action: 'grant' })]);
    // Audit entries about the contact or its conversation (reads by staff, consent) are included.
    expect(bundle.audit.length).toBeGreaterThan(0);
    expect(bundle.audit.every((a) => a.targetId === mine || a.targetId === bundle.subject.contactId)).toBe(true);

    const audit = (await w.api('GET', '/api/v1/compliance/audit?action=dsar.export', undefined, w.dpoToken)).json()
      .items as { targetId: string; details: Record<string, unknown> }[];
    expect(audit).toHaveLength(1);
    expect(audit[0]!.targetId).toBe(bundle.subject.contactId);
    expect(audit[0]!.details).toMatchObject({ conversations: 1, media: 1, consentEvents: 1 });
    expect(JSON.stringify(audit)).not.toContain(CUSTOMER);
  });

  it('gives a readable HTML summary in German and in English', async () => {
    const de = await exportFor(CUSTOMER, w.dpoToken, { format: 'html', lang: 'de' });
    expect(de.statusCode).toBe(200);
    expect(de.headers['content-type']).toContain('text/html');
    expect(de.body).toContain('Auskunft nach Art. 15 DSGVO');
    expect(de.body).toContain('Mein Auto macht Geräusche');
    expect(de.body).not.toContain('Herrn Fremd');
    const en = await exportFor(CUSTOMER, w.dpoToken, { format: 'html', lang: 'en' });
    expect(en.body).toContain('Subject access (Art. 15 GDPR)');
    expect(en.body).toContain('from you');
  });

  it('words the summary for the customer: statuses, consent, counts, local times; opens inline', async () => {
    const de = await exportFor(CUSTOMER, w.dpoToken, { format: 'html', lang: 'de' });
    expect(de.headers['content-disposition']).toMatch(/^inline; filename="auskunft\.html"$/);
    const cells = [...de.body.matchAll(/<t[dh]>([^<]*)<\/t[dh]>/g)].map((m) => m[1]);
    expect(cells).toContain('empfangen');
    expect(cells).not.toContain('received');
    expect(de.body).toContain('Schaltfläche „Zustimmen“');
    expect(de.body).not.toContain('button:sparsam-consent-agree');
    expect(de.body).toContain('<th>Zweck</th><th>Vorgang</th><th>Art</th>');
    expect(de.body).not.toContain('<th></th>');
    expect(de.body).toContain('<p>1 Unterhaltung</p>');
    expect(de.body).not.toMatch(/\b1 Einträge\b/);
    // The organisation's zone (Europe/Berlin by default), not UTC.
    expect(de.body).not.toContain(' UTC');
    expect(de.body).toMatch(/\d{2}:\d{2}:\d{2} (MEZ|MESZ)/);
    const en = await exportFor(CUSTOMER, w.dpoToken, { format: 'html', lang: 'en' });
    expect(en.body).toContain('button &quot;Agree&quot;');
    expect(en.body).toContain('<p>1 conversation</p>');
    const bundle = JSON.parse((await exportFor(CUSTOMER)).body) as Bundle & {
      subject: { lastInboundAt: string; createdAt: string };
    };
    const inbound = bundle.conversations[0]!.messages.filter((m) => m.direction === 'in');
    expect(inbound.length).toBeGreaterThan(0);
    expect(bundle.subject.lastInboundAt).not.toBeNull();
    expect(Date.parse(bundle.subject.lastInboundAt)).toBeGreaterThanOrEqual(Date.parse(bundle.subject.createdAt));
  });

  it('admits only the dpo, and says clearly when nothing is held', async () => {
    expect((await exportFor(CUSTOMER, w.agentToken)).statusCode).toBe(403);
    expect((await exportFor(CUSTOMER, w.adminToken)).statusCode).toBe(403);
    expect((await exportFor(CUSTOMER, '')).statusCode).toBe(401);
    const unknown = await exportFor('491709999999');
    expect(unknown.statusCode).toBe(404);
    const failed = (await w.api('GET', '/api/v1/compliance/audit?action=dsar.export', undefined, w.dpoToken)).json()
      .items;
    expect(failed).toMatchObject([{ result: 'failed', targetId: 'wa-main', details: { found: false } }]);
    const noChannel = await w.api(
      'POST',
      '/api/v1/compliance/dsar/export',
      { channelId: 'no such', address: CUSTOMER, reason: 'Art. 15 request by letter, ticket 17' },
      w.dpoToken,
    );
    expect(noChannel.statusCode).toBe(404);
    const missing = await w.api('POST', '/api/v1/compliance/dsar/export', { channelId: 'wa-main' }, w.dpoToken);
    expect(missing.statusCode).toBe(400);
  });

  it('erases the person completely, leaves a receipt, and the other customer untouched', async () => {
    const before = await exportFor(CUSTOMER);
    const contactId = (JSON.parse(before.body) as Bundle).subject.contactId;
    const noReason = await w.api(
      'POST',
      '/api/v1/compliance/dsar/erase',
      { channelId: 'wa-main', address: CUSTOMER, reason: '' },
      w.dpoToken,
    );
    expect(noReason.statusCode).toBe(400);

    const events: unknown[] = [];
    const unsubscribe = w.sparsam.events.subscribe((e) => events.push(e));
    const res = await w.api(
      'POST',
      '/api/v1/compliance/dsar/erase',
      { channelId: 'wa-main', address: CUSTOMER, reason: 'Art. 17 request by letter, case 2026-17' },
      w.dpoToken,
    );
    expect(res.statusCode).toBe(200);
    const receipt = res.json().receipt as {
      targetId: string;
      alreadyErased: boolean;
      counts: Record<string, number>;
      auditSeq: number;
    };
    expect(receipt.targetId).toBe(contactId);
    expect(receipt.alreadyErased).toBe(false);
    expect(receipt.counts.conversations).toBe(1);
    expect(receipt.counts.media).toBe(1);
    expect(receipt.counts.keysDestroyed).toBeGreaterThanOrEqual(2);
    // Open inbox screens are told, so that the conversation disappears live.
    unsubscribe();
    expect(events).toContainEqual({ type: 'conversation.erased', inboxId: 'service', conversationId: mine });

    // Nothing findable any more: not by address, not in any table.
    expect((await exportFor(CUSTOMER)).statusCode).toBe(404);
    const db = w.sparsam.store.db;
    expect(await db.selectFrom('contacts').select('id').where('id', '=', contactId).execute()).toEqual([]);
    expect(await db.selectFrom('conversations').select('id').where('contact_id', '=', contactId).execute()).toEqual([]);
    expect(await db.selectFrom('messages').select('id').where('conversation_id', '=', mine).execute()).toEqual([]);
    expect(await db.selectFrom('media').select('id').where('conversation_id', '=', mine).execute()).toEqual([]);
    expect(await db.selectFrom('consent_events').select('id').where('contact_id', '=', contactId).execute()).toEqual(
      [],
    );
    expect(await w.sparsam.keys.existingDataKey('conversation', mine)).toBeUndefined();
    expect(await w.sparsam.keys.existingDataKey('contact', contactId)).toBeUndefined();

    const audit = (await w.api('GET', `/api/v1/compliance/audit?targetId=${contactId}`, undefined, w.dpoToken)).json()
      .items as { seq: number; action: string; details: Record<string, unknown> }[];
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['dsar.erase', 'contact.erased']));
    expect(audit.find((a) => a.action === 'contact.erased')!.seq).toBe(receipt.auditSeq);
    expect(JSON.stringify(audit)).not.toContain(CUSTOMER);

    // The other customer is still there.
    const other = await exportFor(OTHER);
    expect(other.statusCode).toBe(200);
    expect(other.body).toContain('Herrn Fremd');
    expect((await w.api('POST', '/api/v1/compliance/audit/verify', undefined, w.dpoToken)).json().ok).toBe(true);
  });

  it('erases the contact with its last conversation on close; the export afterwards finds nothing', async () => {
    const contactId = (JSON.parse((await exportFor(CUSTOMER)).body) as Bundle).subject.contactId;
    const closed = await w.api('POST', `/api/v1/conversations/${mine}/close`, undefined, w.adminToken);
    expect(closed.statusCode).toBe(200);
    expect(closed.json().conversation.erased).toBe(true);
    // Nothing about that number is held any more: the subject access export says so.
    const after = await exportFor(CUSTOMER);
    expect(after.statusCode).toBe(404);
    expect(after.body).not.toContain('Erika');
    const db = w.sparsam.store.db;
    expect(await db.selectFrom('contacts').select('id').where('id', '=', contactId).execute()).toEqual([]);
    expect(await w.sparsam.keys.existingDataKey('contact', contactId)).toBeUndefined();
    // The consent proof stays, content-free and only for its keeping period.
    const proof = await db.selectFrom('consent_events').selectAll().where('contact_id', '=', contactId).execute();
    expect(proof.length).toBeGreaterThan(0);
    for (const entry of proof) {
      expect(entry).toMatchObject({ evidence_message_id: null, evidence_enc: null, purpose: 'service' });
      expect(entry.notice_version).toMatch(/^[0-9a-f]{16,}/);
      expect(Number(entry.proof_until)).toBeGreaterThan(w.clock.now().getTime() + 3 * 364 * 86_400_000);
    }
    const audit = (await w.api('GET', `/api/v1/compliance/audit?targetId=${contactId}`, undefined, w.dpoToken)).json()
      .items as { action: string; details: Record<string, unknown> }[];
    expect(audit.find((a) => a.action === 'contact.erased')?.details).toMatchObject({ reason: 'closed' });
    // The other customer is untouched.
    expect((await exportFor(OTHER)).statusCode).toBe(200);
    // After the keeping period the retention sweep removes the proof as well.
    w.clock.advance(3 * 366 * 86_400_000);
    expect((await w.sparsam.retention.sweep()).consentProofsExpired).toBe(proof.length);
    expect(await db.selectFrom('consent_events').select('id').where('contact_id', '=', contactId).execute()).toEqual(
      [],
    );
  });

  it('lets the dpo correct an internal note, audited without the text', async () => {
    const note = await w.api(
      'POST',
      `/api/v1/conversations/${mine}/notes`,
      { text: 'Kunde wirkt verärgert' },
      w.agentToken,
    );
    expect(note.statusCode).toBe(201);
    const noteId = note.json().note.id as string;
    expect(
      (await call(w, 'PUT', `/api/v1/compliance/notes/${noteId}`, { text: 'Korrigiert' }, w.agentToken)).statusCode,
    ).toBe(403);
    const res = await call(
      w,
      'PUT',
      `/api/v1/compliance/notes/${noteId}`,
      { text: 'Kunde bittet um Rückruf' },
      w.dpoToken,
    );
    expect(res.statusCode).toBe(200);
    const detail = (await w.api('GET', `/api/v1/conversations/${mine}`)).json() as {
      messages: { id: string; text: string }[];
    };
    expect(detail.messages.find((m) => m.id === noteId)?.text).toBe('Kunde bittet um Rückruf');
    expect(JSON.stringify(detail)).not.toContain('verärgert');
    const audit = (await w.api('GET', '/api/v1/compliance/audit?action=note.rectified', undefined, w.dpoToken)).json()
      .items;
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain('Rückruf');
    expect((await call(w, 'PUT', `/api/v1/compliance/notes/${mine}`, { text: 'x' }, w.dpoToken)).statusCode).toBe(404);
  });
});
